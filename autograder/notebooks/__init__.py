"""Specs of the homework notebooks: the markdown, the cells, the tasks (see ``autograder.build``)."""
