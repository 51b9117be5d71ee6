"""Collect: take the students' submitted notebooks into an nbgrader course directory, robustly.

``collect(source, course_root, assignment)`` reads a folder or a ``.zip`` file (an LMS export), finds
one notebook per student, checks it, and writes nbgrader's layout::

    <course_root>/submitted/<student>/<assignment>/<assignment>.ipynb
    <course_root>/submitted/<student>/<assignment>/timestamp.txt

``timestamp.txt`` holds the zip entry's date or the file's modification time (or ``now`` when given)
in UTC, in nbgrader's format (``2024-03-01 14:05:00.000000 UTC``, which
``CourseDirectory.get_existing_timestamp`` reads back). ``python -m autograder collect DIR ASSIGNMENT
SOURCE`` does the same from the command line and prints the report.

Layouts recognised (paths relative to the folder, or entry names inside the zip):

(a) a folder per student, the notebook anywhere below it::

        alice/hw1_linear_regression.ipynb        -> alice
        bob/my answers.ipynb                     -> bob
        carol/work/hw1_linear_regression.ipynb   -> carol

(b) flat files named after the student (the id ends at the first ``_``), or after the assignment
    followed by the student::

        alice.ipynb                              -> alice
        bob_hw1_linear_regression.ipynb          -> bob
        hw1_linear_regression_carol.ipynb        -> carol

(c) Moodle's "download all submissions": a folder per submission (or, in older Moodle versions or
    with "download submissions in folders" off, flat files with the same prefix); the student id
    is the numeric Moodle user id, and the full name goes to ``<course_root>/collected_students.csv``
    (``id,first_name,last_name,email``: the format ``nbgrader db student import`` reads)::

        Ada Lovelace_123456_assignsubmission_file_/hw1_linear_regression.ipynb   -> 123456
        Alan Turing_654321_assignsubmission_file_hw1.ipynb                       -> 654321

(d) Canvas's "download submissions": ``<login>_<userid>_<submissionid>_<original file name>``, with
    ``LATE`` after the login for a late submission (recorded in the report); the id is the login::

        lovelaceada_1234_567890_hw1_linear_regression.ipynb        -> lovelaceada
        turingalan_LATE_4321_98765_hw1_linear_regression-1.ipynb   -> turingalan (late)

A flat name is tried as Moodle's, then Canvas's, then as layout (b). When every notebook of a zip or
folder lies inside one common top-level folder, that folder is a wrapper, read as the root, if it
is named like the assignment (``hw1_linear_regression/alice.ipynb``), or holds the folders of two
students or more (``export/alice/…``, ``export/bob/…``), or holds only Moodle or Canvas file names.
Otherwise it is one student's folder (``alice/hw1_linear_regression.ipynb``, ``alice/work/…``,
``alice/hw1_linear_regression/hw1_linear_regression.ipynb``). The one case read wrongly: a wrapper
around a single student's folder (``export/alice/…`` alone) gives the student id ``export``.

Student ids are made safe folder names: accents are dropped, other characters outside
``[A-Za-z0-9_.-]`` become ``_``; an id that is empty, holds ``..``, starts with a dot, or holds a
path separator is refused and reported (``sanitize_student_id``).

Each notebook is checked (``notebook_problem``) as the grader will read it
(:func:`autograder.intake.parse_notebook`): UTF-8 JSON that ``nbformat`` reads as version 4, with
at least one cell, within the grader's limits (its size, nesting depth, number of cells and size of
a cell: a file nested 100 000 deep is refused by a byte scan, before a parser could recurse on it);
otherwise it is reported as malformed ("empty file", "not UTF-8", "not JSON", "not a notebook",
"too large", "nested deeper than …", "too many cells") and skipped. A bad file never aborts the
batch and never replaces a student's earlier good submission; every problem with one entry (a
folder, a file, a zip member) is one line of the report, and the entries after it are collected.
Of several notebooks of one student, the one named like the assignment
(``hw1_linear_regression.ipynb``, also ``…-1.ipynb`` or ``… (1).ipynb``) is taken, else the newest;
the report says which. Files that are not notebooks are counted and ignored.

A zip is never extracted to disk: its notebook entries are read in memory, each up to
``max_file_bytes`` (20 MiB, the grader's cap of a notebook; the read stops there whatever the
entry declares, so a zip bomb costs no more) and all together up to ``max_total_bytes`` (512 MiB);
at most :data:`MAX_ENTRIES` entries are looked at. Entries with an absolute path or ``..`` (zip
slip), symbolic links and paths more than :data:`MAX_DEPTH` folders deep are skipped and reported;
directories, ``__MACOSX/`` and dot-files (``.DS_Store``, ``.ipynb_checkpoints/``) are ignored. A
folder is read with the same caps, without following symbolic links, and not below
:data:`MAX_DEPTH` levels (a tree 1 200 levels deep is one line of the report). Zip entry dates
carry no time zone: they are taken as UTC.

Collecting the same file again is a no-op (``unchanged``: the notebook's bytes are equal, nothing is
written); a different file replaces the notebook and its timestamp (``updated``). Writes are
atomic (a temporary file, then a rename).
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import sys
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from .errors import UserError
from .intake import MAX_NOTEBOOK_BYTES, SubmissionError, parse_notebook

__all__ = [
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "MAX_FILE_BYTES",
    "MAX_TOTAL_BYTES",
    "NAMES_FILE",
    "STATUSES",
    "TIMESTAMP_FORMAT",
    "CollectError",
    "CollectReport",
    "ReportEntry",
    "collect",
    "format_timestamp",
    "notebook_problem",
    "sanitize_student_id",
]

MiB = 1 << 20
MAX_FILE_BYTES = MAX_NOTEBOOK_BYTES  # 20 MiB: a larger file would not be graded anyway
MAX_TOTAL_BYTES = 512 * MiB
#: folders below the source's root (an LMS export is 1-3 deep); deeper is reported, not read
MAX_DEPTH = 32
#: zip entries looked at (an export holds one or a few per student)
MAX_ENTRIES = 100_000
#: nbgrader's default ``Exchange.timestamp_format``; the zone is always UTC here.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
STATUSES = ("added", "updated", "unchanged", "malformed", "skipped")
#: the student names learnt from a Moodle export, in the CSV format of ``nbgrader db student import``
NAMES_FILE = "collected_students.csv"

_SAFE_ID = re.compile(r"[A-Za-z0-9_.-]+")
_MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_[A-Za-z]+_?$")
_MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_(?P<orig>.+)$")
_CANVAS_FILE = re.compile(
    r"^(?P<login>.+?)_(?:(?P<late>[Ll][Aa][Tt][Ee])_)?(?P<uid>\d+)_(?P<sid>\d+)_(?P<orig>.+)$"
)
_BOM = b"\xef\xbb\xbf"


class CollectError(UserError):
    """The batch cannot be collected at all (missing source, unreadable zip, bad course root)."""


class ReportEntry(NamedTuple):
    """One line of the report: ``student`` is empty for a zip or folder entry without a student."""

    student: str
    status: str
    detail: str


@dataclass
class CollectReport:
    """What ``collect`` did: one entry per student, plus the entries it skipped.

    ``late`` lists the students whose chosen submission Canvas marked late, ``names`` the full names
    a Moodle export gave (student id -> name), ``ignored`` counts the files that are not notebooks
    (and dot-files, ``__MACOSX/``).
    """

    source: str
    assignment: str
    entries: list[ReportEntry] = field(default_factory=list)
    ignored: int = 0
    late: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, student: str, status: str, detail: str) -> None:
        """Record one line; ``status`` is one of :data:`STATUSES`."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self.entries.append(ReportEntry(student, status, detail))

    def with_status(self, status: str) -> list[ReportEntry]:
        """The entries of one status, in the order they were recorded."""
        return [entry for entry in self.entries if entry.status == status]

    @property
    def added(self) -> list[ReportEntry]:
        return self.with_status("added")

    @property
    def updated(self) -> list[ReportEntry]:
        return self.with_status("updated")

    @property
    def unchanged(self) -> list[ReportEntry]:
        return self.with_status("unchanged")

    @property
    def malformed(self) -> list[ReportEntry]:
        return self.with_status("malformed")

    @property
    def skipped(self) -> list[ReportEntry]:
        return self.with_status("skipped")

    def status_of(self, student: str) -> str | None:
        """The status of a student's submission (the last one recorded), or None."""
        statuses = [entry.status for entry in self.entries if entry.student == student]
        return statuses[-1] if statuses else None

    def __str__(self) -> str:
        counts = ", ".join(f"{len(self.with_status(s))} {s}" for s in STATUSES)
        ignored = f"{self.ignored} other file{'' if self.ignored == 1 else 's'} ignored"
        lines = [f"collect {self.assignment} from {self.source}: {counts}; {ignored}"]
        width = max((len(entry.student) for entry in self.entries), default=0)
        for entry in self.entries:
            student = entry.student or "-"
            lines.append(f"  {entry.status:<9}  {student:<{width}}  {entry.detail}")
        if self.late:
            lines.append(f"late (Canvas): {', '.join(self.late)}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# checks


def sanitize_student_id(raw: str) -> str:
    """``raw`` as a safe folder name (``[A-Za-z0-9_.-]``), or ``ValueError`` saying why it cannot be.

    Accents are dropped (``José`` -> ``Jose``), whitespace and other characters become ``_``; an id
    with a path separator, ``..``, a leading dot, or nothing left is refused.
    """
    if any(ch in raw for ch in "/\\\x00"):
        raise ValueError(f"student id {raw!r} holds a path separator")
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text.strip()).strip("_")
    if not text:
        raise ValueError(f"student id {raw!r} has no usable characters")
    if ".." in text:
        raise ValueError(f"student id {raw!r} holds '..'")
    if text.startswith("."):
        raise ValueError(f"student id {raw!r} starts with a dot")
    if len(text) > 128:
        raise ValueError(f"student id {raw[:20]!r}… is longer than 128 characters")
    return text


def notebook_problem(data: bytes) -> str | None:
    """Why ``data`` is not a usable notebook ("empty file", "not UTF-8", …), or None when it is.

    The grader's own reading (:func:`autograder.intake.parse_notebook`, with its limits), and at
    least one cell.
    """
    try:
        nb = parse_notebook(data)
    except SubmissionError as err:
        return str(err)
    if not nb.cells:
        return "not a notebook (it has no cells)"
    return None


def _short(path: str, limit: int = 120) -> str:
    """A path as the report shows it: the start and the end of a very long one."""
    return path if len(path) <= limit else f"{path[: limit // 2]}…{path[-limit // 2 :]}"


def _what(err: BaseException) -> str:
    """An exception as a few words for the report: its type and the first line of its message."""
    first = str(err).strip().splitlines()[0][:150] if str(err).strip() else ""
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


def format_timestamp(when: datetime) -> str:
    """``when`` in UTC in nbgrader's timestamp format; a naive datetime is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


# ---------------------------------------------------------------------------------------------------
# reading the source


@dataclass
class _File:
    """A notebook file found in the source: its path parts, bytes and date."""

    parts: tuple[str, ...]
    data: bytes
    date: datetime

    @property
    def path(self) -> str:
        return "/".join(self.parts)


@dataclass
class _Reader:
    """Reads the notebook files of a folder or zip within the caps, recording what it skips."""

    report: CollectReport
    max_file_bytes: int
    max_total_bytes: int
    total: int = 0

    def _skip(self, path: str, why: str) -> None:
        self.report.add("", "skipped", f"{path}: {why}")

    def _admit(self, path: str, size: int) -> bool:
        """Whether a notebook of ``size`` bytes fits the caps (else it is reported)."""
        if size > self.max_file_bytes:
            self._skip(path, f"{size} bytes, over the {self.max_file_bytes}-byte cap per file")
            return False
        if self.total + size > self.max_total_bytes:
            self._skip(path, f"the {self.max_total_bytes}-byte cap for the whole batch is reached")
            return False
        return True

    def _ignorable(self, parts: tuple[str, ...] | list[str]) -> bool:
        """Dot-files and folders, ``__MACOSX``: counted and ignored."""
        return any(part.startswith(".") or part == "__MACOSX" for part in parts)

    def read_zip(self, path: Path) -> Iterator[_File]:
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
            raise CollectError(f"{path} is not a readable zip file") from None
        fallback = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        with archive:
            entries = archive.infolist()
            if len(entries) > MAX_ENTRIES:
                self._skip(
                    path.name, f"{len(entries)} entries; only the first {MAX_ENTRIES} are read"
                )
            for info in entries[:MAX_ENTRIES]:
                try:
                    found = list(self._zip_entry(archive, info, fallback))
                except Exception as err:  # a crafted entry costs its line, never the batch
                    self._skip(_short(info.filename), f"unreadable zip entry ({_what(err)})")
                    continue
                yield from found

    def _zip_entry(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, fallback: datetime
    ) -> Iterator[_File]:
        name = info.filename.replace("\\", "/")
        if info.is_dir():
            return
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            self._skip(info.filename, "absolute path in the zip, not extracted")
            return
        parts = tuple(part for part in name.split("/") if part not in ("", "."))
        if ".." in parts:
            self._skip(info.filename, "'..' in the path (zip slip), not extracted")
            return
        if not parts:
            return
        if len(parts) > MAX_DEPTH + 1:
            self._skip(_short(info.filename), f"more than {MAX_DEPTH} folders deep, not read")
            return
        if self._ignorable(parts):
            self.report.ignored += 1
            return
        if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
            self._skip(info.filename, "a symbolic link, not followed")
            return
        if not parts[-1].lower().endswith(".ipynb"):
            self.report.ignored += 1
            return
        if info.flag_bits & 0x1:
            self._skip(info.filename, "encrypted zip entry")
            return
        if not self._admit(info.filename, info.file_size):
            return
        try:
            with archive.open(info) as handle:
                data = handle.read(self.max_file_bytes + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError,
                ValueError, zlib.error) as err:  # fmt: skip
            self._skip(info.filename, f"unreadable zip entry ({err})")
            return
        if not self._admit(info.filename, len(data)):
            return
        self.total += len(data)
        try:
            date = datetime(*info.date_time, tzinfo=UTC)
        except ValueError:
            date = fallback
        yield _File(parts, data, date)

    def read_folder(self, root: Path) -> Iterator[_File]:
        """The notebooks below ``root``: folders in name order, each folder's files before its
        subfolders, symbolic links not followed, nothing below :data:`MAX_DEPTH` levels.

        An explicit stack, not ``os.walk``: in Python 3.11 that recurses once per level, and a tree
        1 200 levels deep raised ``RecursionError``. Hidden folders are walked only to count their
        files.
        """
        stack: list[tuple[str, ...]] = [()]
        while stack:
            rel = stack.pop()
            shown = "/".join(rel) or "."
            if len(rel) > MAX_DEPTH:
                self._skip(_short(shown), f"folders more than {MAX_DEPTH} deep, not read")
                continue
            try:
                with os.scandir(root.joinpath(*rel)) as listing:
                    entries = sorted(
                        (entry.name, entry.is_dir(follow_symlinks=False), entry.is_symlink())
                        for entry in listing
                    )
            except OSError as err:
                self._skip(_short(shown), f"unreadable folder ({err.strerror or err})")
                continue
            folders = []
            for name, is_dir, is_link in entries:
                if is_dir:
                    folders.append((*rel, name))
                elif is_link and not self._ignorable((*rel, name)):
                    self._skip(_short("/".join((*rel, name))), "a symbolic link, not followed")
                else:
                    try:
                        found = list(self._folder_file(root.joinpath(*rel, name), (*rel, name)))
                    except Exception as err:  # one file's problem is its line, not the batch's
                        self._skip(_short("/".join((*rel, name))), f"unreadable ({_what(err)})")
                        continue
                    yield from found
            stack.extend(reversed(folders))

    def _folder_file(self, path: Path, parts: tuple[str, ...]) -> Iterator[_File]:
        shown = "/".join(parts)
        if self._ignorable(parts):
            self.report.ignored += 1
            return
        if path.is_symlink():
            self._skip(shown, "a symbolic link, not followed")
            return
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or not path.name.lower().endswith(".ipynb"):
            self.report.ignored += 1
            return
        if not self._admit(shown, info.st_size):
            return
        try:
            with path.open("rb") as handle:
                data = handle.read(self.max_file_bytes + 1)
        except OSError as err:
            self._skip(shown, f"unreadable file ({err.strerror or err})")
            return
        if not self._admit(shown, len(data)):
            return
        self.total += len(data)
        yield _File(parts, data, datetime.fromtimestamp(info.st_mtime, UTC))


# ---------------------------------------------------------------------------------------------------
# who submitted what


@dataclass
class _Candidate:
    """A notebook file attributed to a student."""

    file: _File
    raw_id: str
    original: str  # the file name the student gave it
    name: str | None = None  # full name (Moodle)
    late: bool = False
    layout: str = ""


def _flat_name(filename: str) -> bool:
    """Whether a file name follows Moodle's or Canvas's flat pattern."""
    stem = filename[: -len(".ipynb")]
    return bool(_MOODLE_FILE.match(stem) or _CANVAS_FILE.match(stem))


def _is_wrapper(top: str, inner: list[tuple[str, ...]], assignment: str) -> bool:
    """Whether ``top``, the one folder holding every notebook (at ``inner`` below it), is a wrapper."""
    if _MOODLE_DIR.match(top):
        return False
    if any(len(parts) >= 2 and parts[0].lower() == assignment.lower() for parts in inner):
        return False  # <student>/<assignment>/…: nbgrader's own layout, for one student
    if top.lower() == assignment.lower():
        return True
    if all(len(parts) >= 2 for parts in inner):
        return len({parts[0] for parts in inner}) >= 2  # several students' folders
    return all(len(parts) == 1 and _flat_name(parts[0]) for parts in inner)


def _strip_wrappers(files: list[_File], assignment: str) -> list[_File]:
    """Drop common top-level folders that only wrap the submissions (see the module docstring)."""
    while files:
        tops = {f.parts[0] for f in files}
        if len(tops) != 1 or any(len(f.parts) < 2 for f in files):
            break
        if not _is_wrapper(tops.pop(), [f.parts[1:] for f in files], assignment):
            break
        files = [_File(f.parts[1:], f.data, f.date) for f in files]
    return files


def _identify(file: _File, assignment: str) -> _Candidate:
    """Attribute a notebook to a (raw) student id, or ``ValueError`` when its path names none."""
    filename = file.parts[-1]
    if len(file.parts) >= 2:
        top = file.parts[0]
        moodle = _MOODLE_DIR.match(top)
        if moodle:
            return _Candidate(
                file, moodle["id"], filename, name=moodle["name"].strip(), layout="Moodle"
            )
        return _Candidate(file, top, filename, layout="folder per student")
    stem = filename[: -len(".ipynb")]
    moodle = _MOODLE_FILE.match(stem)
    if moodle:
        original = moodle["orig"] + ".ipynb"
        return _Candidate(
            file, moodle["id"], original, name=moodle["name"].strip(), layout="Moodle"
        )
    canvas = _CANVAS_FILE.match(stem)
    if canvas:
        original = canvas["orig"] + ".ipynb"
        return _Candidate(
            file, canvas["login"], original, late=bool(canvas["late"]), layout="Canvas"
        )
    if _named_like(filename, assignment):
        raise ValueError("a flat file named like the assignment names no student")
    for sep in "_-":
        if stem.startswith(assignment + sep):
            return _Candidate(file, stem[len(assignment) + 1 :], filename, layout="flat")
    student, _, rest = stem.partition("_")
    original = f"{rest}.ipynb" if rest else filename
    return _Candidate(file, student, original, layout="flat")


def _named_like(original: str, assignment: str) -> bool:
    """``<assignment>.ipynb``, also as renamed by an LMS or a browser (``-1``, `` (1)``)."""
    pattern = rf"{re.escape(assignment)}(?:-\d+| ?\(\d+\))?\.ipynb"
    return re.fullmatch(pattern, original, flags=re.IGNORECASE) is not None


# ---------------------------------------------------------------------------------------------------
# writing


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_names(course_root: Path, names: dict[str, str]) -> None:
    """Merge ``names`` into ``collected_students.csv`` (``id,first_name,last_name,email``)."""
    path = course_root / NAMES_FILE
    rows: dict[str, dict[str, str]] = {}
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("id"):
                    rows[row["id"]] = row
    changed = False
    for student, full in names.items():
        first, _, last = full.rpartition(" ")
        row = {"id": student, "first_name": first or last, "last_name": last if first else ""}
        old = rows.get(student, {})
        new = {**row, "email": old.get("email", "")}
        if {k: old.get(k, "") for k in new} != new:
            rows[student] = new
            changed = True
    if not changed:
        return
    lines = [["id", "first_name", "last_name", "email"]]
    lines += [[r["id"], r.get("first_name", ""), r.get("last_name", ""), r.get("email", "")]
              for _, r in sorted(rows.items())]  # fmt: skip
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(lines)
    _write_atomic(path, buffer.getvalue().encode("utf-8"))


def _describe(candidate: _Candidate) -> str:
    return f"{candidate.file.path} ({candidate.layout}, {format_timestamp(candidate.file.date)})"


def _collect_student(
    student: str,
    candidates: list[_Candidate],
    submitted: Path,
    assignment: str,
    now: datetime | None,
    report: CollectReport,
) -> None:
    """Check a student's notebooks, pick one, and write it (or say why not)."""
    raw_ids = sorted({c.raw_id for c in candidates})
    if len(raw_ids) > 1:
        listed = ", ".join(repr(r) for r in raw_ids)
        report.add(
            student, "skipped", f"several ids ({listed}) map to this folder name; sort by hand"
        )
        return
    dest = submitted / student / assignment / f"{assignment}.ipynb"
    valid: list[tuple[_Candidate, bytes]] = []
    bad: list[str] = []
    for cand in candidates:
        problem = notebook_problem(cand.file.data)
        if problem:
            bad.append(f"{cand.file.path}: {problem}")
        else:
            data = cand.file.data
            valid.append((cand, data[len(_BOM) :] if data.startswith(_BOM) else data))
    if not valid:
        kept = "; the previous submission is kept" if dest.exists() else ""
        report.add(student, "malformed", "; ".join(bad) + kept)
        return
    preferred = [item for item in valid if _named_like(item[0].original, assignment)]
    pool = preferred or valid
    chosen, data = max(pool, key=lambda item: (item[0].file.date, item[0].file.path))
    notes = []
    if len(candidates) > 1:
        why = f"named {assignment}.ipynb" if preferred else "the newest"
        notes.append(f"chosen of {len(candidates)} notebooks as {why}")
    if bad:
        notes.append("malformed: " + "; ".join(bad))
    if chosen.late:
        notes.append("LATE")
        report.late.append(student)
    if chosen.name:
        report.names[student] = chosen.name
    detail = "; ".join([_describe(chosen), *notes])
    old = dest.read_bytes() if dest.is_file() else None
    if old == data:
        report.add(student, "unchanged", detail)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(dest, data)
    stamp = format_timestamp(now if now is not None else chosen.file.date)
    _write_atomic(dest.parent / "timestamp.txt", (stamp + "\n").encode("ascii"))
    report.add(student, "added" if old is None else "updated", detail)


def collect(
    source: Path,
    course_root: Path,
    assignment: str,
    *,
    now: datetime | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> CollectReport:
    """Collect the notebooks in ``source`` (a folder or ``.zip``) into ``course_root/submitted/``.

    ``now``, when given, is the timestamp written for every submission (naive means UTC); by default
    each gets its zip entry's date or its file's modification time. Raises :class:`CollectError`
    when the batch cannot be read at all; every problem with a single file is in the report.
    """
    source, course_root = Path(source), Path(course_root)
    if not _SAFE_ID.fullmatch(assignment) or ".." in assignment or assignment.startswith("."):
        raise CollectError(f"{assignment!r} is not a valid assignment id")
    if not source.exists():
        raise CollectError(f"{source}: no such file or folder")
    if course_root.exists() and not course_root.is_dir():
        raise CollectError(f"course root {course_root} is not a folder")
    report = CollectReport(str(source), assignment)
    reader = _Reader(report, max_file_bytes, max_total_bytes)
    if source.is_dir():
        files = list(reader.read_folder(source))
    elif source.is_file() and source.suffix.lower() == ".zip":
        files = list(reader.read_zip(source))
    else:
        raise CollectError(f"{source}: neither a folder nor a .zip file")

    by_student: dict[str, list[_Candidate]] = {}
    for file in _strip_wrappers(files, assignment):
        try:
            cand = _identify(file, assignment)
            student = sanitize_student_id(cand.raw_id)
        except ValueError as err:
            report.add("", "skipped", f"{file.path}: {err}")
            continue
        by_student.setdefault(student, []).append(cand)

    submitted = course_root / "submitted"
    submitted.mkdir(parents=True, exist_ok=True)
    for student in sorted(by_student):
        try:
            _collect_student(student, by_student[student], submitted, assignment, now, report)
        except OSError as err:  # the course folder, not the submission: one line, the rest go on
            report.add(student, "skipped", f"could not be written ({err.strerror or err})")
        except Exception as err:  # never a traceback, never the students after this one
            report.add(student, "skipped", f"could not be collected ({_what(err)})")
    if report.names:
        _write_names(course_root, report.names)
    return report


if __name__ == "__main__":  # the one command line is `python -m autograder`
    print(
        "error: collect is a command of `python -m autograder` now: "
        "python -m autograder collect DIR ASSIGNMENT SOURCE (see its --help)",
        file=sys.stderr,
    )
    sys.exit(2)
