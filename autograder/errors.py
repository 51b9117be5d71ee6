"""The command line's errors: a problem the user can fix is one line, ``error: ...``, exit status 2.

:class:`UserError` is the base class of every error about the input: the command line's own (a bad
argument, an unknown assignment, nothing graded yet, a folder that does not exist) and the library's
(``CourseError``: a course folder that is not one; ``CollectError``: a bad zip; ``ReportError``: a
gradebook that cannot be read; ``SandboxUnavailable``: no sandbox here; ``BatchBusy``,
``SchedulerUnreachable``). :func:`one_line` makes any message one line.
"""

from __future__ import annotations

__all__ = ["EXIT_USER_ERROR", "UserError", "one_line"]

EXIT_USER_ERROR = 2  # argparse's status for a bad command line, and ours for any user error


class UserError(Exception):
    """A problem the user can fix; ``python -m autograder`` prints ``error: <one line>`` and exits 2."""


def one_line(text: object, limit: int = 1000) -> str:
    """``text`` as one line: its lines joined, runs of spaces squashed, at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def last_line(traceback_text: str | None) -> str:
    """The exception's line of a formatted traceback (``Type: message``), for a one-line error."""
    lines = [line.strip() for line in str(traceback_text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"
