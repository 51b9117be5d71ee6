"""Tests of ``autograder.collect``: every source layout, the zip safety rules, malformed notebooks."""

from __future__ import annotations

import os
import random
import stat
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from nbgrader.coursedir import CourseDirectory

from autograder.collect import (
    NAMES_FILE,
    CollectError,
    collect,
    format_timestamp,
    notebook_problem,
    sanitize_student_id,
)

HW = "hw1_linear_regression"
DATE = (2024, 3, 1, 14, 5, 0)
STAMP = "2024-03-01 14:05:00.000000 UTC"


def deep_bytes(levels: int = 100_000) -> bytes:
    """A notebook whose cell metadata holds a list nested ``levels`` deep (``json`` recurses on it)."""
    text = nb_bytes().decode()
    nested = '"metadata": {"x": ' + "[" * levels + "]" * levels + "}"
    return text.replace('"metadata": {}', nested, 1).encode()


def nb_bytes(source: str = "x = 1") -> bytes:
    """A valid notebook with one code cell holding ``source`` (the same bytes for the same source)."""
    cell = nbformat.v4.new_code_cell(source, id=f"cell-{zlib.crc32(source.encode()):08x}")
    nb = nbformat.v4.new_notebook(cells=[cell])
    return nbformat.writes(nb).encode("utf-8")


def make_zip(path: Path, entries: dict[str, bytes], dates: dict[str, tuple] | None = None) -> Path:
    """A zip at ``path`` with ``entries`` (name -> bytes), each dated ``DATE`` unless in ``dates``."""
    dates = dates or {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=dates.get(name, DATE)), data)
    return path


def write(path: Path, data: bytes, mtime: datetime | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def submitted(course: Path, student: str) -> Path:
    return course / "submitted" / student / HW / f"{HW}.ipynb"


def timestamp(course: Path, student: str) -> str:
    return (course / "submitted" / student / HW / "timestamp.txt").read_text().strip()


def students(course: Path) -> set[str]:
    root = course / "submitted"
    return {p.name for p in root.iterdir()} if root.exists() else set()


def statuses(report) -> dict[str, str]:
    return {e.student: e.status for e in report.entries if e.student}


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return tmp_path / "course"


MALFORMED = {
    "random bytes": (bytes(random.Random(0).randrange(256) for _ in range(300)) + b"\xff", "UTF-8"),
    "empty JSON object": (b"{}", "not a notebook"),
    "truncated JSON": (nb_bytes()[:40], "not JSON"),
    "UTF-16 text": (nb_bytes().decode().encode("utf-16"), "not UTF-8"),
    "empty file": (b"", "empty file"),
    "no cells": (nbformat.writes(nbformat.v4.new_notebook()).encode(), "no cells"),
    "a JSON list": (b"[1, 2]", "not a notebook"),
    "nested 100 000 deep": (deep_bytes(), "nested deeper than 64 levels"),
    "too many cells": (
        nbformat.writes(
            nbformat.v4.new_notebook(
                cells=[nbformat.v4.new_code_cell("", id=f"c{i}") for i in range(2001)]
            )
        ).encode(),
        "too many cells",
    ),
}


# ---------------------------------------------------------------------------------------------------
# layouts


def test_folder_per_student(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    when = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
    write(src / "alice" / f"{HW}.ipynb", nb_bytes("a = 1"), when)
    write(src / "bob" / "my answers.ipynb", nb_bytes("b = 2"), when)
    write(src / "carol" / "work" / f"{HW}.ipynb", nb_bytes("c = 3"), when)
    write(src / "Jane Doe" / f"{HW}.ipynb", nb_bytes("d = 4"), when)
    write(src / "bob" / "notes.txt", b"hello")
    write(src / "bob" / ".DS_Store", b"junk")
    write(src / "alice" / ".ipynb_checkpoints" / f"{HW}-checkpoint.ipynb", nb_bytes("old"))

    report = collect(src, course, HW)

    assert students(course) == {"alice", "bob", "carol", "Jane_Doe"}
    assert statuses(report) == dict.fromkeys(["alice", "bob", "carol", "Jane_Doe"], "added")
    assert submitted(course, "alice").read_bytes() == nb_bytes("a = 1")
    assert submitted(course, "bob").read_bytes() == nb_bytes("b = 2")
    assert submitted(course, "carol").read_bytes() == nb_bytes("c = 3")
    assert timestamp(course, "alice") == "2024-02-03 04:05:06.000000 UTC"
    assert report.ignored == 3  # notes.txt, .DS_Store, the checkpoint folder's notebook
    assert not report.malformed and not report.skipped


def test_timestamp_is_read_back_by_nbgrader(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice" / f"{HW}.ipynb", nb_bytes(), datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
    collect(src, course, HW)
    stamp = CourseDirectory().get_existing_timestamp(str(submitted(course, "alice").parent))
    assert stamp == datetime(2024, 5, 6, 7, 8, 9)  # nbgrader's naive UTC


def test_now_overrides_the_file_date(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice.ipynb", nb_bytes(), datetime(2020, 1, 1, tzinfo=UTC))
    collect(src, course, HW, now=datetime(2024, 9, 9, 12, 0, 0))
    assert timestamp(course, "alice") == "2024-09-09 12:00:00.000000 UTC"


def test_flat_files(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice.ipynb", nb_bytes("a"))
    write(src / f"bob_{HW}.ipynb", nb_bytes("b"))
    write(src / f"{HW}_carol.ipynb", nb_bytes("c"))
    write(src / f"{HW}.ipynb", nb_bytes("nobody"))
    write(src / f"{HW} (1).ipynb", nb_bytes("nobody either"))
    write(src / "readme.md", b"# hi")

    report = collect(src, course, HW)

    assert students(course) == {"alice", "bob", "carol"}
    assert submitted(course, "bob").read_bytes() == nb_bytes("b")
    assert submitted(course, "carol").read_bytes() == nb_bytes("c")
    assert sorted(e.detail for e in report.skipped) == [
        f"{HW} (1).ipynb: a flat file named like the assignment names no student",
        f"{HW}.ipynb: a flat file named like the assignment names no student",
    ]
    assert all(e.student == "" for e in report.skipped)
    assert report.ignored == 1


def test_moodle_zip(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(
        tmp_path / "moodle.zip",
        {
            f"Ada Lovelace_123456_assignsubmission_file_/{HW}.ipynb": nb_bytes("ada"),
            "Ada Lovelace_123456_assignsubmission_onlinetext_/onlinetext.html": b"<p>hi</p>",
            "Alan Turing_654321_assignsubmission_file_hw1.ipynb": nb_bytes("alan"),
            f"__MACOSX/Ada Lovelace_123456_assignsubmission_file_/._{HW}.ipynb": b"\x00\x05",
        },
    )
    report = collect(zip_path, course, HW)

    assert students(course) == {"123456", "654321"}
    assert statuses(report) == {"123456": "added", "654321": "added"}
    assert submitted(course, "123456").read_bytes() == nb_bytes("ada")
    assert submitted(course, "654321").read_bytes() == nb_bytes("alan")
    assert timestamp(course, "123456") == STAMP
    assert report.names == {"123456": "Ada Lovelace", "654321": "Alan Turing"}
    assert report.ignored == 2  # the online text and the __MACOSX entry
    names = (course / NAMES_FILE).read_text().splitlines()
    assert names == [
        "id,first_name,last_name,email",
        "123456,Ada,Lovelace,",
        "654321,Alan,Turing,",
    ]


def test_canvas_zip_and_late_marker(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(
        tmp_path / "canvas.zip",
        {
            f"lovelaceada_1234_567890_{HW}.ipynb": nb_bytes("ada"),
            f"turingalan_LATE_4321_98765_{HW}-1.ipynb": nb_bytes("alan"),
            "hopper_grace_777_888_answers.ipynb": nb_bytes("grace"),
        },
    )
    report = collect(zip_path, course, HW)

    assert students(course) == {"lovelaceada", "turingalan", "hopper_grace"}
    assert submitted(course, "turingalan").read_bytes() == nb_bytes("alan")
    assert submitted(course, "hopper_grace").read_bytes() == nb_bytes("grace")
    assert report.late == ["turingalan"]
    late_detail = next(e.detail for e in report.entries if e.student == "turingalan")
    assert "LATE" in late_detail and "Canvas" in late_detail
    assert "LATE" not in next(e.detail for e in report.entries if e.student == "lovelaceada")
    assert "late (Canvas): turingalan" in str(report)


def test_wrapper_folder_is_stripped(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(
        tmp_path / "export.zip",
        {f"export/alice/{HW}.ipynb": nb_bytes("a"), f"export/bob/{HW}.ipynb": nb_bytes("b")},
    )
    collect(zip_path, course, HW)
    assert students(course) == {"alice", "bob"}


def test_wrapper_around_canvas_files_is_stripped(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(tmp_path / "c.zip", {f"submissions/ada_1_2_{HW}.ipynb": nb_bytes()})
    collect(zip_path, course, HW)
    assert students(course) == {"ada"}


def test_wrapper_named_like_the_assignment_is_stripped(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(
        tmp_path / "hw.zip", {f"{HW}/alice.ipynb": nb_bytes("a"), f"{HW}/bob.ipynb": nb_bytes("b")}
    )
    collect(zip_path, course, HW)
    assert students(course) == {"alice", "bob"}


@pytest.mark.parametrize(
    "names",
    [
        [f"alice/{HW}.ipynb"],
        ["alice/work/answers.ipynb", "alice/work/draft.ipynb"],
        [f"alice/{HW}/{HW}.ipynb"],
        [f"Ada L_12_assignsubmission_file_/sub/{HW}.ipynb"],
    ],
)
def test_one_students_folder_is_not_a_wrapper(
    tmp_path: Path, course: Path, names: list[str]
) -> None:
    zip_path = make_zip(tmp_path / "one.zip", dict.fromkeys(names, nb_bytes()))
    report = collect(zip_path, course, HW)
    expected = "12" if names[0].startswith("Ada") else "alice"
    assert students(course) == {expected}
    assert statuses(report) == {expected: "added"}


# ---------------------------------------------------------------------------------------------------
# student ids


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("alice", "alice"),
        ("José Núñez", "Jose_Nunez"),
        ("a.b-c_d", "a.b-c_d"),
        ("ada@uni.edu", "ada_uni.edu"),
        ("  bob  ", "bob"),
    ],
)
def test_sanitize_keeps_safe_names(raw: str, safe: str) -> None:
    assert sanitize_student_id(raw) == safe


@pytest.mark.parametrize(
    "raw", ["../../etc", "..", "a..b", ".hidden", "", "   ", "???", "a/b", "a\\b", "x" * 200]
)
def test_sanitize_refuses_unsafe_names(raw: str) -> None:
    with pytest.raises(ValueError, match="student id"):
        sanitize_student_id(raw)


def test_unsafe_ids_are_refused_in_a_batch(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(
        tmp_path / "ids.zip",
        {
            f"???_1_2_{HW}.ipynb": nb_bytes("nothing usable"),
            f"..\\..\\etc\\{HW}.ipynb": nb_bytes("backslash slip"),
            "a..b.ipynb": nb_bytes("dots"),
            f"good_3_4_{HW}.ipynb": nb_bytes("good"),
        },
    )
    report = collect(zip_path, course, HW)

    assert students(course) == {"good"}
    details = " | ".join(e.detail for e in report.skipped)
    assert len(report.skipped) == 3
    assert "no usable characters" in details and "zip slip" in details and "'..'" in details
    assert not (tmp_path / "etc").exists()


# ---------------------------------------------------------------------------------------------------
# zip safety


def test_zip_slip_absolute_and_symlink_entries_are_skipped(tmp_path: Path, course: Path) -> None:
    zip_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("../escaped.ipynb", nb_bytes())
        archive.writestr("alice/../../escaped2.ipynb", nb_bytes())
        archive.writestr("/abs/evil.ipynb", nb_bytes())
        archive.writestr("C:/evil.ipynb", nb_bytes())
        link = zipfile.ZipInfo("mallory/link.ipynb")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("bob/", b"")  # a directory entry
        archive.writestr(f"bob/{HW}.ipynb", nb_bytes("bob"))
    before = set(tmp_path.rglob("*"))

    report = collect(zip_path, course, HW)

    assert students(course) == {"bob"}
    assert statuses(report) == {"bob": "added"}
    reasons = sorted(e.detail.split(": ", 1)[1] for e in report.skipped)
    assert len(reasons) == 5
    assert sum("zip slip" in r for r in reasons) == 2
    assert sum("absolute path" in r for r in reasons) == 2
    assert sum("symbolic link" in r for r in reasons) == 1
    created = set(tmp_path.rglob("*")) - before
    assert created and all(p == course or course in p.parents for p in created)


def test_oversized_entry_is_skipped(tmp_path: Path, course: Path) -> None:
    big = nb_bytes("x = '" + "a" * 10_000 + "'")
    zip_path = make_zip(tmp_path / "big.zip", {"alice.ipynb": big, "bob.ipynb": nb_bytes("b")})
    report = collect(zip_path, course, HW, max_file_bytes=4096)

    assert students(course) == {"bob"}
    [skip] = report.skipped
    assert "alice.ipynb" in skip.detail and "cap per file" in skip.detail


def test_total_cap_skips_the_rest(tmp_path: Path, course: Path) -> None:
    one = nb_bytes("a")
    zip_path = make_zip(tmp_path / "t.zip", {"alice.ipynb": one, "bob.ipynb": one})
    report = collect(zip_path, course, HW, max_total_bytes=len(one) + 10)

    assert students(course) == {"alice"}
    [skip] = report.skipped
    assert "bob.ipynb" in skip.detail and "whole batch" in skip.detail


def test_oversized_file_in_a_folder_is_skipped(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice.ipynb", nb_bytes("a" * 5000))
    report = collect(src, course, HW, max_file_bytes=1000)
    assert students(course) == set()
    assert "cap per file" in report.skipped[0].detail


def test_corrupt_zip(tmp_path: Path, course: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip" * 10)
    with pytest.raises(CollectError, match=r"bad\.zip is not a readable zip file"):
        collect(bad, course, HW)
    good = make_zip(tmp_path / "cut.zip", {"alice.ipynb": nb_bytes()})
    cut = tmp_path / "cut2.zip"
    cut.write_bytes(good.read_bytes()[:-30])  # the central directory is cut off
    with pytest.raises(CollectError, match="is not a readable zip file"):
        collect(cut, course, HW)


def test_corrupt_entry_does_not_abort_the_batch(tmp_path: Path, course: Path) -> None:
    zip_path = tmp_path / "crc.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("alice.ipynb", nb_bytes("alice"))
        archive.writestr("bob.ipynb", nb_bytes("bob"))
    raw = bytearray(zip_path.read_bytes())
    at = raw.index(b"alice")  # inside alice's stored notebook: the CRC no longer matches
    raw[at] = ord("A")
    zip_path.write_bytes(bytes(raw))

    report = collect(zip_path, course, HW)

    assert students(course) == {"bob"}
    [skip] = report.skipped
    assert "alice.ipynb" in skip.detail and "unreadable zip entry" in skip.detail


def test_missing_or_wrong_source(tmp_path: Path, course: Path) -> None:
    with pytest.raises(CollectError, match="no such file or folder"):
        collect(tmp_path / "nowhere.zip", course, HW)
    text = write(tmp_path / "notes.txt", b"hi")
    with pytest.raises(CollectError, match=r"neither a folder nor a \.zip file"):
        collect(text, course, HW)
    with pytest.raises(CollectError, match="not a valid assignment id"):
        collect(tmp_path, course, "../hw1")


def test_submitted_folder_is_created(tmp_path: Path) -> None:
    src = tmp_path / "empty"
    src.mkdir()
    course = tmp_path / "deep" / "course"
    report = collect(src, course, HW)
    assert (course / "submitted").is_dir()
    assert report.entries == [] and report.ignored == 0


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_folder_symlinks_are_not_followed(tmp_path: Path, course: Path) -> None:
    secret = write(tmp_path / "outside" / "secret.ipynb", nb_bytes("secret"))
    src = tmp_path / "src"
    write(src / "alice.ipynb", nb_bytes("a"))
    (src / "mallory.ipynb").symlink_to(secret)
    (src / "eve").symlink_to(secret.parent, target_is_directory=True)

    report = collect(src, course, HW)

    assert students(course) == {"alice"}
    assert {e.detail for e in report.skipped} == {
        "mallory.ipynb: a symbolic link, not followed",
        "eve: a symbolic link, not followed",
    }


# ---------------------------------------------------------------------------------------------------
# malformed notebooks


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_notebook_is_reported(tmp_path: Path, course: Path, kind: str) -> None:
    data, reason = MALFORMED[kind]
    src = tmp_path / "src"
    write(src / "mallory" / f"{HW}.ipynb", data)
    write(src / "alice" / f"{HW}.ipynb", nb_bytes())

    report = collect(src, course, HW)

    assert students(course) == {"alice"}
    [bad] = report.malformed
    assert bad.student == "mallory" and reason in bad.detail
    assert notebook_problem(data) is not None and reason in notebook_problem(data)


def test_malformed_in_a_zip_is_reported(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(
        tmp_path / "m.zip",
        {f"{name.replace(' ', '-')}_1_2_{HW}.ipynb": data for name, (data, _) in MALFORMED.items()},
    )
    report = collect(zip_path, course, HW)
    assert students(course) == set()
    assert len(report.malformed) == len(MALFORMED)


def test_notebook_problem_accepts_valid_notebooks() -> None:
    assert notebook_problem(nb_bytes()) is None
    assert notebook_problem(b"\xef\xbb\xbf" + nb_bytes()) is None
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    assert "no cells" in notebook_problem(nbformat.writes(nbformat.from_dict(v3), 3).encode())


def test_byte_order_mark_is_removed(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice.ipynb", b"\xef\xbb\xbf" + nb_bytes())
    collect(src, course, HW)
    assert submitted(course, "alice").read_bytes() == nb_bytes()
    nbformat.read(submitted(course, "alice"), as_version=4)


# ---------------------------------------------------------------------------------------------------
# collecting again


def test_recollect_unchanged_then_updated(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(
        tmp_path / "a.zip", {"alice.ipynb": nb_bytes("v1"), "bob.ipynb": nb_bytes()}
    )
    assert statuses(collect(zip_path, course, HW)) == {"alice": "added", "bob": "added"}
    dest = submitted(course, "alice")
    mtime_ns = dest.stat().st_mtime_ns

    again = collect(zip_path, course, HW, now=datetime(2030, 1, 1))
    assert statuses(again) == {"alice": "unchanged", "bob": "unchanged"}
    assert dest.stat().st_mtime_ns == mtime_ns
    assert timestamp(course, "alice") == STAMP  # untouched: `now` applies only to what is written

    later = (2024, 3, 2, 9, 0, 0)
    zip2 = make_zip(
        tmp_path / "b.zip",
        {"alice.ipynb": nb_bytes("v2"), "bob.ipynb": nb_bytes()},
        dates={"alice.ipynb": later},
    )
    third = collect(zip2, course, HW)
    assert statuses(third) == {"alice": "updated", "bob": "unchanged"}
    assert dest.read_bytes() == nb_bytes("v2")
    assert timestamp(course, "alice") == "2024-03-02 09:00:00.000000 UTC"
    assert sorted(p.name for p in dest.parent.iterdir()) == [f"{HW}.ipynb", "timestamp.txt"]


def test_malformed_resubmission_keeps_the_good_one(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice" / f"{HW}.ipynb", nb_bytes("good"))
    collect(src, course, HW)
    good_stamp = timestamp(course, "alice")

    write(src / "alice" / f"{HW}.ipynb", nb_bytes("good")[:50])
    report = collect(src, course, HW, now=datetime(2031, 1, 1))

    assert report.status_of("alice") == "malformed"
    assert "not JSON" in report.malformed[0].detail
    assert "previous submission is kept" in report.malformed[0].detail
    assert submitted(course, "alice").read_bytes() == nb_bytes("good")
    assert timestamp(course, "alice") == good_stamp


# ---------------------------------------------------------------------------------------------------
# several notebooks per student


def test_the_notebook_named_like_the_assignment_wins(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice" / f"{HW}.ipynb", nb_bytes("named"), datetime(2024, 1, 1, tzinfo=UTC))
    write(src / "alice" / "scratch.ipynb", nb_bytes("newer"), datetime(2024, 6, 1, tzinfo=UTC))

    report = collect(src, course, HW)

    assert submitted(course, "alice").read_bytes() == nb_bytes("named")
    [entry] = report.added
    assert f"alice/{HW}.ipynb" in entry.detail
    assert f"chosen of 2 notebooks as named {HW}.ipynb" in entry.detail


def test_else_the_newest_wins(tmp_path: Path, course: Path) -> None:
    zip_path = make_zip(
        tmp_path / "z.zip",
        {
            "alice/draft.ipynb": nb_bytes("old"),
            "alice/final.ipynb": nb_bytes("new"),
            "alice/broken.ipynb": b"{",
        },
        dates={
            "alice/draft.ipynb": (2024, 1, 1, 0, 0, 0),
            "alice/final.ipynb": (2024, 2, 1, 0, 0, 0),
            "alice/broken.ipynb": (2024, 3, 1, 0, 0, 0),  # newest, but not a notebook
        },
    )
    report = collect(zip_path, course, HW)

    assert submitted(course, "alice").read_bytes() == nb_bytes("new")
    assert timestamp(course, "alice") == "2024-02-01 00:00:00.000000 UTC"
    [entry] = report.added
    assert "chosen of 3 notebooks as the newest" in entry.detail
    assert "alice/broken.ipynb: not JSON" in entry.detail


def test_flat_and_folder_submissions_of_one_student_merge(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice" / "a.ipynb", nb_bytes("folder"), datetime(2024, 1, 1, tzinfo=UTC))
    write(src / "alice_b.ipynb", nb_bytes("flat"), datetime(2024, 1, 2, tzinfo=UTC))
    report = collect(src, course, HW)
    assert [e.student for e in report.entries] == ["alice"]
    assert submitted(course, "alice").read_bytes() == nb_bytes("flat")


def test_ids_that_collide_after_sanitising_are_not_merged(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "José" / f"{HW}.ipynb", nb_bytes("1"))
    write(src / "Jose" / f"{HW}.ipynb", nb_bytes("2"))
    report = collect(src, course, HW)
    assert report.status_of("Jose") == "skipped"
    assert "several ids" in report.skipped[0].detail
    assert not submitted(course, "Jose").exists()


# ---------------------------------------------------------------------------------------------------
# report and command line


def test_report_text(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    write(src / "alice.ipynb", nb_bytes())
    write(src / "bob.ipynb", b"")
    write(src / "notes.txt", b"x")
    text = str(collect(src, course, HW))
    first = text.splitlines()[0]
    assert first.endswith(
        "1 added, 0 updated, 0 unchanged, 1 malformed, 0 skipped; 1 other file ignored"
    )
    assert any(line.split()[:2] == ["malformed", "bob"] for line in text.splitlines())


def test_format_timestamp() -> None:
    assert format_timestamp(datetime(2024, 3, 1, 14, 5)) == STAMP


# ---------------------------------------------------------------------------------------------------
# crafted entries: each is one line of the report, and every good entry after it is collected


def one_line(entry) -> bool:
    return "\n" not in entry.detail and len(entry.detail) < 400


def test_a_zip_with_a_deeply_nested_notebook_between_good_ones(
    tmp_path: Path, course: Path
) -> None:
    import json

    with pytest.raises(RecursionError):
        json.loads(deep_bytes())  # what collect died of, with the students after it not collected
    zip_path = make_zip(
        tmp_path / "class.zip",
        {"amy.ipynb": nb_bytes("a"), "bob.ipynb": deep_bytes(), "cy.ipynb": nb_bytes("c")},
    )

    report = collect(zip_path, course, HW)

    assert students(course) == {"amy", "cy"}
    assert statuses(report) == {"amy": "added", "bob": "malformed", "cy": "added"}
    [bad] = report.malformed
    assert "bob.ipynb: nested deeper than 64 levels" in bad.detail and one_line(bad)
    assert sum("bob" in line for line in str(report).splitlines()) == 1


def test_a_folder_tree_1200_levels_deep_is_one_line(tmp_path: Path, course: Path) -> None:
    src = tmp_path / "src"
    levels = [src / "bob"]
    levels[0].mkdir(parents=True)
    try:
        for _ in range(1200):  # a level at a time: mkdir(parents=True) itself recurses per level
            levels.append(levels[-1] / "d")
            levels[-1].mkdir()
        write(levels[-1] / f"{HW}.ipynb", nb_bytes("hidden far down"))
        write(src / "amy" / f"{HW}.ipynb", nb_bytes("a"))
        write(src / "cy" / f"{HW}.ipynb", nb_bytes("c"))

        report = collect(src, course, HW)

        assert students(course) == {"amy", "cy"}
        [skip] = report.skipped
        assert "folders more than 32 deep, not read" in skip.detail and one_line(skip)
    finally:  # bottom up: shutil.rmtree (pytest's clean-up of old runs) recurses once per level
        (levels[-1] / f"{HW}.ipynb").unlink(missing_ok=True)
        for level in reversed(levels):
            level.rmdir()


def test_a_zip_entry_too_deep_is_skipped(tmp_path: Path, course: Path) -> None:
    deep_name = "bob/" + "d/" * 100 + f"{HW}.ipynb"
    zip_path = make_zip(tmp_path / "z.zip", {deep_name: nb_bytes("b"), "cy.ipynb": nb_bytes("c")})
    report = collect(zip_path, course, HW)
    assert students(course) == {"cy"}
    [skip] = report.skipped
    assert "more than 32 folders deep" in skip.detail and one_line(skip)


def test_a_zip_bomb_costs_its_cap_and_its_line(tmp_path: Path, course: Path) -> None:
    zip_path = tmp_path / "bomb.zip"
    bomb = b" " * (64 << 20)  # 64 MiB of blanks: 64 KiB deflated
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("amy.ipynb", nb_bytes("a"))
        archive.writestr("bob.ipynb", bomb)
        archive.writestr("cy.ipynb", nb_bytes("c"))
    raw = bytearray(zip_path.read_bytes())
    # bob's entry lies: it declares 100 bytes (in the local header and the central directory)
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = -1
        while (at := raw.find(header, at + 1)) >= 0:
            name_at = at + (30 if header == b"PK\x03\x04" else 46)
            if raw[name_at : name_at + 9] == b"bob.ipynb":
                raw[at + offset : at + offset + 4] = (100).to_bytes(4, "little")
    zip_path.write_bytes(bytes(raw))
    assert zip_path.stat().st_size < 1 << 20

    report = collect(zip_path, course, HW)

    assert students(course) == {"amy", "cy"}
    [bad] = report.skipped + report.malformed
    assert "bob.ipynb" in bad.detail and one_line(bad)


def test_an_unexpected_error_on_one_student_is_one_line(
    tmp_path: Path, course: Path, monkeypatch
) -> None:
    import autograder.collect as collect_module

    real = collect_module.parse_notebook

    def crafted(data: bytes):
        if b"bob" in data:
            raise RecursionError("maximum recursion depth exceeded")
        return real(data)

    monkeypatch.setattr(collect_module, "parse_notebook", crafted)
    src = tmp_path / "src"
    for student in ("amy", "bob", "cy"):
        write(src / f"{student}.ipynb", nb_bytes(student))

    report = collect(src, course, HW)

    assert students(course) == {"amy", "cy"}
    [bad] = [e for e in report.entries if e.student == "bob"]
    assert bad.status == "skipped" and "RecursionError" in bad.detail and one_line(bad)
