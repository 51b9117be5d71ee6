"""Execute the lecture notebooks and render them to HTML pages that work offline (``make lectures``).

    python lectures/render.py [--output-dir build/lectures] [--no-execute] [NOTEBOOK ...]

1. Each notebook runs top to bottom in a fresh Python kernel whose working directory is ``lectures/``,
   *including* its ``# checks`` cells: a failed assert stops the render with the cell's error.
2. The HTML page leaves the checks cells out (cell tag ``checks``) and loads MathJax from ``mathjax/``
   beside it: a copy of MathJax 2.7 from the ``jupyter-server-mathjax`` package, made once per output
   folder, configured for the STIX-Web font it ships. The pages load nothing from the network
   (nbconvert's require.js tag is dropped too; the lectures have no widget output that would need
   it), so opening them from disk shows the maths.

Without arguments it renders every ``lectures/*.ipynb``, and the Russian edition's
``lectures/ru/*.ipynb`` into ``ru/`` of the output folder.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import nbformat

LECTURES = Path(__file__).resolve().parent
CHECKS_TAG = "checks"
MATHJAX_DIR = "mathjax"  # relative to the HTML pages
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
CELL_TIMEOUT_S = 120

MATHJAX_WEB_FONT = (
    "STIX-Web"  # the only web font jupyter-server-mathjax ships (MathJax's default is TeX)
)

# nbconvert's "lab" page, less the <script> tag that fetches require.js from a CDN, and with MathJax told
# to use the web font that is there
_TEMPLATE = (
    """{%- extends "lab/index.html.j2" -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "FONT", imageFont: null}});
</script>
{{ super() }}
{%- endblock html_head_js_mathjax -%}
"""
).replace("FONT", MATHJAX_WEB_FONT)


def mathjax_source() -> Path:
    """The folder of MathJax files that ``jupyter-server-mathjax`` installs (``MathJax.js`` in it)."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


def copy_mathjax(output_dir: Path) -> Path:
    """Copy MathJax next to the pages (once; about 12 MB) and return the path of ``MathJax.js``."""
    target = output_dir / MATHJAX_DIR
    if not (target / "MathJax.js").is_file():
        shutil.copytree(mathjax_source(), target, dirs_exist_ok=True)
    return target / "MathJax.js"


def html_exporter():
    """nbconvert's HTML exporter, set up to drop the checks cells and load the local MathJax."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.mathjax_url = MATHJAX_URL
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {CHECKS_TAG}
    return HTMLExporter(
        config=config,
        extra_loaders=[DictLoader({"offline.html.j2": _TEMPLATE})],
        template_file="offline.html.j2",
    )


def execute(nb: nbformat.NotebookNode, folder: Path = LECTURES) -> None:
    """Run every cell (the checks cells too) in a fresh kernel started in ``folder`` (the
    notebook's own: ``lectures/``, or ``lectures/ru/`` for the Russian edition)."""
    from nbclient import NotebookClient

    NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    ).execute()


def render(notebook: Path, output_dir: Path, run: bool = True) -> Path:
    """Render one notebook to ``output_dir/<name>.html`` and return that path."""
    nb = nbformat.read(notebook, as_version=4)
    if run:
        execute(nb, notebook.resolve().parent)
    body, _ = html_exporter().from_notebook_node(
        nb, resources={"metadata": {"name": notebook.stem}}
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    copy_mathjax(output_dir)
    page = output_dir / f"{notebook.stem}.html"
    page.write_text(body, encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="default: lectures/*.ipynb and lectures/ru/*.ipynb"
    )
    parser.add_argument("--output-dir", type=Path, default=Path("build/lectures"))
    parser.add_argument(
        "--no-execute", action="store_true", help="render without running the cells"
    )
    args = parser.parse_args(argv)
    every = sorted(LECTURES.glob("*.ipynb")) + sorted(LECTURES.glob("ru/*.ipynb"))
    for notebook in args.notebooks or every:
        start = time.perf_counter()
        folder = notebook.resolve().parent
        edition = folder.relative_to(LECTURES) if folder.is_relative_to(LECTURES) else Path()
        page = render(notebook, args.output_dir / edition, run=not args.no_execute)
        print(f"{page}  ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
