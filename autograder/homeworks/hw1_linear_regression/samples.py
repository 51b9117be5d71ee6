"""Homework 1's sample submissions for the demo and the end-to-end tests (``autograder/samples.py``):
one plausible bug per answer cell listed, and the cell the demo's attacks go into."""

from autograder.cells import Mutant

MUTANTS = [
    Mutant("mutant_gd_sign", "gradient_descent", "w -= lr * grad", "w += lr * grad", 2),
    Mutant(
        "mutant_ne_ridge",
        "normal_equation",
        "A = X.T @ X ",
        "A = X.T @ X + torch.eye(d) ",
        1,
    ),
]

# the answer cell the attacks go into: a task that no other task's answer calls
ATTACKED_CELL = "normal_equation"
