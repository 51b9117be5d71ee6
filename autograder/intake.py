"""Intake: read a submission within limits, rebuild it from the instructor's notebook, scan its answers.

A submitted notebook is not trusted, from its first byte. :func:`read_submission` refuses, with one
line that names the problem and before any JSON parser sees the file, a file over
:data:`MAX_NOTEBOOK_BYTES`, JSON nested deeper than :data:`MAX_JSON_DEPTH` (a byte scan: Python's
parser would recurse once per level and die of ``RecursionError``), more than :data:`MAX_CELLS`
cells, or a cell source over :data:`MAX_CELL_CHARS`; any other way of being unreadable (not UTF-8,
not JSON, not a notebook, a ``RecursionError`` or ``MemoryError`` on the way) is a
:class:`SubmissionError` as well, never a traceback.

Of the notebook only the **answer cells** are taken, matched by their nbgrader ``grade_id``; the
structure (which ids exist, which are answers, their points, the provided code, the test cells,
metadata, kernelspec) is the instructor's source notebook's. A test cell the student edited, a
hidden test deleted, a fake output, a changed point value, a forged ``grade_id`` or an extra graded
cell therefore count for nothing (:func:`answer_copies` notes them for the instructor). An answer
cell that appears several times (what Jupyter's copy and paste of a cell gives: the copy keeps the
``grade_id``) runs **every copy, in notebook order**, as Run All would, and is noted for review. An
answer cell whose nbgrader metadata is missing or unreadable is found by its cell id when that is
the instructor's. :func:`restructure` writes the same rebuild as a notebook for nbgrader's
``autograde`` (:class:`autograder.nbgrader_plugin.InstructorStructure`).

The answer cells are then read (not run) for constructs a homework answer has no business with:
what the homework forbids (autograd in homework 2, torch.optim's optimizers in homework 3) and what
only an attack needs (``ctypes``, sockets, ``os.kill``, computed ``getattr``, ``gc``/``inspect``
introspection, IPython hooks, ``sys.modules`` surgery, …). Each finding scores its task 0 and puts
the submission on the review list with the reason; an instructor decides the rest.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.reader import get_version

from .checks.forbidden import Rule, chains
from .checks.source_scan import message as forbidden_message

__all__ = [
    "MAX_CELLS",
    "MAX_CELL_CHARS",
    "MAX_COPIES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "MAX_NOTEBOOK_BYTES",
    "Intake",
    "SubmissionError",
    "answer_cells",
    "answer_copies",
    "forbidden_use",
    "parse_notebook",
    "read_submission",
    "restructure",
    "scan_cell",
]

MiB = 1 << 20
#: a notebook with plots in its outputs is a few MiB; the homework's own are under 100 KiB
MAX_NOTEBOOK_BYTES = 20 * MiB
#: a notebook is about 8 levels deep (notebook, cells, cell, metadata, nbgrader, …); rich outputs
#: add a few. Deeper is a crafted file, and the JSON parser recurses once per level.
MAX_JSON_DEPTH = 64
#: strings, numbers, lists and objects in the file: a homework with its outputs holds a few
#: thousand; 20 MiB of ``[],`` would be 7 million lists, a gigabyte once parsed
MAX_JSON_VALUES = 1_000_000
#: the homeworks have about 40 cells; a student's scratch cells add some
MAX_CELLS = 2000
#: characters of one cell's source (an answer is a few KiB)
MAX_CELL_CHARS = 1 * MiB
#: copies of one answer cell that run (the last ones, in notebook order); more is a note
MAX_COPIES = 20
#: notes kept per submission; the rest is counted in the last one
MAX_NOTES = 20

_BOM = b"\xef\xbb\xbf"
# a JSON string (escapes included) or a bracket: brackets inside strings do not nest anything
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class SubmissionError(ValueError):
    """The submitted file cannot be read as a notebook; the message says why, in one line."""


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"


def _json_shape(data: bytes, limit: int) -> tuple[int, int]:
    """``(depth, values)`` of the JSON text ``data``, by a scan of its bytes, no parser.

    The strings are cut out (C speed), the brackets kept, and the depth counted, stopping at the
    first level over ``limit`` (the depth returned is then ``limit + 1``). The values (strings,
    numbers, lists, objects) are counted from the separators: one per comma and per colon outside
    strings, and one per list or object. Malformed JSON is scanned the same way; the parser says
    what else is wrong with it.
    """
    stripped = _JSON_STRING.sub(b"", data)
    brackets = stripped.translate(None, _NOT_BRACKETS)
    values = stripped.count(b",") + stripped.count(b":") + len(brackets) // 2 + 1
    depth = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return depth, values
        else:
            depth -= 1
    return 0, values


def parse_notebook(data: bytes) -> nbformat.NotebookNode:
    """The notebook in ``data`` as nbformat 4, or :class:`SubmissionError` with the reason.

    The limits (:data:`MAX_NOTEBOOK_BYTES`, :data:`MAX_JSON_DEPTH`, :data:`MAX_JSON_VALUES`,
    :data:`MAX_CELLS`, :data:`MAX_CELL_CHARS`) are checked before the parser could be made to
    recurse, or to allocate a gigabyte for 20 MiB of text. The notebook is not validated
    against nbformat's schema (Jupyter opens notebooks that fail it, and so does the rebuild,
    which takes only well-formed answer cells). The reasons are those ``collect`` reports: "empty
    file", "not UTF-8 …", "not JSON …", "not a notebook …", "too large …", "nested deeper than …",
    "too many JSON values …", "too many cells …".
    """
    try:
        return _parse(data)
    except (RecursionError, MemoryError) as err:  # the limits should make these impossible
        raise SubmissionError(f"not a notebook ({type(err).__name__} while reading it)") from None


def _parse(data: bytes) -> nbformat.NotebookNode:
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(
            f"too large ({_size(len(data))}, over the {_size(MAX_NOTEBOOK_BYTES)} cap of a notebook;"
            " clear the outputs and save it again)"
        )
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise SubmissionError("empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:64]:
            raise SubmissionError(
                "not UTF-8 (UTF-16 text? save the notebook from Jupyter)"
            ) from None
        raise SubmissionError("not UTF-8 (binary data, not a notebook)") from None
    depth, values = _json_shape(data, MAX_JSON_DEPTH)
    if depth > MAX_JSON_DEPTH:
        raise SubmissionError(
            f"nested deeper than {MAX_JSON_DEPTH} levels (a notebook is about 8 deep): "
            "crafted, not written by Jupyter"
        )
    if values > MAX_JSON_VALUES:
        raise SubmissionError(
            f"too many JSON values (about {values}, over the cap of {MAX_JSON_VALUES}; "
            "clear the outputs and save it again)"
        )
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise SubmissionError(
            f"not JSON ({err.msg} at line {err.lineno}, column {err.colno}; truncated?)"
        ) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("nbformat"), int):
        raise SubmissionError("not a notebook (JSON without an 'nbformat' version)")
    if isinstance(obj.get("cells"), list) and len(obj["cells"]) > MAX_CELLS:
        raise SubmissionError(f"too many cells ({len(obj['cells'])}, over the cap of {MAX_CELLS})")
    try:
        major, minor = get_version(obj)
        if major not in nbformat.versions:
            raise SubmissionError(f"not a notebook (nbformat version {major} does not exist)")
        nb = nbformat.convert(nbformat.versions[major].to_notebook_json(obj, minor=minor), 4)
    except SubmissionError:
        raise
    except Exception as err:  # nbformat raises key, type, version and conversion errors
        first = str(err).splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise SubmissionError(f"not a notebook ({first})") from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError("not a notebook (its 'cells' is not a list)")
    if len(cells) > MAX_CELLS:
        raise SubmissionError(f"too many cells ({len(cells)}, over the cap of {MAX_CELLS})")
    for number, cell in enumerate(cells, 1):
        source = cell.get("source") if isinstance(cell, dict) else None
        if isinstance(source, str) and len(source) > MAX_CELL_CHARS:
            raise SubmissionError(
                f"cell {number} holds {len(source)} characters, over the cap of {MAX_CELL_CHARS}"
            )
    return nb


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, or :class:`SubmissionError` naming the problem (never a traceback).

    The file is read only up to the size cap, and parsed by :func:`parse_notebook`; the message is
    ``"<file name>: not a readable notebook: <reason>"``.
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError:
        raise SubmissionError(f"{path.name}: no such file") from None
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionError(f"{path.name}: not a regular file")
    try:
        if info.st_size > MAX_NOTEBOOK_BYTES:  # refused before a byte is read
            raise SubmissionError(
                f"too large ({_size(info.st_size)}, over the {_size(MAX_NOTEBOOK_BYTES)} cap "
                "of a notebook; clear the outputs and save it again)"
            )
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_NOTEBOOK_BYTES + 1)
        except OSError as err:
            raise SubmissionError(f"unreadable file ({err.strerror or err})") from None
        return parse_notebook(data)
    except SubmissionError as err:
        raise SubmissionError(f"{path.name}: not a readable notebook: {err}") from None


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
# The instructor's structure, and the student's answers in it
# ---------------------------------------------------------------------------------------------------

# the nbgrader flags compared with the instructor's: an edit of one of them is noted
_FLAGS = ("grade", "solution", "locked", "points")


def _shown(grade_id: str) -> str:
    """A student-supplied id, safe and short for a one-line note."""
    return repr(grade_id[:40] + ("…" if len(grade_id) > 40 else ""))


def _claimed_id(cell: dict) -> str | None:
    """The grade_id a submitted cell claims (its nbgrader metadata, or a copy mark), or None."""
    meta = cell.get("metadata")
    if not isinstance(meta, dict):
        return None
    nbgrader = meta.get("nbgrader")
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    if isinstance(grade_id, str) and grade_id:
        return grade_id
    mark = meta.get("dlhw")
    copy_of = mark.get("copy_of") if isinstance(mark, dict) else None
    return copy_of if isinstance(copy_of, str) and copy_of else None


def _flags(meta) -> dict:
    if not isinstance(meta, dict):
        return {}
    flags = {key: meta.get(key) for key in _FLAGS if key in meta}
    flags = {key: bool(value) if key != "points" else value for key, value in flags.items()}
    if "points" in flags:
        try:
            flags["points"] = float(flags["points"])
        except (TypeError, ValueError):
            pass
    return flags


def _edits(theirs, ours: dict) -> str:
    """The instructor's nbgrader flags the submitted cell's metadata changes, as ``key: a, not b``."""
    if not isinstance(theirs, dict):
        return ""
    mine, given = _flags(ours), _flags(theirs)
    if "points" not in mine:
        mine["points"] = None
        given.setdefault("points", None)
    changed = [
        f"{key}: {given.get(key)!r:.20}, not {mine.get(key)!r}"
        for key in _FLAGS
        if key in given and given.get(key) != mine.get(key)
    ]
    return "; ".join(changed)


def _kind(cell) -> str:
    meta = _nbgrader(cell)
    return "test" if meta.get("grade") else "provided" if meta.get("locked") else "nbgrader"


def answer_copies(source_nb, submitted_nb) -> tuple[dict[str, list], list[str]]:
    """The submitted cells that answer each of the instructor's answer cells, and notes on the rest.

    Returns ``({grade_id: [cell, …]}, notes)``: for each answer cell of ``source_nb`` (nbgrader
    ``solution: true``), the submitted cells of its cell type that claim its ``grade_id``, in
    notebook order (several when it was copied in Jupyter: every copy runs); an answer cell whose
    nbgrader metadata is gone or unreadable is found by its cell id when that is the instructor's
    and no other cell claims the grade_id. A cell marked ``metadata.dlhw.copy_of`` (how
    :func:`restructure` writes the earlier copies) is a copy too. Nothing else of the submission
    counts: a cell claiming the id of a test or provided cell, an id the assignment does not have,
    edited points or flags, are ignored and noted (one line each) for the instructor's review.
    """
    instructor = {}
    for cell in source_nb.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if isinstance(grade_id, str):
            instructor.setdefault(grade_id, cell)
    answers = {g for g, cell in instructor.items() if _nbgrader(cell).get("solution")}
    by_cell_id = {
        cell.get("id"): g for g, cell in instructor.items() if g in answers and cell.get("id")
    }
    cells = submitted_nb.get("cells") if isinstance(submitted_nb, dict) else None
    cells = [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []
    claimed = {_claimed_id(cell) for cell in cells}

    copies: dict[str, list] = {g: [] for g in answers}
    claims: Counter[str] = Counter()
    unknown: list[str] = []
    notes: list[str] = []
    for cell in cells:
        grade_id = _claimed_id(cell)
        if grade_id is None:
            cell_id = cell.get("id")
            grade_id = by_cell_id.get(cell_id) if isinstance(cell_id, str) else None
            if grade_id is None or grade_id in claimed:
                continue  # a cell of the student's own, or the instructor's unmarked text
            claimed.add(grade_id)
            notes.append(
                f"{grade_id}: its nbgrader metadata is missing or unreadable; found by its cell id"
            )
        meta = cell.get("metadata")
        theirs = meta.get("nbgrader") if isinstance(meta, dict) else None
        if grade_id in instructor:
            edits = _edits(theirs, _nbgrader(instructor[grade_id]))
            if edits:
                notes.append(
                    f"{grade_id}: nbgrader metadata edited ({edits}); the assignment's counts"
                )
        if grade_id in answers:
            want = instructor[grade_id].cell_type
            if cell.get("cell_type") != want:
                notes.append(
                    f"{grade_id}: a cell with this answer's id is a {str(cell.get('cell_type'))!r:.20}"
                    f" cell, not a {want} cell: not used"
                )
            elif not isinstance(cell.get("source"), str):
                notes.append(f"{grade_id}: a cell with this answer's id has no readable source")
            else:
                copies[grade_id].append(cell)
        elif grade_id in instructor:
            claims[grade_id] += 1
        else:
            unknown.append(grade_id)

    for grade_id, number in claims.items():
        if number > 1:
            notes.append(
                f"{grade_id}: {number} cells claim the id of this {_kind(instructor[grade_id])} cell"
                " (a copy, or a forged id); only the assignment's own counts"
            )
    if unknown:
        shown = ", ".join(_shown(g) for g in list(dict.fromkeys(unknown))[:5])
        more = f" and {len(set(unknown)) - 5} more" if len(set(unknown)) > 5 else ""
        notes.append(f"cells with grade ids the assignment does not have ({shown}{more}): ignored")
    for grade_id in [g for g in copies if len(copies[g]) > 1]:
        number = len(copies[grade_id])
        notes.append(
            f"{grade_id}: the answer cell appears {number} times (copied in Jupyter?); "
            + (
                f"all {number} copies ran, in notebook order"
                if number <= MAX_COPIES
                else f"the last {MAX_COPIES} ran, in notebook order"
            )
        )
        copies[grade_id] = copies[grade_id][-MAX_COPIES:]
    return {g: c for g, c in copies.items() if c}, notes


def _carried_notes(nb) -> list[str]:
    """The notes :func:`restructure` left in a notebook's metadata (one line each, bounded)."""
    meta = nb.get("metadata") if isinstance(nb, dict) else None
    mark = meta.get("dlhw") if isinstance(meta, dict) else None
    notes = mark.get("notes") if isinstance(mark, dict) else None
    if not isinstance(notes, list):
        return []
    lines = [" ".join(n.split())[:300] for n in notes if isinstance(n, str) and n.strip()]
    return lines[:MAX_NOTES]


def _bounded(notes: list[str]) -> list[str]:
    notes = list(dict.fromkeys(notes))  # each once, in order
    if len(notes) > MAX_NOTES:
        notes = [*notes[: MAX_NOTES - 1], f"and {len(notes) - MAX_NOTES + 1} more notes"]
    return notes


def _attachments(cells: list) -> dict | None:
    """The markdown attachments (pasted images) of ``cells``, where they are well formed."""
    merged = {}
    for cell in cells:
        found = cell.get("attachments")
        if not isinstance(found, dict):
            continue
        for name, bundle in found.items():
            if isinstance(bundle, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in bundle.items()
            ):
                merged[name] = bundle
    return merged or None


def restructure(source_nb, submitted_nb) -> tuple[nbformat.NotebookNode, list[str]]:
    """The instructor's notebook with the student's answers in it, and the notes on the way.

    Every cell, its id, type and nbgrader metadata (points, locked, checksum) and the notebook's
    metadata are ``source_nb``'s; an answer cell takes the source of the submitted cell that
    answers it (:func:`answer_copies`), outputs cleared. Where an answer code cell was copied, the
    earlier copies come first as plain code cells marked ``metadata.dlhw.copy_of`` (nbgrader sees
    one cell per grade_id; :meth:`Intake.rebuild` runs them all, in order); copies of a written
    (markdown) answer are joined. An answer the submission lacks is left out, as nbgrader leaves out
    a deleted cell (the instructor's solution must never stand in for it). The notes are in
    ``metadata.dlhw.notes`` too, for :meth:`Intake.rebuild` to pass on. ``submitted_nb`` is not
    changed.
    """
    copies, notes = answer_copies(source_nb, submitted_nb)
    rebuilt = nbformat.v4.new_notebook(metadata=copy.deepcopy(source_nb.metadata))
    rebuilt.nbformat_minor = max(source_nb.get("nbformat_minor", 5), 5)
    ids = {cell.get("id") for cell in source_nb.cells}
    for cell in source_nb.cells:
        meta = _nbgrader(cell)
        grade_id = meta.get("grade_id")
        if not meta.get("solution") or not isinstance(grade_id, str):
            rebuilt.cells.append(copy.deepcopy(cell))
            continue
        found = copies.get(grade_id)
        if not found:
            continue
        answer = copy.deepcopy(cell)
        if cell.cell_type == "code":
            base = str(cell.get("id") or "answer")[:40]
            for number, earlier in enumerate(found[:-1], 1):
                cell_id, again = f"{base}-copy-{number}", 0
                while cell_id in ids:  # unique, within nbformat's 64 characters
                    again += 1
                    cell_id = f"{base}-copy-{number}-{again}"
                ids.add(cell_id)
                rebuilt.cells.append(
                    nbformat.v4.new_code_cell(
                        earlier["source"], id=cell_id, metadata={"dlhw": {"copy_of": grade_id}}
                    )
                )
            answer.source = found[-1]["source"]
            answer.outputs = []
            answer.execution_count = None
        else:
            answer.source = "\n\n---\n\n".join(c["source"] for c in found)
            attachments = _attachments(found)
            answer.pop("attachments", None)
            if attachments and cell.cell_type in ("markdown", "raw"):
                answer.attachments = attachments
        rebuilt.cells.append(answer)
    notes = _bounded(notes)
    if notes:
        rebuilt.metadata.setdefault("dlhw", {})["notes"] = notes
    return rebuilt, notes


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
    "__array_interface__",  # a numpy array over any address: raw memory
    "__array_struct__",
    "_construct_storage_from_data_pointer",  # a torch storage over any address
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
    try:
        tree = ast.parse(_without_magics(source))
    except SyntaxError as err:
        return [*reasons, f"line {err.lineno}: a syntax error ({err.msg})"]
    except (RecursionError, MemoryError) as err:  # thousands of nested operators: crafted
        return [*reasons, f"the cell is nested too deeply to be read ({type(err).__name__})"]
    try:
        return _scan_tree(tree, rules, reasons)
    except (RecursionError, MemoryError) as err:
        return [*reasons, f"the cell is nested too deeply to be read ({type(err).__name__})"]


def _without_magics(source: str) -> str:
    """The cell with its IPython magic and shell lines (``%``, ``!``) blanked: Python to parse."""
    lines = source.splitlines()
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def forbidden_use(source: str, rules: tuple[Rule, ...]) -> str | None:
    """The first use in an answer cell's text of what ``rules`` forbid, worded as the notebook's own
    scan words it (``autograder/checks/source_scan.py``), else None."""
    if not rules:
        return None
    try:
        for chain, line in chains(ast.parse(_without_magics(source))):
            for rule in rules:
                if rule.matches(chain):
                    return forbidden_message(rule, chain, f"line {line} of the answer cell")
    except (SyntaxError, RecursionError, MemoryError):  # scan_cell says why, for the review
        return None
    return None


def _scan_tree(tree: ast.AST, rules: tuple[Rule, ...], reasons: list[str]) -> list[str]:

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
    """What grading runs: the cells in notebook order, and what intake found on the way.

    ``notes`` are one-line observations for the instructor's review list that cost no points: an
    answer cell that appears several times (all copies ran), a forged or unknown grade_id, edited
    nbgrader metadata, an answer found by its cell id.
    """

    cells: list[dict[str, str]]  # {"grade_id", "source"}: provided and answer cells, in order
    missing: list[str] = field(default_factory=list)  # answer cells the submission lacks
    flagged: dict[str, list[str]] = field(default_factory=dict)  # answer cell -> reasons
    forbidden: dict[str, str] = field(default_factory=dict)  # answer cell -> its forbidden use
    notes: list[str] = field(default_factory=list)  # for the review list; no points lost

    @classmethod
    def rebuild(
        cls, source_nb, submitted_nb, rules: dict[str, tuple[Rule, ...]] | None = None
    ) -> Intake:
        """Provided cells from ``source_nb``, answer cells from ``submitted_nb`` by grade_id.

        Each copy of an answer cell is a cell of its own, in notebook order (:func:`answer_copies`);
        each copy is scanned. The notes :func:`restructure` left in ``submitted_nb``'s metadata
        are kept (a student who writes some there only adds lines to their own review).
        ``rules``: what each answer cell (by grade_id) may not use, besides the attacks.
        """
        rules = rules or {}
        answers, notes = answer_copies(source_nb, submitted_nb)
        provided = provided_cells(source_nb)
        intake = cls(cells=[], notes=_bounded([*_carried_notes(submitted_nb), *notes]))
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
                found = answers[grade_id]
                reasons = []
                for number, answer in enumerate(found, 1):
                    intake.cells.append({"grade_id": grade_id, "source": answer["source"]})
                    copy_reasons = scan_cell(answer["source"], rules.get(grade_id, ()))
                    use = forbidden_use(answer["source"], rules.get(grade_id, ()))
                    if use is not None:
                        intake.forbidden.setdefault(grade_id, use)
                    if len(found) > 1:
                        copy_reasons = [f"copy {number} of {len(found)}, {r}" for r in copy_reasons]
                    reasons += copy_reasons
                if reasons:
                    intake.flagged[grade_id] = reasons
        return intake
