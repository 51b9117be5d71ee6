"""The instructor's command line: ``python -m autograder COMMAND``.

    course create DIR [--db-url URL] [--unprotected]   a course folder (nbgrader's layout + gradebook)
    release DIR [ASSIGNMENT ...]                       the student versions (nbgrader generate_assignment)
    collect DIR ASSIGNMENT SOURCE                      submissions from a folder or an LMS zip export
    grade DIR ASSIGNMENT [--workers N | --scheduler URL] [--force] [--student ID ...] [--task NAME]
                                                       sandboxed, parallel, resumable autograding on
                                                       a Dask cluster: a local one (N workers), or
                                                       the running one at URL (tcp://HOST:8786)
    feedback DIR ASSIGNMENT                            feedback HTML (no hidden tests in it)
    export DIR [--format F] [--out DIR]                grades for an LMS (F: csv, the default: a CSV per
                                                       assignment with a column per task, and overall;
                                                       canvas, moodle, gradescope, nbgrader), review.csv
    review DIR [ASSIGNMENT]                            the submissions a person should look at, and why
    report DIR [--out DIR]                             report.html: grade distributions, failure rates
    demo [--course DIR] [--workers N] [--homework hw1 ...]
                                                       all of it on sample submissions, then a grade table

A problem with the input (no such course, a bad zip, an unknown assignment, no sandbox here, a Dask
scheduler that cannot be reached) ends the command with one line that says what is wrong, and exit
status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .build import SPECS, load_spec

ASSIGNMENTS = {load_spec(name).assignment: name for name in SPECS}


class UsageError(Exception):
    """A problem the user can fix; printed as one line."""


def _assignment(name: str) -> str:
    if name in ASSIGNMENTS:
        return name
    for assignment, homework in ASSIGNMENTS.items():
        if name == homework:
            return assignment
    raise UsageError(f"no assignment {name!r}; the assignments are {', '.join(ASSIGNMENTS)}")


# ---------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------


def cmd_course_create(args) -> int:
    from .course import create_course

    course = create_course(Path(args.dir), db_url=args.db_url, unprotected=args.unprotected)
    print(f"course created in {course.root} (gradebook: {args.db_url or 'gradebook.db'})")
    return 0


def cmd_release(args) -> int:
    from .course import open_course

    course = open_course(Path(args.dir))
    api = course.api()
    for assignment in [_assignment(a) for a in args.assignments] or list(ASSIGNMENTS):
        outcome = api.generate_assignment(assignment, force=True, create=True)
        if not outcome["success"]:
            raise UsageError(f"nbgrader could not release {assignment}: {outcome.get('error')}")
        print(f"released {assignment} -> {course.folder('release', assignment)}")
    return 0


def cmd_collect(args) -> int:
    from .collect import collect
    from .course import open_course

    course = open_course(Path(args.dir))
    report = collect(Path(args.source), course.root, _assignment(args.assignment))
    print(report)
    return 0


def cmd_grade(args) -> int:
    from .batch import BatchBusy, SchedulerUnreachable, grade_batch, progress_bar, read_records
    from .course import open_course

    course = open_course(Path(args.dir))
    assignment = _assignment(args.assignment)
    if args.scheduler and args.workers:
        raise UsageError("--workers is the size of the local cluster: not with --scheduler")
    if not args.scheduler:  # a cluster's workers check their own sandbox (not graded if none)
        _check_sandbox(course)
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # its failures end in one line here
    before = read_records(course, assignment) if args.task else {}
    if args.task:
        from .nbgrader_plugin import homework_for

        known = _task_names(homework_for(assignment))
        if args.task not in known:
            raise UsageError(
                f"{assignment} has no task {args.task!r} (its tasks: {', '.join(known)})"
            )
    try:
        result = grade_batch(
            course,
            assignment,
            workers=args.workers,
            progress=progress_bar,
            force=args.force or bool(args.task),
            students=args.student,
            scheduler=args.scheduler,
        )
    except (BatchBusy, SchedulerUnreachable, ValueError) as err:
        raise UsageError(str(err)) from None
    print(
        f"{assignment}: graded {len(result.graded)}, up to date {len(result.skipped)}, "
        f"not graded {len(result.failed)} in {result.seconds:.0f} s"
    )
    for student, why in result.failed.items():
        print(f"  not graded: {student}: {why} (the next `grade` tries it again)")
    if args.task:
        _print_task_changes(args.task, before, read_records(course, assignment))
    from .course import COURSE_ID
    from .report import grade_table

    if result.graded or result.skipped:  # the gradebook has this assignment's grades to show
        from .batch import not_graded

        failed = not_graded(course, [assignment]).get(assignment)
        print(grade_table(_db_url(course), assignment, COURSE_ID, not_graded=failed))
    _print_review(read_records(course, assignment))
    return 1 if result.failed else 0


def _task_names(homework: str) -> list[str]:
    from .build import load_spec
    from .cells import Task

    return [cell.name for cell in load_spec(homework).cells if isinstance(cell, Task)]


def _print_task_changes(task: str, before: dict[str, dict], after: dict[str, dict]) -> None:
    """What regrading changed in one task's points, student by student."""
    changes = []
    for student, record in sorted(after.items()):
        new = record.get("tasks", {}).get(task, [None])[0]
        old = before.get(student, {}).get("tasks", {}).get(task, [None])[0]
        if old != new:
            changes.append(f"  {student}: {old if old is not None else '-'} -> {new}")
    print(f"{task}: {len(changes)} score(s) changed" + (":" if changes else ""))
    for line in changes:
        print(line)


def _check_sandbox(course) -> None:
    """Refuse to grade without the sandbox unless the course says so (SandboxUnavailable names why)."""
    from .sandbox import Limits, Sandbox, cgroups_available

    if not course.load_config().TrustedGrading.get("unprotected", False):
        Sandbox().close()  # raises SandboxUnavailable, naming each missing protection
        if not cgroups_available():
            limits = Limits()
            bound = limits.processes * limits.memory_bytes / 2**30
            print(
                "warning: no writable memory cgroup here: a sandbox's memory is bounded per "
                f"process only (at most {limits.processes} processes x "
                f"{limits.memory_bytes / 2**30:g} GiB = {bound:g} GiB of address space)",
                file=sys.stderr,
            )


def cmd_feedback(args) -> int:
    from .course import open_course

    course = open_course(Path(args.dir))
    assignment = _assignment(args.assignment)
    outcome = course.api().generate_feedback(assignment, force=True)
    if not outcome["success"]:
        raise UsageError(f"nbgrader could not generate feedback: {outcome.get('error')}")
    print(f"feedback in {course.folder('feedback')}/<student>/{assignment}/")
    return 0


def _db_url(course) -> str:
    return str(course.load_config().CourseDirectory.db_url)


def cmd_export(args) -> int:
    from .batch import read_records
    from .course import COURSE_ID, open_course
    from .exports import export

    course = open_course(Path(args.dir))
    if args.visibility and args.format != "gradescope":
        raise UsageError("--visibility is Gradescope's setting: use it with --format gradescope")
    if args.out:
        out = Path(args.out).expanduser().absolute()
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {args.out} exists and is not a folder")
        if not out.parent.is_dir():
            raise UsageError(
                f"--out {args.out}: its parent folder {out.parent} does not exist "
                "(only the last folder of --out is created)"
            )
    else:
        out = course.root / "exports"
        out = out if args.format == "csv" else out / args.format
    records = {assignment: read_records(course, assignment) for assignment in ASSIGNMENTS}
    visibility = args.visibility or "after_published"
    done = export(args.format, _db_url(course), out, COURSE_ID, records, visibility)
    results = [p for p in done.paths if p.name == "results.json"]
    for path in done.paths:
        if path.name != "results.json":
            print(path)
    if args.format == "gradescope":
        print(
            f"{len(results)} results.json in {out}/<assignment>/<student>/ (visibility {visibility})"
        )
    for assignment, student in done.skipped:
        print(f"skipped: {assignment}/{student!r}: the student id cannot be a folder name")
    for assignment, student in done.not_graded:
        print(f"not graded: {assignment}/{student}: no grade exported (see review.csv)")
    if done.waiting:
        print(
            f"{len(done.waiting)} submission(s) have a written answer not graded yet: it counts 0 "
            "in these grades until graded (nbgrader's formgrader); export again then"
        )
    return 0


def cmd_review(args) -> int:
    from .batch import read_records
    from .course import open_course
    from .grades import ReportError, load_students, review_items
    from .report import review_text

    course = open_course(Path(args.dir))
    assignments = [_assignment(args.assignment)] if args.assignment else list(ASSIGNMENTS)
    records = {assignment: read_records(course, assignment) for assignment in assignments}
    try:
        students = load_students(_db_url(course))
    except ReportError:  # no gradebook yet, or not readable: the ids alone
        students = {}
    print(review_text(review_items(records), assignments, students))
    return 0


def cmd_report(args) -> int:
    from .batch import read_records
    from .course import COURSE_ID, open_course
    from .grades import review_items
    from .report import write_report

    course = open_course(Path(args.dir))
    out = Path(args.out) if args.out else course.root / "exports"
    records = {assignment: read_records(course, assignment) for assignment in ASSIGNMENTS}
    print(write_report(_db_url(course), out, COURSE_ID, review=review_items(records)))
    return 0


def _print_review(records: dict[str, dict]) -> None:
    flagged = {s: r["review"] for s, r in records.items() if r.get("review")}
    if flagged:
        print("for review:")
        for student, reasons in sorted(flagged.items()):
            for reason in reasons:
                print(f"  {student}: {reason}")


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(
        Path(args.course) if args.course else None,
        homeworks=args.homework or list(SPECS),
        workers=args.workers,
    )


# ---------------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m autograder", description="Grade the dl-homework assignments."
    )
    commands = root.add_subparsers(dest="command", required=True)

    course = commands.add_parser("course", help="course folders").add_subparsers(
        dest="action", required=True
    )
    create = course.add_parser("create", help="create a course folder (outside the repo)")
    create.add_argument("dir")
    create.add_argument("--db-url", help="SQLAlchemy URL of the gradebook (default: SQLite in DIR)")
    create.add_argument(
        "--unprotected",
        action="store_true",
        help="grade without the sandbox (only where it cannot be set up)",
    )
    create.set_defaults(run=cmd_course_create)

    release = commands.add_parser("release", help="generate the student versions")
    release.add_argument("dir")
    release.add_argument("assignments", nargs="*", help="default: all")
    release.set_defaults(run=cmd_release)

    collect = commands.add_parser("collect", help="take in submissions (folder or LMS zip)")
    collect.add_argument("dir")
    collect.add_argument("assignment")
    collect.add_argument("source")
    collect.set_defaults(run=cmd_collect)

    workers = {
        "type": int,
        "default": None,
        "help": "worker processes of the local Dask cluster (default: one per core)",
    }
    grade = commands.add_parser("grade", help="autograde the submissions (sandboxed, resumable)")
    grade.add_argument("dir")
    grade.add_argument("assignment")
    grade.add_argument("--workers", **workers)
    grade.add_argument(
        "--scheduler",
        metavar="URL",
        help="grade on the running Dask cluster at URL (tcp://HOST:8786) instead of a local one; "
        "its workers need this package, bubblewrap and root",
    )
    grade.add_argument(
        "--force", action="store_true", help="regrade every submission, up to date or not"
    )
    grade.add_argument(
        "--student", nargs="+", metavar="ID", help="regrade only these students' submissions"
    )
    grade.add_argument(
        "--task",
        metavar="NAME",
        help="regrade every submission (e.g. after fixing that task's check) and list whose "
        "points in that task changed",
    )
    grade.set_defaults(run=cmd_grade)

    feedback = commands.add_parser("feedback", help="generate feedback HTML")
    feedback.add_argument("dir")
    feedback.add_argument("assignment")
    feedback.set_defaults(run=cmd_feedback)

    for name, run, text in (
        ("export", cmd_export, "grades as CSV or in an LMS's import format, and review.csv"),
        ("report", cmd_report, "report.html with plots"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("dir")
        sub.add_argument("--out", help="output folder (default: DIR/exports)")
        sub.set_defaults(run=run)
        if name == "export":
            from .exports import FORMATS, VISIBILITIES

            sub.add_argument(
                "--format",
                choices=FORMATS,
                default="csv",
                help="csv (default: a CSV per assignment, a column per task; in DIR/exports), or an "
                "LMS's import format (in DIR/exports/FORMAT): canvas, moodle, gradescope "
                "(results.json per submission), nbgrader (nbgrader export's CSV)",
            )
            sub.add_argument(
                "--visibility",
                choices=VISIBILITIES,
                help="Gradescope: when students see the results (default: after_published)",
            )

    review = commands.add_parser("review", help="list the submissions to look at, and why")
    review.add_argument("dir")
    review.add_argument("assignment", nargs="?", help="default: every assignment")
    review.set_defaults(run=cmd_review)

    demo = commands.add_parser("demo", help="the whole workflow on sample submissions")
    demo.add_argument("--course", help="keep the demo course in this folder (default: a temp one)")
    demo.add_argument("--workers", **workers)
    demo.add_argument("--homework", nargs="*", choices=list(SPECS), help="default: all four")
    demo.set_defaults(run=cmd_demo)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .collect import CollectError
    from .course import CourseError
    from .report import ReportError
    from .sandbox import SandboxUnavailable

    try:
        return args.run(args)
    except (UsageError, CourseError, CollectError, ReportError, SandboxUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
