"""Reading what comes out of the sandbox: every byte is hostile.

The sandboxed run writes files (its progress log, the probes' ``.npz`` outputs) and the grader, which
runs as root outside, reads them. Student code controls those files completely: it can replace one with
a symbolic link to a host file, a FIFO that blocks the reader forever, a device, a folder a thousand
levels deep, or an ``.npz`` whose header promises a 2 GiB array in a few bytes. So the grader reads them
only through this module:

- :func:`read_file` opens a path *under* a folder one component at a time, each with ``O_NOFOLLOW``
  (a link anywhere on the way is refused) and ``O_NONBLOCK`` (a FIFO cannot block the open), checks with
  ``fstat`` that it is a regular file, and reads at most a cap of bytes;
- :func:`load_npz` parses an ``.npz`` from those bytes without pickle, reading each array's header
  first and refusing any array whose shape × itemsize is over the budget *before* anything is
  decompressed; only numbers and text (dtype kinds ``f i u b U``) are accepted;
- :func:`student_text` makes any string that came from the sandbox safe to show: one line, printable,
  bounded, and withheld when it quotes the grader's own hidden files (the checks' judging code, the
  mutant catalogues, the notebook specs, the reference solutions), so an exception message crafted by
  student code cannot carry hidden-check source into feedback, the gradebook or an export.

None of these raises on bad input: they return a short reason (a ``str``) instead.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import stat
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["Unreadable", "load_npz", "read_file", "student_text"]

MiB = 1024 * 1024
MAX_NPZ_BYTES = 16 * MiB  # an .npz file on disk
MAX_ARRAY_BYTES = 64 * MiB  # all arrays of one .npz, decompressed
MAX_ARRAYS = 512  # members of one .npz
ACCEPTED_KINDS = "fiubU"


class Unreadable(str):
    """Why a sandbox file could not be used (a ``str``: it goes straight into a message)."""


def read_file(root: Path, relative: str, cap: int) -> bytes | Unreadable:
    """The bytes of ``root/relative`` (at most ``cap``), or why it cannot be read safely.

    Every component is opened with ``O_NOFOLLOW`` relative to the previous one, so neither the file
    nor any folder on the way may be a symbolic link; the file must be a regular file no larger than
    ``cap``. ``root`` itself is the grader's own folder (not a link the sandbox could have made).
    """
    parts = [p for p in relative.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        return Unreadable(f"{relative}: not a plain relative path")
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    flags_file = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(root, flags_dir)
    except OSError as err:
        return Unreadable(f"{parts[-1]}: missing ({err.strerror})")
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, flags_dir, dir_fd=fd)
            except OSError as err:
                if _is_link(part, fd):  # O_DIRECTORY on a link says ENOTDIR: name it for what it is
                    return Unreadable(f"{parts[-1]}: a symbolic link on its path (refused)")
                return Unreadable(_why(parts[-1], err))
            os.close(fd)
            fd = child
        try:
            file_fd = os.open(parts[-1], flags_file, dir_fd=fd)
        except OSError as err:
            return Unreadable(_why(parts[-1], err))
        try:
            info = os.fstat(file_fd)
            if not stat.S_ISREG(info.st_mode):
                return Unreadable(f"{parts[-1]}: not a regular file")
            if info.st_size > cap:
                return Unreadable(f"{parts[-1]}: {info.st_size} bytes, over the {cap}-byte limit")
            chunks, left = [], cap + 1
            while left > 0:
                chunk = os.read(file_fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            data = b"".join(chunks)
            if len(data) > cap:  # grew while being read
                return Unreadable(f"{parts[-1]}: over the {cap}-byte limit")
            return data
        finally:
            os.close(file_fd)
    finally:
        os.close(fd)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _why(name: str, err: OSError) -> str:
    if err.errno == 40:  # ELOOP: O_NOFOLLOW met a symbolic link
        return f"{name}: a symbolic link on its path (refused)"
    if err.errno == 2:
        return f"{name}: missing"
    if err.errno == 20:
        return f"{name}: a path through something that is not a folder"
    return f"{name}: cannot be opened ({err.strerror})"


# ---------------------------------------------------------------------------------------------------
# .npz without trusting it
# ---------------------------------------------------------------------------------------------------


# the header exactly as numpy writes it: {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
_NUMPY_HEADER = re.compile(
    r"\{'descr': '([<>|=]?[a-zA-Z][0-9]{0,9})', 'fortran_order': (True|False), "
    r"'shape': \(((?:[0-9]{1,19}, )*[0-9]{1,19},?|)\), \} *\n?"
)


def _plain_header(text: str) -> dict | None:
    """An ``.npy`` header in numpy's own layout, read without the literal parser (a few
    microseconds instead of ~60: a homework-2 grading reads ~1,200 of them); ``None`` for any
    other text, which :func:`ast.literal_eval` then reads."""
    found = _NUMPY_HEADER.fullmatch(text)
    if found is None:
        return None
    descr, fortran, shape = found.groups()
    dims = tuple(int(n) for n in shape.replace(",", " ").split())
    return {"descr": descr, "fortran_order": fortran == "True", "shape": dims}


def _header(member) -> tuple[np.dtype, tuple[int, ...], bool]:
    """Read an ``.npy`` member's header (magic + a Python literal), never its data."""
    magic = member.read(8)
    if len(magic) != 8 or magic[:6] != b"\x93NUMPY":
        raise ValueError("not an .npy array")
    major = magic[6]
    if major == 1:
        size = member.read(2)
        length = int.from_bytes(size, "little")
    elif major in (2, 3):
        size = member.read(4)
        length = int.from_bytes(size, "little")
    else:
        raise ValueError("an unknown .npy version")
    if length > 65536:
        raise ValueError("an oversized .npy header")
    text = member.read(length).decode("latin1" if major < 3 else "utf-8")
    header = _plain_header(text)
    if header is None:  # not as numpy writes it: read as a literal (literals only: no code runs)
        header = ast.literal_eval(text)
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError("a malformed .npy header")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(descr, str) or not isinstance(fortran, bool):
        raise ValueError("a malformed .npy header")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError("a malformed .npy shape")
    if len(shape) > 32:
        raise ValueError("too many dimensions")
    dtype = np.dtype(descr)
    if dtype.kind not in ACCEPTED_KINDS or dtype.hasobject or dtype.fields is not None:
        raise ValueError(f"dtype {descr!r} is neither numbers nor text")
    return dtype, shape, fortran


def load_npz(data: bytes, *, budget: int = MAX_ARRAY_BYTES) -> dict[str, np.ndarray] | Unreadable:
    """The arrays of an ``.npz`` given as bytes, or why they cannot be used.

    Each member's header is read before its data: an array whose shape × itemsize (what it would
    take once decompressed) would push the total over ``budget`` is refused without allocating it.
    No pickle, no object arrays, no structured dtypes.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return Unreadable("the output is not an .npz archive")
    arrays: dict[str, np.ndarray] = {}
    try:
        members = archive.infolist()
        if len(members) > MAX_ARRAYS:
            return Unreadable(f"the output holds more than {MAX_ARRAYS} arrays")
        left = budget
        for info in members:
            if not info.filename.endswith(".npy") or info.flag_bits & 0x1:
                return Unreadable("the output holds something other than arrays")
            with archive.open(info) as member:
                dtype, shape, fortran = _header(member)
                count = int(np.prod(shape, dtype=object))
                nbytes = count * dtype.itemsize
                if nbytes > left:
                    return Unreadable("the output's arrays are too large")
                left -= nbytes
                raw = member.read(nbytes)
                if len(raw) != nbytes:
                    return Unreadable("the output is truncated")
            array = np.frombuffer(raw, dtype=dtype, count=count).copy()
            array = array.reshape(shape, order="F" if fortran else "C")
            arrays[info.filename.removesuffix(".npy")] = array
    except (zipfile.BadZipFile, ValueError, SyntaxError, TypeError, OSError, EOFError, MemoryError):
        return Unreadable("the output could not be read")
    except (RecursionError, NotImplementedError, KeyError, OverflowError):
        return Unreadable("the output could not be read")
    finally:
        archive.close()
    return arrays


# ---------------------------------------------------------------------------------------------------
# Text from the sandbox
# ---------------------------------------------------------------------------------------------------

WINDOW = (
    24  # characters: a run this long shared with a hidden file is a quotation, not a coincidence
)
_HIDDEN = ("autograder", "solutions")  # all of the grader's code and the reference solutions
_SPACE = re.compile(r"\s+")
_MARKERS = (
    ("### BEGIN SOLUTION", "### END SOLUTION"),
    ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
)


def _squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _released(source: str) -> str:
    """A cell's source without its solution and hidden-test regions (what a student is given)."""
    kept, hidden = [], None
    for line in source.splitlines():
        stripped = line.strip()
        if hidden is None:
            hidden = next((end for begin, end in _MARKERS if stripped == begin), None)
            if hidden is None:
                kept.append(line)
        elif stripped == hidden:
            hidden = None
    return "\n".join(kept)


@lru_cache(maxsize=1)
def _corpora() -> tuple[str, str]:
    """``(hidden, public)``, each one whitespace-squashed string, read once per process.

    *hidden*: the grader's code, the reference solutions and the instructor's notebooks;
    *public*: what a student is given anyway (the released notebooks' text, the modules released beside
    them, the files bound into the sandbox). Text found in the first but not in the second is a
    quotation of hidden material.
    """
    from .sandbox import sandbox_files

    repo = Path(__file__).resolve().parent.parent
    hidden, public = [], []
    for folder in _HIDDEN:
        for path in sorted((repo / folder).rglob("*.py")):
            hidden.append(_squash(path.read_text(encoding="utf-8", errors="replace")))
    for path in sorted((repo / "assignments").glob("*/*.ipynb")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for cell in json.loads(text).get("cells", []):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            hidden.append(_squash(source))
            public.append(_squash(_released(source)))
    for path in sorted((repo / "assignments").glob("*/*.py")):  # released as they are
        public.append(_squash(path.read_text(encoding="utf-8", errors="replace")))
    for source in (sandbox_files() or {}).values():
        public.append(_squash(source.read_text(encoding="utf-8")))
    return "\n".join(hidden), "\n".join(public)


def quotes_hidden_files(text: str) -> bool:
    """Whether ``text`` shares a run of :data:`WINDOW` characters with the grader's hidden material
    that a student is not given anyway."""
    text = _squash(text)
    if len(text) < WINDOW:
        return False
    hidden, public = _corpora()
    windows = (text[j : j + WINDOW] for j in range(len(text) - WINDOW + 1))
    return any(window in hidden and window not in public for window in windows)


_PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]{0,59}: )(.*)$")
WITHHELD = "(message withheld: it quotes the grader's files)"


def student_text(value: object, limit: int = 200) -> str:
    """A string from the sandbox made safe to show: one line, printable, at most ``limit``
    characters, and withheld when it quotes the grader's hidden files (an ``ExceptionType: ``
    prefix is kept, so the student still learns what was raised)."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, np.ndarray) else ""
    text = "".join(ch if ch.isprintable() else " " for ch in text[: 4 * limit])
    text = _squash(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if quotes_hidden_files(text):
        prefix = _PREFIX.match(text)
        return (prefix.group(1) if prefix else "") + WITHHELD
    return text
