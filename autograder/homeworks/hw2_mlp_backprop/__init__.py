"""Homework 2, everything particular to it (see ``autograder/registry.py``)."""
