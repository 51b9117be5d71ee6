"""Generate the nbgrader source notebooks in ``assignments/`` from ``solutions/`` (``make notebooks``).

One source of truth: every solution region in a notebook is the body of a function of ``solutions/``,
taken with :func:`inspect.getsource`. The ``def`` line and the docstring stay outside the region, so the
student sees the signature and the contract and nbgrader replaces only the body. Private helpers a
reference body calls, that give nothing of a task away (input checks, the shuffling order, …), are shipped
in a locked "provided code" cell, also taken from ``solutions/``.

A spec (``autograder/homeworks/<assignment>/spec.py``) lists the cells; ``python -m autograder.build``
writes every notebook, ``python -m autograder.build --out DIR`` writes them under ``DIR`` instead (the
drift test). Notebooks are written without outputs and byte-for-byte reproducibly.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

from . import registry
from .cells import Code, Documented, Markdown, Methods, Provided, Spec, Task, Written
from .i18n import LANGUAGES, Translation, has_edition, translation

REPO = Path(__file__).resolve().parent.parent
SPECS = tuple(registry.homeworks())  # "hw1", …: every homework the registry finds

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


# ---------------------------------------------------------------------------------------------------
# Source from solutions/
# ---------------------------------------------------------------------------------------------------


def _body_markers(node: ast.FunctionDef, name: str) -> tuple[int, int, str]:
    """Where the solution region of a function node goes: (after line, last line, indentation).

    The region is the body after the docstring; line numbers are 1-based, as in ``ast``.
    """
    body = node.body
    has_docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    if has_docstring and len(body) == 1:
        raise ValueError(f"{name} has nothing but a docstring")
    first = body[1] if has_docstring else body[0]
    head_end = body[0].end_lineno if has_docstring else first.lineno - 1
    return head_end, node.end_lineno, " " * first.col_offset


def _has_docstring(node: ast.FunctionDef) -> bool:
    first = node.body[0]
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)


def solution_source(fn) -> str:
    """``fn``'s source with its body (after the docstring) wrapped in the solution markers.

    ``fn`` may be a :class:`Documented` private helper: its docstring is inserted after the ``def``;
    or :class:`Methods`: a class whose listed methods get their bodies wrapped, one region each (the
    class line, its docstring and the other methods stay as they are).
    """
    if isinstance(fn, Methods):
        return _methods_source(fn)
    doc = None
    if isinstance(fn, Documented):
        fn, doc = fn.fn, fn.doc
    source = textwrap.dedent(inspect.getsource(fn))
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef):
        raise TypeError(f"{fn.__qualname__} is not a function")
    head_end, _, indent = _body_markers(node, fn.__qualname__)
    lines = source.splitlines()
    head = lines[:head_end]
    if doc is not None:
        if _has_docstring(node):
            raise ValueError(f"{fn.__qualname__} has a docstring already")
        head.append(f'{indent}"""{doc}"""')
    return "\n".join([*head, indent + BEGIN, *lines[head_end:], indent + END])


def _methods_source(methods: Methods) -> str:
    cls = methods.cls
    source = textwrap.dedent(inspect.getsource(cls))
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.ClassDef):
        raise TypeError(f"{cls.__qualname__} is not a class")
    defs = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
    missing = [name for name in methods.names if name not in defs]
    if missing:
        raise ValueError(f"{cls.__qualname__} defines no method {', '.join(missing)}")
    lines = source.splitlines()
    # from the last method up, so that the earlier line numbers stay valid
    for name in sorted(methods.names, key=lambda n: defs[n].lineno, reverse=True):
        head_end, end, indent = _body_markers(defs[name], f"{cls.__qualname__}.{name}")
        lines[head_end:end] = [indent + BEGIN, *lines[head_end:end], indent + END]
    return "\n".join(lines)


def provided_source(imports: str, objects: list, extra: str = "") -> str:
    """The imports, then the source of each object (functions and classes), then ``extra``."""
    parts = [imports.strip()]
    parts += [textwrap.dedent(inspect.getsource(obj)).strip() for obj in objects]
    if extra.strip():
        parts.append(extra.strip())
    return "\n\n\n".join(parts)


SCAN_MODULE = REPO / "autograder" / "checks" / "source_scan.py"  # released as it is


def forbidden_rules(task: Task) -> tuple[str, ...]:
    """The names of what ``task``'s check forbids (``Check.forbid``): autograd, torch.optim, …"""
    check = importlib.import_module(task.checks).CHECKS[task.name]
    return tuple(rule.name for rule in check.forbid)


def scan_line_comment() -> str:
    return "# released beside this notebook"


def scan_line(task: Task, rules: tuple[str, ...]) -> str:
    """The first line of a forbidding task's tests: the grader's scan, run on the student's code
    (:func:`autograder.checks.source_scan.assert_allowed`, released beside the notebook), so the
    visible tests and ``nbgrader validate`` fail with the grader's message."""
    rules = ", ".join(f'"{rule}"' for rule in rules)
    return (
        f"from source_scan import assert_allowed  {scan_line_comment()}\n\n"
        f'assert_allowed("{task.name}", {task.name}, {rules})'
    )


def hidden_block(checks: str, name: str) -> str:
    return "\n".join(
        [
            BEGIN_HIDDEN,
            f"from {checks} import verdict as _verdict",
            "",
            f'_result = _verdict("{name}", {name})',
            "assert _result.passed, _result.message",
            END_HIDDEN,
        ]
    )


# ---------------------------------------------------------------------------------------------------
# The notebook
# ---------------------------------------------------------------------------------------------------


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


_RELATIVE_LINK = re.compile(r"(\]\(\s*|href=[\"'])(\.\./)")


def relink(text: str, lang: str) -> str:
    """A Markdown text of edition ``lang``, whose notebook lies one folder deeper
    (``assignments/<lang>/<hw>/``): each relative link up (``../``) goes one more level up, and a
    link to a lecture goes to that edition's lecture (``lectures/<lang>/``)."""
    if lang == "en":
        return text
    text = _RELATIVE_LINK.sub(r"\g<1>../\g<2>", text)
    return text.replace("../../../lectures/", f"../../../lectures/{lang}/")


def notebook(spec: Spec, tr: Translation | None = None) -> nbformat.NotebookNode:
    """``spec``'s notebook; with ``tr``, in that edition's language (:mod:`autograder.i18n`): the
    same cells, ids, points and code, with its texts translated and a glossary after the title."""
    tr = tr or Translation("en", {})
    cells = []
    n_plain = 0

    def plain_id() -> str:
        nonlocal n_plain
        n_plain += 1
        return f"cell-{n_plain:02d}"

    for cell in spec.cells:
        if isinstance(cell, Markdown):
            text = relink(tr.text(cell.text), tr.lang)
            cells.append(nbformat.v4.new_markdown_cell(text.strip(), id=plain_id()))
            glossary = tr.glossary_cell() if len(cells) == 1 else None
            if glossary:
                cells.append(nbformat.v4.new_markdown_cell(glossary, id="glossary"))
        elif isinstance(cell, Code):
            cells.append(nbformat.v4.new_code_cell(tr.code(cell.source).strip(), id=plain_id()))
        elif isinstance(cell, Provided):
            meta = _nbgrader(cell.grade_id, grade=False, solution=False, locked=True)
            meta["jupyter"] = {"source_hidden": True}  # collapsed: run it, no need to read it
            cells.append(
                nbformat.v4.new_code_cell(cell.source.strip(), id=cell.grade_id, metadata=meta)
            )
        elif isinstance(cell, Task):
            source = "\n\n\n".join(
                tr.code(solution_source(fn), only="docstring") for fn in cell.functions
            )
            meta = _nbgrader(cell.name, grade=False, solution=True, locked=False)
            cells.append(nbformat.v4.new_code_cell(source, id=cell.name, metadata=meta))
            test_id = f"test_{cell.name}"
            visible = tr.code(cell.visible).strip()
            if rules := forbidden_rules(cell):
                # its comment only: the rules' names are what the scan looks up
                visible = tr.code(scan_line(cell, rules), only="comment") + "\n\n" + visible
            tests = visible + "\n\n" + hidden_block(cell.checks, cell.name)
            meta = _nbgrader(test_id, grade=True, solution=False, locked=True, points=cell.points)
            cells.append(nbformat.v4.new_code_cell(tests, id=test_id, metadata=meta))
        elif isinstance(cell, Written):
            prompt = relink(tr.text(cell.prompt), tr.lang)
            cells.append(nbformat.v4.new_markdown_cell(prompt.strip(), id=plain_id()))
            meta = _nbgrader(
                cell.grade_id, grade=True, solution=True, locked=False, points=cell.points
            )
            answer = f"{BEGIN}\n{tr.text(cell.answer).strip()}\n{END}"
            cells.append(nbformat.v4.new_markdown_cell(answer, id=cell.grade_id, metadata=meta))
        else:
            raise TypeError(f"unknown cell {cell!r}")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    nbformat.validate(nb)
    return nb


def load_spec(name: str) -> Spec:
    """The spec of the homework ``name`` (``hw1`` or ``hw1_linear_regression``)."""
    return registry.find(name).spec


def _ruff_format(path: Path) -> None:
    """Format the notebook's code cells as the repo's lint does (``ruff format``, pinned version).

    The code in the specs is written by hand; formatting it here means a spec's line breaks never
    fail ``make lint``, and the committed notebook stays exactly what this command writes.
    """
    ruff = Path(sys.executable).parent / "ruff"
    config = ["--config", str(REPO / "pyproject.toml")]  # also for a notebook outside the repo
    command = [str(ruff) if ruff.exists() else "ruff", "format", "--quiet", *config, str(path)]
    subprocess.run(command, cwd=REPO, check=True)


def edition_folder(assignments: Path, lang: str) -> Path:
    """Where an edition's notebooks go: ``assignments/`` for English, ``assignments/<lang>/`` else
    (the same assignment names, so that nbgrader and the grader treat both alike)."""
    return assignments if lang == "en" else assignments / lang


def write(spec: Spec, assignments: Path, lang: str = "en") -> list[Path]:
    """Write ``spec``'s notebook and data files in edition ``lang`` into
    ``assignments/[<lang>/]<assignment>/``."""
    tr = translation(registry.find(spec.assignment), lang)
    folder = edition_folder(assignments, lang) / spec.assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.assignment}.ipynb"
    path.write_text(nbformat.writes(notebook(spec, tr)) + "\n", encoding="utf-8")
    _ruff_format(path)
    written = [path]
    for name in spec.data_files:
        shutil.copyfile(REPO / "data" / name, folder / name)
        written.append(folder / name)
    if any(forbidden_rules(cell) for cell in spec.cells if isinstance(cell, Task)):
        scan = SCAN_MODULE.read_text(encoding="utf-8")
        (folder / SCAN_MODULE.name).write_text(scan_module_in(scan, lang), encoding="utf-8")
        written.append(folder / SCAN_MODULE.name)
    return written


def scan_module_in(source: str, lang: str) -> str:
    """``source_scan.py`` as released in edition ``lang``: its messages in that language."""
    line = 'LANG = "en"  # the language of the messages; the Russian edition releases "ru"\n'
    if line not in source:
        raise ValueError("source_scan.py has no LANG line to set")
    return source.replace(line, line.replace('"en"', f'"{lang}"', 1), 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "assignments", help="assignments folder")
    args = parser.parse_args(argv)
    for name in SPECS:
        spec = load_spec(name)
        for lang in LANGUAGES:
            if not has_edition(registry.find(name), lang):
                continue
            for path in write(spec, args.out, lang):
                print(path)
        auto, manual = spec.points
        print(f"{spec.assignment}: {auto} autograded + {manual} manually graded points")


if __name__ == "__main__":
    main()
