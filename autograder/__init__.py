"""The instructor's side of the homeworks: notebook builds, grading checks and their mutation tests.

- ``autograder.build``: generates the nbgrader source notebooks in ``assignments/`` from ``solutions/``
  and the specs in ``autograder/notebooks/`` (``make notebooks``).
- ``autograder.checks``: the hidden checks the notebooks' hidden test blocks call (never released).
- ``autograder.mutants``: plausible wrong implementations every check must fail.
"""
