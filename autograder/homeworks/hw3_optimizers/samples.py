"""Homework 3's sample submissions for the demo and the end-to-end tests (``autograder/samples.py``):
one plausible bug per answer cell listed, and the cell the demo's attacks go into."""

from autograder.cells import Mutant

MUTANTS = [
    Mutant(
        "mutant_adam_no_correction",
        "Adam",
        "m_hat = m / (1 - beta1**t)",
        "m_hat = m",
        2,
    ),
    Mutant(
        "mutant_warmup_off_by_one",
        "linear_warmup",
        "min(step, warmup_steps) / warmup_steps",
        "min(step + 1, warmup_steps) / warmup_steps",
        1,
    ),
]

# the answer cell the attacks go into: a task that no other task's answer calls
ATTACKED_CELL = "step_decay"
