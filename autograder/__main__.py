"""The instructor's command line, the only one: ``python -m autograder COMMAND``.

    course create DIR [--db-url URL] [--unprotected]   a course folder (nbgrader's layout + gradebook)
    release DIR [ASSIGNMENT ...]                       the student versions (nbgrader generate_assignment)
    collect DIR ASSIGNMENT SOURCE [--now]              submissions from a folder or an LMS zip export
    grade DIR ASSIGNMENT [--workers N | --scheduler URL] [--force] [--student ID ...] [--task NAME]
                                                       sandboxed, parallel, resumable autograding on
                                                       a Dask cluster: a local one (N workers), or
                                                       the running one at URL (tcp://HOST:8786)
    feedback DIR ASSIGNMENT                            feedback pages for the students (no hidden tests,
                                                       task names, maths rendered offline)
    export DIR [--format F] [--out DIR]                grades for an LMS (F: csv, the default: a CSV per
                                                       assignment with a column per task, and overall;
                                                       canvas, moodle, gradescope, nbgrader), review.csv
    review DIR [ASSIGNMENT]                            the submissions a person should look at, and why
    report DIR [--out DIR] [--table ASSIGNMENT]        report.html: grade distributions, failure rates;
                                                       a summary line per assignment on the terminal
    demo [--course DIR] [--workers N] [--homework hw1 ...]
                                                       all of it on sample submissions, then a grade table

DIR is always the course folder first; ``python -m autograder COMMAND --help`` explains each argument
and ends with an example. A problem with the input (a bad argument, no such course, a bad zip, an
unknown assignment, nothing graded yet, no sandbox here, a Dask scheduler that cannot be reached) ends
the command with one line, ``error: ...``, that says what is wrong, and exit status 2
(:class:`autograder.errors.UserError`, the base class of every error about the input); ``grade``
exits 1 when the grader failed on a submission (*not graded*, listed).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from .build import SPECS
from .errors import EXIT_USER_ERROR, UserError, last_line, one_line
from .registry import homeworks

ASSIGNMENTS = {h.assignment: h.key for h in homeworks().values()}
UsageError = UserError  # the name this module used before errors.py


def _assignment(name: str) -> str:
    if name in ASSIGNMENTS:
        return name
    for assignment, homework in ASSIGNMENTS.items():
        if name == homework:
            return assignment
    raise UserError(
        f"no assignment {name!r}; the assignments are {', '.join(ASSIGNMENTS)} "
        f"(or {', '.join(SPECS)})"
    )


def _nbgrader_failed(what: str, outcome: dict) -> UserError:
    """nbgrader's failure (its ``error`` is a whole traceback) as one line."""
    return UserError(f"nbgrader could not {what}: {last_line(outcome.get('error'))}")


def _out_folder(option: str | None) -> Path | None:
    """``--out``: a folder, or one to create whose parent exists (never a chain of new folders)."""
    if not option:
        return None
    out = Path(option).expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {option} exists and is not a folder")
    if not out.parent.is_dir():
        raise UserError(
            f"--out {option}: its parent folder {out.parent} does not exist "
            "(only the last folder of --out is created)"
        )
    return out


# ---------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------


def cmd_course_create(args) -> int:
    from .course import create_course

    course = create_course(
        Path(args.dir), db_url=args.db_url, unprotected=args.unprotected, lang=args.lang
    )
    print(
        f"course created in {course.root} (gradebook: {args.db_url or 'gradebook.db'}; "
        f"edition: {args.lang})"
    )
    return 0


def cmd_release(args) -> int:
    from .course import open_course
    from .release import LECTURES, release_lectures

    course = open_course(Path(args.dir))
    api = course.api()
    for assignment in [_assignment(a) for a in args.assignments] or list(ASSIGNMENTS):
        outcome = api.generate_assignment(assignment, force=True, create=True)
        if not outcome["success"]:
            raise _nbgrader_failed(f"release {assignment}", outcome)
        print(f"released {assignment} -> {course.folder('release', assignment)}")
    lectures = LECTURES if course.lang == "en" else LECTURES / course.lang
    print(f"released the lectures -> {release_lectures(course.folder('release'), lectures)}")
    return 0


def cmd_collect(args) -> int:
    from datetime import UTC, datetime

    from .collect import CollectError, collect
    from .course import open_course

    course = open_course(Path(args.dir))
    assignment = _assignment(args.assignment)
    try:
        report = collect(
            Path(args.source), course.root, assignment, now=datetime.now(UTC) if args.now else None
        )
    except CollectError:
        raise
    except Exception as err:  # a source the reader chokes on as a whole: one line, not a traceback
        what = (
            f"{type(err).__name__}: {one_line(err, 150)}"
            if str(err).strip()
            else type(err).__name__
        )
        raise UserError(f"collecting {args.source} failed ({what})") from None
    print(report)
    return 0


def cmd_grade(args) -> int:
    from .batch import BatchBusy, SchedulerUnreachable, grade_batch, progress_bar, read_records
    from .course import open_course

    course = open_course(Path(args.dir))
    assignment = _assignment(args.assignment)
    if args.scheduler and args.workers:
        raise UserError("--workers is the size of the local cluster: not with --scheduler")
    if not args.scheduler:  # a cluster's workers check their own sandbox (not graded if none)
        _check_sandbox(course)
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # its failures end in one line here
    before = read_records(course, assignment) if args.task else {}
    if args.task:
        from .nbgrader_plugin import homework_for

        known = _task_names(homework_for(assignment))
        if args.task not in known:
            raise UserError(
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
        raise UserError(str(err)) from None
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
    graded = sorted(course.folder("autograded").glob(f"*/{assignment}/{assignment}.ipynb"))
    if not graded:
        raise UserError(
            f"no submission of {assignment} is graded yet: grade first "
            f"(python -m autograder grade {args.dir} {args.assignment})"
        )
    outcome = course.api().generate_feedback(assignment, force=True)
    if not outcome["success"]:
        raise _nbgrader_failed("generate the feedback", outcome)
    print(
        f"feedback for {len(graded)} student(s) in {course.folder('feedback')}/<student>/"
        f"{assignment}/ ({assignment}.html, with the mathjax/ folder it needs beside it)"
    )
    return 0


def _db_url(course) -> str:
    return str(course.load_config().CourseDirectory.db_url)


def cmd_export(args) -> int:
    from .batch import read_records
    from .course import COURSE_ID, open_course
    from .exports import export

    course = open_course(Path(args.dir))
    if args.visibility and args.format != "gradescope":
        raise UserError("--visibility is Gradescope's setting: use it with --format gradescope")
    out = _out_folder(args.out)
    if out is None:
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
    from .batch import not_graded, read_records
    from .course import COURSE_ID, open_course
    from .grades import review_items
    from .report import grade_table, summary, write_report

    course = open_course(Path(args.dir))
    table = _assignment(args.table) if args.table else None
    out = _out_folder(args.out) or course.root / "exports"
    records = {assignment: read_records(course, assignment) for assignment in ASSIGNMENTS}
    page = write_report(_db_url(course), out, COURSE_ID, review=review_items(records))
    print(summary(_db_url(course), COURSE_ID))
    if table:
        failed = not_graded(course, [table]).get(table)
        print(grade_table(_db_url(course), table, COURSE_ID, not_graded=failed))
    print(page)
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
        lang=args.lang,
    )


# ---------------------------------------------------------------------------------------------------

PROG = "python -m autograder"
COURSE_DIR = "the course folder (made by `course create`)"
ASSIGNMENT_HELP = (
    "the assignment: its nbgrader name (hw1_linear_regression) or the homework's (hw1)"
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is a :class:`UserError` (one line, exit 2), not usage text."""

    def error(self, message: str):
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def _command(commands, name: str, text: str, example: str, description: str = ""):
    """A subcommand whose --help says what it does, what each argument is, and shows an example."""
    return commands.add_parser(
        name,
        help=text,
        description=textwrap.fill((description or text[0].upper() + text[1:]) + ".", 88),
        epilog="example:\n" + "\n".join(f"  {PROG} {line}" for line in example.splitlines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def parser() -> argparse.ArgumentParser:
    root = _Parser(
        prog=PROG,
        description=textwrap.fill(
            "Grade the dl-homework assignments: the instructor's one command line. DIR, the "
            "course folder, is every command's first argument.",
            88,
        ),
        epilog="example, the whole workflow:\n"
        + "\n".join(
            f"  {PROG} {line}"
            for line in (
                "course create ~/dl-course",
                "release ~/dl-course",
                "collect ~/dl-course hw1 submissions.zip",
                "grade ~/dl-course hw1",
                "feedback ~/dl-course hw1",
                "export ~/dl-course --format canvas",
                "report ~/dl-course",
            )
        )
        + f"\n\n{PROG} COMMAND --help: the command's arguments and an example",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of these (in workflow order):"
    )

    course = _command(
        commands,
        "course",
        "course folders",
        "course create ~/dl-course",
        "Course folders; one action: create",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    create = _command(
        course,
        "create",
        "create a course folder (outside the repo)",
        "course create ~/dl-course\ncourse create ~/dl-course --db-url postgresql://grader@db/dl",
        "Create a course folder: nbgrader's layout, its configuration (the sandboxed grader plugged "
        "in) and the gradebook",
    )
    create.add_argument("dir", metavar="DIR", help="the folder to create (outside the repository)")
    create.add_argument(
        "--db-url", metavar="URL", help="SQLAlchemy URL of the gradebook (default: SQLite in DIR)"
    )
    create.add_argument(
        "--unprotected",
        action="store_true",
        help="grade without the sandbox (only where it cannot be set up)",
    )
    create.add_argument(
        "--lang",
        choices=("en", "ru"),
        default="en",
        help="the edition the course hands out: notebooks, lectures and check messages (default: en)",
    )
    create.set_defaults(run=cmd_course_create)

    release = _command(
        commands,
        "release",
        "generate the student versions",
        "release ~/dl-course hw1 hw2",
        "Generate the student versions of assignments into DIR/release (nbgrader "
        "generate_assignment), and the lectures into DIR/release/lectures, beside them: the "
        "homeworks' lecture links point there. Hand both out with nbgrader release_assignment.",
    )
    release.add_argument("dir", metavar="DIR", help=COURSE_DIR)
    release.add_argument(
        "assignments",
        metavar="ASSIGNMENT",
        nargs="*",
        help="the assignments to release (hw1 or hw1_linear_regression, ...; default: all four)",
    )
    release.set_defaults(run=cmd_release)

    collect = _command(
        commands,
        "collect",
        "take in submissions (folder or LMS zip)",
        "collect ~/dl-course hw1 ~/Downloads/moodle-hw1.zip\ncollect ~/dl-course hw1 submissions/",
        "Take in the students' notebooks of one assignment into DIR/submitted: from a folder (a "
        "folder or a file per student) or a Moodle or Canvas zip export; a malformed notebook is "
        "reported and skipped",
    )
    collect.add_argument("dir", metavar="DIR", help=COURSE_DIR)
    collect.add_argument("assignment", metavar="ASSIGNMENT", help=ASSIGNMENT_HELP)
    collect.add_argument(
        "source", metavar="SOURCE", help="a folder of submissions, or a Moodle/Canvas .zip export"
    )
    collect.add_argument(
        "--now",
        action="store_true",
        help="timestamp every submission now, not by its file's or zip entry's date",
    )
    collect.set_defaults(run=cmd_collect)

    workers = {
        "type": int,
        "default": None,
        "metavar": "N",
        "help": "worker processes of the local Dask cluster (default: one per core)",
    }
    grade = _command(
        commands,
        "grade",
        "autograde the submissions (sandboxed, resumable)",
        "grade ~/dl-course hw1 --workers 4\n"
        "grade ~/dl-course hw1 --task mse_gradient\n"
        "grade ~/dl-course hw1 --scheduler tcp://grader-1:8786",
        "Autograde the collected submissions of one assignment: sandboxed, in parallel, resumable "
        "(what is graded and unchanged is skipped); prints the grade table and the review list",
    )
    grade.add_argument("dir", metavar="DIR", help=COURSE_DIR)
    grade.add_argument("assignment", metavar="ASSIGNMENT", help=ASSIGNMENT_HELP)
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

    feedback = _command(
        commands,
        "feedback",
        "generate the students' feedback pages",
        "feedback ~/dl-course hw1",
        "Write each graded student's feedback page, DIR/feedback/STUDENT/ASSIGNMENT/ASSIGNMENT.html "
        "with the mathjax/ folder it needs beside it: every task's points and message, no hidden "
        "test code; after `grade`",
    )
    feedback.add_argument("dir", metavar="DIR", help=COURSE_DIR)
    feedback.add_argument("assignment", metavar="ASSIGNMENT", help=ASSIGNMENT_HELP)
    feedback.set_defaults(run=cmd_feedback)

    from .exports import FORMATS, VISIBILITIES

    export = _command(
        commands,
        "export",
        "grades as CSV or in an LMS's import format, and review.csv",
        "export ~/dl-course\nexport ~/dl-course --format canvas --out ~/canvas-import",
        "Write the grades of every assignment: CSV (a column per task), or an LMS's import format; "
        "review.csv beside them",
    )
    export.add_argument("dir", metavar="DIR", help=COURSE_DIR)
    export.add_argument(
        "--out",
        metavar="FOLDER",
        help="output folder; its parent must exist (default: DIR/exports, DIR/exports/FORMAT)",
    )
    export.add_argument(
        "--format",
        choices=FORMATS,
        default="csv",
        help="csv (default: a CSV per assignment, a column per task; in DIR/exports), or an "
        "LMS's import format (in DIR/exports/FORMAT): canvas, moodle, gradescope "
        "(results.json per submission), nbgrader (nbgrader export's CSV)",
    )
    export.add_argument(
        "--visibility",
        choices=VISIBILITIES,
        help="Gradescope: when students see the results (default: after_published)",
    )
    export.set_defaults(run=cmd_export)

    review = _command(
        commands,
        "review",
        "list the submissions to look at, and why",
        "review ~/dl-course hw1",
        "List the submissions a person should look at (a forbidden use, an attack, a crash, not "
        "graded), and why",
    )
    review.add_argument("dir", metavar="DIR", help=COURSE_DIR)
    review.add_argument(
        "assignment", metavar="ASSIGNMENT", nargs="?", help=ASSIGNMENT_HELP + " (default: all)"
    )
    review.set_defaults(run=cmd_review)

    report = _command(
        commands,
        "report",
        "report.html with plots; a summary line per assignment",
        "report ~/dl-course\nreport ~/dl-course --out ~/reports --table hw1",
        "Write report.html (grade distributions, failure rates per task, the review list) and print "
        "a summary line per assignment",
    )
    report.add_argument("dir", metavar="DIR", help=COURSE_DIR)
    report.add_argument(
        "--out",
        metavar="FOLDER",
        help="output folder; its parent must exist (default: DIR/exports)",
    )
    report.add_argument(
        "--table",
        metavar="ASSIGNMENT",
        help="also print that assignment's grade table (student x task)",
    )
    report.set_defaults(run=cmd_report)

    demo = _command(
        commands,
        "demo",
        "the whole workflow on sample submissions",
        "demo --homework hw1 --workers 2",
        "Release, grade and report the homeworks on sample submissions (references, blanks, bugs, "
        "attacks) in a temporary course",
    )
    demo.add_argument(
        "--course", metavar="DIR", help="keep the demo course in this folder (default: a temp one)"
    )
    demo.add_argument("--workers", **workers)
    demo.add_argument("--homework", nargs="*", choices=list(SPECS), help="default: all four")
    demo.add_argument(
        "--lang",
        choices=("en", "ru"),
        default="en",
        help="the edition: the Russian notebooks and messages with ru (default: en)",
    )
    demo.set_defaults(run=cmd_demo)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status: 0, 1 (``grade``: a submission not graded), 2 (a user
    error: one line on stderr, no traceback), 130 (interrupted)."""
    try:
        args = parser().parse_args(argv)
    except UserError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        return args.run(args)
    except UserError as err:  # every error about the input subclasses it (autograder/errors.py)
        print(f"error: {one_line(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("\nstopped; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
