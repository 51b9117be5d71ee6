"""Catalogues of *correct* answers written differently from the reference, one module per homework.

Each module's ``VARIANTS`` maps a graded task's name to a list of functions (or classes, where the task
is a class) a student could plausibly write and that are right: loops instead of matrix products, numpy
inside, float64 inside then cast back, another valid formula, another order of operations. The tests
prove that every one passes its task's check on 100 seeds (``tests/test_grading.py``): a check that
fails one grades a correct answer wrong. The mutants (``autograder/mutants/``) prove the other side.

Like the mutants, these never reach the sandbox or a release.
"""
