"""Homework 4, everything particular to it (see ``autograder/registry.py``)."""
