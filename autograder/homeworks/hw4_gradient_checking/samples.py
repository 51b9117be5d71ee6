"""Homework 4's sample submissions for the demo and the end-to-end tests (``autograder/samples.py``):
one plausible bug per answer cell listed, and the cell the demo's attacks go into."""

from autograder.cells import Mutant

MUTANTS = [
    Mutant(
        "mutant_re_mean", "relative_error", "/ denominator).max())", "/ denominator).mean())", 1
    ),
    Mutant(
        "mutant_gc_atol_only",
        "gradcheck",
        "allowed = atol + rtol * numeric.abs()",
        "allowed = atol + 0 * numeric.abs()",
        3,
    ),
]

# the answer cell the attacks go into: a task that no other task's answer calls
ATTACKED_CELL = "gradcheck"
