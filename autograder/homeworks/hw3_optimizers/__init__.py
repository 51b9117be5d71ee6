"""Homework 3, everything particular to it (see ``autograder/registry.py``)."""
