"""Catalogues of plausible wrong implementations, one module per homework.

Each module's ``MUTANTS`` maps a graded task's name to ``{mutant name: function}``; the tests prove that
every mutant fails its task's check (``tests/test_grading_hw*.py``) and report the mutation score.
"""
