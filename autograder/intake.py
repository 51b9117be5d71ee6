"""Intake: rebuild a submission from the instructor's notebook, and scan its answer cells.

A submitted notebook is not trusted. Of it only the **answer cells** are taken, matched by their
nbgrader ``grade_id``; everything else (the provided code, the test cells, metadata, kernelspec,
outputs) comes from the instructor's source notebook. A test cell the student edited, a hidden test
deleted, a fake output or a changed point value in the metadata therefore count for nothing.

The answer cells are then read (not run) for constructs a homework answer has no business with:
what the homework forbids (autograd in homework 2, torch.optim's optimizers in homework 3) and what
only an attack needs (``ctypes``, sockets, ``os.kill``, computed ``getattr``, ``gc``/``inspect``
introspection, IPython hooks, ``sys.modules`` surgery, …). Each finding scores its task 0 and puts
the submission on the review list with the reason; an instructor decides the rest.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .checks.forbidden import Rule, chains

__all__ = ["Intake", "SubmissionError", "answer_cells", "read_submission", "scan_cell"]


class SubmissionError(ValueError):
    """The submitted file cannot be read as a notebook; the message says why."""


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, or :class:`SubmissionError` naming the problem (never a traceback)."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path.name}: no such file")
    try:
        nb = nbformat.read(path, as_version=4)
    except UnicodeDecodeError:
        raise SubmissionError(f"{path.name}: not a text file (is it a notebook?)") from None
    except Exception as err:  # nbformat raises JSON, validation and version errors of many types
        first = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise SubmissionError(f"{path.name}: not a readable notebook ({first})") from None
    if not isinstance(nb.get("cells"), list):
        raise SubmissionError(f"{path.name}: a notebook without cells")
    return nb


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def answer_cells(nb) -> dict[str, str]:
    """``{grade_id: source}`` of the code answer cells (nbgrader ``solution: true``)."""
    answers = {}
    for cell in nb.get("cells", []):
        meta = _nbgrader(cell)
        source = cell.get("source", "")
        if (
            cell.get("cell_type") == "code"
            and meta.get("solution")
            and isinstance(meta.get("grade_id"), str)
            and isinstance(source, str)
        ):
            answers.setdefault(meta["grade_id"], source)
    return answers


def provided_cells(nb) -> dict[str, str]:
    """``{grade_id: source}`` of the instructor's locked, ungraded code cells (provided code)."""
    return {
        _nbgrader(c)["grade_id"]: c["source"]
        for c in nb.cells
        if c.cell_type == "code"
        and _nbgrader(c).get("locked")
        and not _nbgrader(c).get("grade")
        and not _nbgrader(c).get("solution")
    }


# ---------------------------------------------------------------------------------------------------
# The scan of an answer cell
# ---------------------------------------------------------------------------------------------------

# modules an answer never needs; importing one is enough to flag the cell
_SUSPICIOUS_MODULES = {
    "ctypes": "ctypes (raw memory access)",
    "socket": "sockets (the network)",
    "ssl": "the network",
    "urllib": "the network",
    "http": "the network",
    "requests": "the network",
    "subprocess": "running other programs",
    "multiprocessing": "starting processes",
    "signal": "signal handlers",
    "gc": "gc (reaching other objects through the garbage collector)",
    "inspect": "inspect (reading the grader's frames and source)",
    "importlib": "importlib (importing by a computed name)",
    "builtins": "builtins (replacing Python's own functions)",
    "IPython": "IPython (hooks into the kernel)",
    "autograder": "the grader's own modules",
    "solutions": "the reference solutions",
    "pickle": "pickle (code in data)",
    "marshal": "marshal (code in data)",
    "shutil": "file-system operations",
    "tempfile": "file-system operations",
    "pty": "a terminal",
    "resource": "resource limits",
    "threading": "threads",
    "sqlite3": "a database (the gradebook?)",
    "glob": "searching the file system",
    "pathlib": "the file system",
    "io": "files",
}
_SUSPICIOUS_CALLS = {
    "os.kill": "os.kill",
    "os.killpg": "os.killpg",
    "os._exit": "os._exit",
    "os.fork": "os.fork",
    "os.system": "os.system",
    "os.popen": "os.popen",
    "os.setsid": "os.setsid",
    "os.remove": "deleting files",
    "os.unlink": "deleting files",
    "os.chmod": "os.chmod",
    "os.listdir": "listing folders",
    "os.scandir": "listing folders",
    "os.walk": "listing folders",
    "os.environ": "the environment",
    "sys.exit": "sys.exit",
    "sys.modules": "sys.modules",
    "sys.settrace": "sys.settrace",
    "sys.setprofile": "sys.setprofile",
    "sys.meta_path": "sys.meta_path",
    "sys.path_hooks": "sys.path_hooks",
    "sys._getframe": "sys._getframe (reading the grader's frames)",
    "sys.stdout": "replacing sys.stdout",
    "sys.stderr": "replacing sys.stderr",
    "get_ipython": "get_ipython (hooks into the kernel)",
    "__import__": "__import__",
    "exec": "exec",
    "eval": "eval",
    "compile": "compile",
    "globals": "globals()",
    "breakpoint": "breakpoint",
    "open": "open (files: an answer needs none)",
}
# attributes that only introspection needs
_SUSPICIOUS_ATTRIBUTES = {
    "__globals__",
    "__subclasses__",
    "__builtins__",
    "__code__",
    "__closure__",
    "f_back",
    "f_locals",
    "f_globals",
    "gi_frame",
    "tb_frame",
    "__traceback__",
    "__dict__",
    "__class__",
    "__bases__",
    "__mro__",
}


def _imported(tree: ast.AST) -> list[tuple[str, int]]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append((node.module, node.lineno))
    return names


def scan_cell(source: str, rules: tuple[Rule, ...] = ()) -> list[str]:
    """The reasons an answer cell is flagged, one line each (empty: nothing found).

    ``rules``: what the homework forbids (``autograder.checks.forbidden``). IPython magics and shell
    escapes (``%``, ``!``) are flagged as such: an answer needs neither.
    """
    reasons = []
    lines = source.splitlines()
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith(("%", "!")):
            reasons.append(
                f"line {number}: an IPython magic or shell command ({line.strip()[:40]})"
            )
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        return [*reasons, f"line {err.lineno}: a syntax error ({err.msg})"]

    for module, line in _imported(tree):
        root = module.split(".")[0]
        if root in _SUSPICIOUS_MODULES:
            reasons.append(f"line {line}: imports {module}: {_SUSPICIOUS_MODULES[root]}")
    for chain, line in chains(tree):
        dotted = ".".join(chain)
        for rule in rules:
            if rule.matches(chain):
                reasons.append(f"line {line}: uses {rule.name} ({dotted.removesuffix('=')})")
        if dotted in _SUSPICIOUS_CALLS:
            reasons.append(f"line {line}: uses {_SUSPICIOUS_CALLS[dotted]}")
        elif any(part in _SUSPICIOUS_ATTRIBUTES for part in chain):
            attribute = next(p for p in chain if p in _SUSPICIOUS_ATTRIBUTES)
            reasons.append(f"line {line}: uses {attribute} (introspection)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            computed = any(not isinstance(a, ast.Constant) for a in node.args[1:2])
            if node.func.id in {"getattr", "setattr", "delattr"} and computed:
                reasons.append(f"line {node.lineno}: {node.func.id} with a computed name")
        if isinstance(node, ast.Global):
            reasons.append(f"line {node.lineno}: a global statement ({', '.join(node.names)})")
    return list(dict.fromkeys(reasons))  # each reason once, in order


# ---------------------------------------------------------------------------------------------------
# The rebuilt submission
# ---------------------------------------------------------------------------------------------------


@dataclass
class Intake:
    """What grading runs: the cells in notebook order, and what intake found on the way."""

    cells: list[dict[str, str]]  # {"grade_id", "source"}: provided and answer cells, in order
    missing: list[str] = field(default_factory=list)  # answer cells the submission lacks
    flagged: dict[str, list[str]] = field(default_factory=dict)  # answer cell -> reasons

    @classmethod
    def rebuild(
        cls, source_nb, submitted_nb, rules: dict[str, tuple[Rule, ...]] | None = None
    ) -> Intake:
        """Provided cells from ``source_nb``, answer cells from ``submitted_nb`` by grade_id.

        ``rules``: what each answer cell (by grade_id) may not use, besides the attacks.
        """
        rules = rules or {}
        answers = answer_cells(submitted_nb)
        provided = provided_cells(source_nb)
        intake = cls(cells=[])
        for cell in source_nb.cells:
            grade_id = _nbgrader(cell).get("grade_id")
            if cell.cell_type != "code" or grade_id is None:
                continue
            if grade_id in provided:
                intake.cells.append({"grade_id": grade_id, "source": provided[grade_id]})
            elif _nbgrader(cell).get("solution"):
                if grade_id not in answers:
                    intake.missing.append(grade_id)
                    continue
                intake.cells.append({"grade_id": grade_id, "source": answers[grade_id]})
                reasons = scan_cell(answers[grade_id], rules.get(grade_id, ()))
                if reasons:
                    intake.flagged[grade_id] = reasons
        return intake
