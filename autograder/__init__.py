"""The instructor's side of the homeworks: notebook builds, grading checks and their mutation tests.

- ``autograder.build``: generates the nbgrader source notebooks in ``assignments/`` from ``solutions/``
  and the specs in ``autograder/homeworks/*/spec.py`` (``make notebooks``).
- ``autograder.checks``: the hidden checks the notebooks' hidden test blocks call (never released):
  inputs and judges, run by the grader outside the sandbox.
- ``autograder.probes``: each check's middle step, the one that runs student code; with
  ``autograder.probe`` the only grading code the sandbox holds (``autograder.probe.SANDBOX_FILES``).
- ``autograder.mutants``: plausible wrong implementations every check must fail.

This file is imported first inside the sandbox too: it imports nothing.
"""
