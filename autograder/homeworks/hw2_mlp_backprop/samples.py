"""Homework 2's sample submissions for the demo and the end-to-end tests (``autograder/samples.py``):
one plausible bug per answer cell listed, and the cell the demo's attacks go into."""

from autograder.cells import Mutant

MUTANTS = [
    Mutant("mutant_mlp_ascent", "MLPRegressor", "p -= lr * g", "p += lr * g", 3),
    Mutant(
        "mutant_relu_in_place",
        "ReLU",
        "self.out = x.clamp(min=0)",
        "self.out = x.clamp_(min=0)",
        1,
    ),
]

# the answer cell the attacks go into: a task that no other task's answer calls
ATTACKED_CELL = "MLPRegressor"
