"""Homework 1, everything particular to it (see ``autograder/registry.py``)."""
