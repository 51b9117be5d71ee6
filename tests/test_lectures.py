"""The lecture notebooks in ``lectures/``: committed clean, structured, free of the answers, runnable.

- **No answers.** A lecture is handed to students, so neither a notebook nor a module in ``lectures/``
  may reach the reference solutions (``solutions``) or the grader (``autograder``): the code is inspected
  for the names and for dynamic import routes, and every notebook is *executed* in a kernel whose first
  cell makes both packages unimportable (they are installed in the venv, so a plain ``import`` would
  otherwise work from anywhere).
- **Checks cells.** Each ``##`` section with code ends with one cell that starts with ``# checks``,
  tagged ``checks`` and collapsed (``jupyter.source_hidden``); it holds the section's asserts, and no
  other cell asserts anything. Every number the prose of a section quotes (outside maths and code
  spans) must occur in that section's code, in practice in its checks cell: a quoted result cannot
  silently drift from what the code computes.
- **Runs.** Each notebook executes top to bottom in a real kernel (as ``make lectures`` does), its checks
  cells print nothing, no cell warns (writes to stderr), it draws its figures, and it finishes in under
  two minutes on a CPU.
- **Renders offline.** ``lectures/render.py`` (what ``make lectures`` runs) writes pages that load MathJax
  from a local copy and leave the checks cells out.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
LECTURES = REPO / "lectures"
NAMES = [
    "01_linear_models_to_neural_networks",
    "02_backpropagation",
    "03_optimization",
]
EDITIONS = NAMES + [f"ru/{name}" for name in NAMES]  # the Russian edition (lectures/ru/) too
MODULES = sorted(LECTURES.glob("*.py"))
CELL_TIMEOUT_S = 120  # the slowest cell takes a few seconds; this only catches a hang
LECTURE_BUDGET_S = 120  # each lecture must run top to bottom on a CPU in under two minutes
FURTHER_READING = ("Goodfellow", "Николенко", "d2l.ai", "CS231n")
FORBIDDEN_PACKAGES = ("solutions", "autograder")  # the reference answers and the grader
CHECKS_TAG = "checks"


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(LECTURES / f"{name}.ipynb", as_version=4)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def is_checks(cell) -> bool:
    return cell.cell_type == "code" and CHECKS_TAG in cell.metadata.get("tags", [])


def python_source(cell_source: str) -> str:
    """A code cell as plain Python: IPython magics and shell escapes become comments."""
    return "\n".join(
        "# " + line if line.lstrip().startswith(("%", "!")) else line
        for line in cell_source.splitlines()
    )


def sections(nb) -> list[tuple[str, list]]:
    """The ``##`` sections of a notebook as (heading, cells after the heading up to the next one)."""
    found = []
    for cell in nb.cells:
        heading = cell.source.startswith("## ") and cell.cell_type == "markdown"
        if heading:
            found.append((cell.source.splitlines()[0], [cell]))
        elif found:
            found[-1][1].append(cell)
    return [(title, cells) for title, cells in found if not title.startswith("## Further reading")]


# ------------------------------------------------------------------------------------------------
# Committed clean, with the expected frame
# ------------------------------------------------------------------------------------------------


def test_every_lecture_is_listed():
    assert sorted(p.stem for p in LECTURES.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    nb = read(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in code_cells(nb):
        assert cell.outputs == [], f"{name}, cell {cell.id}: clear the outputs before committing"
        assert cell.execution_count is None, f"{name}, cell {cell.id}: execution_count set"


@pytest.mark.parametrize("name", NAMES)
def test_opens_with_learning_goals_and_ends_with_further_reading(name):
    cells = read(name).cells
    first, last = cells[0], cells[-1]
    assert first.cell_type == "markdown" and first.source.startswith("# Lecture ")
    assert "## What you will know after this lecture" in first.source
    assert last.cell_type == "markdown" and last.source.startswith("## Further reading")
    for reference in FURTHER_READING:
        assert reference in last.source, f"{name}: Further reading lacks {reference}"


def test_lecture_1_trains_with_plain_gradient_descent():
    """Lecture 3 introduces momentum, Adam and torch.optim; lecture 1 may not use them before."""
    code = "\n".join(cell.source for cell in code_cells(read(NAMES[0])))
    for later in ("torch.optim", "Adam", "momentum", "RMSprop", "Adagrad"):
        assert later not in code, f"lecture 1 uses {later}, which lecture 3 introduces"


# ------------------------------------------------------------------------------------------------
# No answers: the code never reaches `solutions` (or `autograder`)
# ------------------------------------------------------------------------------------------------

_FORBIDDEN_WORD = re.compile(r"\b(" + "|".join(FORBIDDEN_PACKAGES) + r")\b")
_DYNAMIC_CALLS = {
    "__import__",
    "exec",
    "eval",
    "compile",
    "import_module",
    "run_path",
    "run_module",
}
_DYNAMIC_MODULES = {"importlib", "runpy", "imp", "pkgutil"}


def answer_routes(source: str) -> list[str]:
    """The ways a piece of lecture code could reach the reference solutions; empty if none.

    Flags the names of the forbidden packages anywhere (imports, strings, paths, comments), imports
    of the dynamic-import machinery, calls such as ``__import__``/``exec``/``import_module``, and any
    use of ``sys.path``. Lecture code needs none of these.
    """
    problems = [f"mentions {m.group(0)!r}" for m in _FORBIDDEN_WORD.finditer(source)]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            modules = []
        problems += [f"imports {m}" for m in modules if m.split(".")[0] in _DYNAMIC_MODULES]
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called in _DYNAMIC_CALLS:
                problems.append(f"calls {called}()")
        if isinstance(node, ast.Attribute) and node.attr in ("path", "meta_path"):
            if isinstance(node.value, ast.Name) and node.value.id == "sys":
                problems.append(f"uses sys.{node.attr}")
    return problems


@pytest.mark.parametrize(
    "snippet",
    [
        "from solutions.mlp import Linear",
        "import solutions",
        "import autograder.homeworks.hw1_linear_regression.checks as h",
        "import importlib\nm = importlib.import_module('sol' + 'utions.mlp')",
        "from importlib import import_module",
        "m = __import__('s' + 'olutions')",
        "import sys\nsys.path.insert(0, '..')",
        "exec(open('../sol' + 'utions/mlp.py').read())",
        "import runpy",
        "text = open('../solutions/optim.py').read()",
    ],
)
def test_the_answer_route_scanner_catches(snippet):
    assert answer_routes(snippet), snippet


@pytest.mark.parametrize("name", EDITIONS)
def test_no_code_cell_reaches_the_answers(name):
    for cell in code_cells(read(name)):
        problems = answer_routes(python_source(cell.source))
        assert not problems, f"{name}, cell {cell.id}: {problems}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_no_lecture_module_reaches_the_answers(module):
    problems = answer_routes(module.read_text(encoding="utf-8"))
    assert not problems, f"{module.name}: {problems}"


def _top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def test_lecture_modules_do_not_ship_the_graded_code():
    """A module handed out with the lectures defines none of the reference solutions' functions or
    classes (``MLPRegressor``, ``Adam``, ``gradcheck``, ...): the lectures write formulas inline."""
    graded = set().union(*(_top_level_names(p) for p in (REPO / "solutions").glob("*.py")))
    for module in MODULES:
        shared = (_top_level_names(module) & graded) - {"main"}
        assert not shared, f"{module.name} defines {sorted(shared)}, as solutions/ does"


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_define_none_of_the_graded_classes(name):
    graded = set().union(*(_top_level_names(p) for p in (REPO / "solutions").glob("*.py")))
    for cell in code_cells(read(name)):
        tree = ast.parse(python_source(cell.source))
        classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        assert not classes & graded, f"{name}, cell {cell.id}: {sorted(classes & graded)}"


# ------------------------------------------------------------------------------------------------
# Checks cells, and the numbers the prose quotes
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_checks_cells_are_tagged_hidden_and_hold_every_assert(name):
    for cell in code_cells(read(name)):
        marked = cell.source.startswith("# checks")
        assert marked == is_checks(cell), f"{name}, cell {cell.id}: '# checks' and the tag disagree"
        has_assert = any(
            isinstance(n, ast.Assert) for n in ast.walk(ast.parse(python_source(cell.source)))
        )
        if marked:
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, cell.id
            assert has_assert, f"{name}, cell {cell.id}: a checks cell without an assert"
        else:
            assert not has_assert, f"{name}, cell {cell.id}: move the assert to the checks cell"


@pytest.mark.parametrize("name", NAMES)
def test_every_section_with_code_ends_with_its_checks_cell(name):
    for title, cells in sections(read(name)):
        code = [c for c in cells if c.cell_type == "code"]
        if not code:
            continue  # prose only, e.g. the history
        checks = [c for c in code if is_checks(c)]
        assert len(checks) == 1, f"{name}, {title}: {len(checks)} checks cells, expected 1"
        assert cells[-1] is checks[0], f"{name}, {title}: the checks cell must close the section"


_MATH_AND_CODE = re.compile(
    r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|<https?://[^>]*>|\]\([^)]*\)", re.DOTALL
)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[-+]\d+)?(%?)(?![\w.]\d|\w)")


def quoted_numbers(markdown: str) -> set[str]:
    """The numbers a piece of prose quotes, outside maths, code spans and links.

    Left out: one-digit integers ("3 tanh units", "lecture 2") and years in 1900..2099 (history).
    A percentage keeps its % sign.
    """
    prose = _MATH_AND_CODE.sub(" ", markdown)
    prose = "\n".join(line for line in prose.splitlines() if not line.startswith("#"))
    numbers = set()
    for match in _NUMBER.finditer(prose):
        text = match.group(0)
        digits = text.rstrip("%")
        if "." not in digits and "e" not in digits and int(digits) < 10:
            continue
        if re.fullmatch(r"(19|20)\d\d", digits):
            continue
        numbers.add(text)
    return numbers


def occurs_in(number: str, code: str) -> bool:
    """``number`` as a literal token of ``code``; ``16`` also matches ``16.0``, ``80%`` ``0.8``."""
    forms = [number.rstrip("%")]
    if forms[0].isdigit():
        forms.append(forms[0] + ".0")
    if number.endswith("%"):
        forms.append(repr(float(number.rstrip("%")) / 100))
    return any(re.search(rf"(?<![\w.]){re.escape(f)}(?![\w]|\.\d)", code) for f in forms)


def test_quoted_numbers_are_found():
    prose = "Loss 0.436 at step 17 ($x = 0.25$, `lr=0.1`), 98.0% right, 3 units, 1969, 1e+04."
    assert quoted_numbers(prose) == {"0.436", "17", "98.0%", "1e+04"}
    assert occurs_in("0.436", 'assert f"{v:.3f}" == "0.436"') and not occurs_in("0.43", "0.436")
    assert occurs_in("80%", "split(n, (0.8, 0.2))")


@pytest.mark.parametrize("name", EDITIONS)
def test_every_number_the_prose_quotes_is_in_the_sections_code(name):
    for title, cells in sections(read(name)):
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        if not code:
            continue
        for cell in cells:
            if cell.cell_type != "markdown":
                continue
            missing = sorted(n for n in quoted_numbers(cell.source) if not occurs_in(n, code))
            assert not missing, (
                f"{name}, {title}: the text quotes {missing}, which no code of the section "
                "computes or asserts (assert them in the section's checks cell)"
            )


# ------------------------------------------------------------------------------------------------
# Executed with the answers unimportable
# ------------------------------------------------------------------------------------------------

BLOCK_ANSWERS = f'''\
import importlib.abc, sys

class _NoAnswers(importlib.abc.MetaPathFinder):
    """Refuse {FORBIDDEN_PACKAGES}, whatever the route: import, importlib, __import__, sys.path."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {FORBIDDEN_PACKAGES!r}:
            raise ModuleNotFoundError(f"a lecture may not import {{name}}", name=name)
        return None

sys.meta_path.insert(0, _NoAnswers())
for _name in [m for m in sys.modules if m.partition(".")[0] in {FORBIDDEN_PACKAGES!r}]:
    del sys.modules[_name]
'''
NOTHING_IMPORTED = f"""\
import sys
assert not [m for m in sys.modules if m.partition(".")[0] in {FORBIDDEN_PACKAGES!r}]
"""


def execute(nb, timeout=CELL_TIMEOUT_S, folder=LECTURES):
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    return nb


@pytest.mark.slow
def test_the_kernel_blocks_every_route_to_the_answers():
    """The guard of the executing test works: in the venv's kernel ``solutions`` is importable until
    the guard cell runs, and then no route reaches it."""
    from nbformat.v4 import new_code_cell, new_notebook

    routes = f"""\
import importlib
sys.path.insert(0, {str(REPO)!r})
for route in (
    lambda: __import__("solutions"),
    lambda: importlib.import_module("solutions.mlp"),
    lambda: __import__("autograder.checks", fromlist=["hw1"]),
    lambda: importlib.util.find_spec("solutions").loader.load_module(),
):
    try:
        route()
    except ModuleNotFoundError:
        continue
    raise AssertionError("a route reached the answers")
"""
    nb = new_notebook(
        cells=[
            new_code_cell("import importlib.util\nassert importlib.util.find_spec('solutions')"),
            new_code_cell(BLOCK_ANSWERS),
            new_code_cell(routes),
            new_code_cell(NOTHING_IMPORTED),
        ]
    )
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    execute(nb, timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("name", EDITIONS)
def test_executes_top_to_bottom_without_the_answers(name):
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell

    nb = read(name)
    nb.cells.insert(0, new_code_cell(BLOCK_ANSWERS))
    nb.cells.append(new_code_cell(NOTHING_IMPORTED))
    start = time.perf_counter()
    try:
        execute(nb, folder=(LECTURES / name).parent)
    except CellExecutionError as err:
        pytest.fail(f"{name} failed:\n{err}")
    seconds = time.perf_counter() - start
    assert seconds < LECTURE_BUDGET_S, f"{name} took {seconds:.0f} s"

    outputs = [output for cell in code_cells(nb) for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    for cell in code_cells(nb):
        if is_checks(cell):
            assert cell.outputs == [], f"{name}, cell {cell.id}: a checks cell printed something"
        warnings = [o.text for o in cell.outputs if o.get("name") == "stderr"]
        assert not warnings, f"{name}, cell {cell.id} wrote to stderr: {warnings}"
    figures = sum("image/png" in output.get("data", {}) for output in outputs)
    assert figures >= 3, f"{name} drew {figures} figures"


# ------------------------------------------------------------------------------------------------
# Rendered offline, and documented
# ------------------------------------------------------------------------------------------------


def load_render():
    spec = importlib.util.spec_from_file_location("lecture_render", LECTURES / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_lectures_runs_the_offline_renderer():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlectures:", 1)[1].split("\n\n", 1)[0]
    assert "lectures/render.py" in recipe


def test_rendered_page_loads_mathjax_from_disk_and_hides_the_checks(tmp_path):
    render = load_render()
    page = render.render(LECTURES / "02_backpropagation.ipynb", tmp_path, run=False)
    html = page.read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", html)
    assert scripts, "no <script src=...> at all: where does MathJax come from?"
    assert not [s for s in scripts if re.match(r"(https?:)?//", s)], scripts
    mathjax = [s for s in scripts if "MathJax.js" in s]
    assert len(mathjax) == 1
    path, _, query = mathjax[0].partition("?")
    assert (page.parent / path).is_file()
    configs = dict(part.split("=", 1) for part in query.split("&")).get("config", "").split(",")
    for config in configs:  # each config file MathJax will ask for is there too
        assert (page.parent / path).parent.joinpath("config", f"{config}.js").is_file(), config
    assert (page.parent / path).parent.joinpath("jax", "output", "HTML-CSS").is_dir()
    fonts = re.findall(r'webFont: "([^"]+)"', html)  # MathJax's default, TeX, is not shipped
    assert fonts and (page.parent / path).parent.joinpath("fonts", "HTML-CSS", fonts[0]).is_dir()
    assert "$$" in html  # the maths is left for MathJax to typeset
    assert "# checks:" not in html and "checks: " not in html  # the checks cells are left out
    assert "The backward pass of a layer" in html


def test_readme_maps_every_section():
    readme = (LECTURES / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"{name}.ipynb" in readme
        for title, _ in sections(read(name)):
            heading = re.sub(r"^##\s+(\d+\.\s+|Appendix\.\s+)?", "", title)
            assert heading in readme, f"lectures/README.md does not mention {name}: {heading!r}"
    for homework in ("hw1", "hw2", "hw3", "hw4"):
        assert homework in readme
