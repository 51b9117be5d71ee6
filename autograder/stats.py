"""Statistics of an assignment's grades (:class:`autograder.grades.AssignmentGrades`), for the report.

    counts(grades)         students, submissions, missing, full marks, zero, waiting for a grader,
                           mean and median total
    cell_stats(grades)     per cell: how many submissions have a score, how many are below the
                           cell's points, how many wait for a grader (*to grade*), the mean score
    hardest(grades)        the cells by mean score as a share of their points, lowest first
    failure_rates(grades)  per autograded cell: the share of scored submissions below its points
    fmt(x)                 a score as the CSVs and tables write it

A cell with no score yet (a written answer nobody has graded) is *to grade*: it is counted as such,
never as a failure and never in a mean.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .grades import AssignmentGrades, CellInfo

__all__ = [
    "CellStats",
    "Counts",
    "cell_stats",
    "counts",
    "failure_rates",
    "fmt",
    "full_marks",
    "hardest",
]


def fmt(x: float | None) -> str:
    """A score as written in the CSV: up to 4 decimals, no trailing zeros (1.0 -> "1"), None -> ""."""
    if x is None:
        return ""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def full_marks(score: float, max_score: float) -> bool:
    return score >= max_score - 1e-9


def failure_rates(grades: AssignmentGrades) -> dict[str, float]:
    """Per autograded cell (by column, notebook order): the fraction of submissions below its max.

    Only submissions whose cell has a score count (all of them once ``nbgrader autograde`` ran).
    A cell no submission has a score for is left out.
    """
    return {
        s.cell.column: s.failure_rate for s in cell_stats(grades) if s.cell.autograded and s.scored
    }


@dataclass(frozen=True)
class CellStats:
    """One cell over the submissions: ``scored`` have a score, ``below`` of them are below the
    cell's points, ``to_grade`` have none yet; ``mean`` is over the scored ones (None if none)."""

    cell: CellInfo
    scored: int
    below: int
    mean: float | None
    to_grade: int = 0

    @property
    def failure_rate(self) -> float:
        return self.below / self.scored

    @property
    def mean_fraction(self) -> float:
        if self.mean is None:
            raise ValueError(f"{self.cell.column} has no score yet")
        return self.mean / self.cell.max_score if self.cell.max_score else 1.0


def cell_stats(grades: AssignmentGrades) -> list[CellStats]:
    """Every cell that has a score or waits for one in some submission, in notebook order."""
    result = []
    for cell in grades.cells:
        scores = [r.scores[cell.column] for r in grades.submitted]
        scored = [s for s in scores if s is not None]
        waiting = len(scores) - len(scored)
        if not scored and not waiting:
            continue
        below = sum(not full_marks(s, cell.max_score) for s in scored)
        mean = statistics.fmean(scored) if scored else None
        result.append(CellStats(cell, len(scored), below, mean, waiting))
    return result


def hardest(grades: AssignmentGrades) -> list[CellStats]:
    """Cells with a score, by mean score as a fraction of their points (lowest first), then by
    failure rate. A cell nobody has graded yet is not among them (see ``CellStats.to_grade``)."""
    order = {c.column: i for i, c in enumerate(grades.cells)}
    return sorted(
        (s for s in cell_stats(grades) if s.scored),
        key=lambda s: (s.mean_fraction, -s.failure_rate, order[s.cell.column]),
    )


@dataclass(frozen=True)
class Counts:
    students: int
    submissions: int
    missing: int
    full_marks: int
    zero: int
    needs_manual_grade: int
    mean: float | None
    median: float | None


def counts(grades: AssignmentGrades) -> Counts:
    totals = grades.totals
    return Counts(
        students=len(grades.rows),
        submissions=len(grades.submitted),
        missing=len(grades.rows) - len(grades.submitted),
        full_marks=sum(full_marks(t, grades.max_score) for t in totals),
        zero=sum(t == 0 for t in totals),
        needs_manual_grade=sum(r.needs_manual_grade for r in grades.submitted),
        mean=statistics.fmean(totals) if totals else None,
        median=statistics.median(totals) if totals else None,
    )
