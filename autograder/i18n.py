"""Editions in other languages, from the same specs: the Russian edition of the homeworks.

    python -m autograder.i18n skeleton hw1 ru   # the texts of homework 1 to translate, as a ru.py
    python -m autograder.i18n check ru          # what each homework's ru.py lacks or holds too much
    python -m autograder.i18n build hw1 ru /tmp/out   # that edition alone, into /tmp/out/ru/

A homework's notebook (its ``spec.py``) is written in English. Its edition in language ``ru`` comes
from ``autograder/homeworks/<assignment>/ru.py``, which holds, for each English text of the notebook,
the text in Russian, under the text's **key** (the first ten hex digits of the SHA-1 of the English):

- every Markdown cell, and each written answer's prompt and model answer;
- the docstring of every function and class of an answer cell (the task's contract);
- in the code cells a student reads (the test cells, the experiments): every string literal that holds
  words (an assertion's message, a printed line, a plot's label) and every comment; the replacement
  is the token itself, in Python (``f"ожидалась форма {shape}"``), so the code stays the same code.

Provided cells (collapsed, run but not read) and the answers themselves stay as they are. So the two
editions have the same cells, grade ids, points and hidden checks, and one check module grades both:
:func:`same_code` is what the tests compare. A key points at one wording of the English: when the
English changes, its key changes, the build stops with "no Russian for …", and ``skeleton`` lists
what to translate again; an old key that nothing uses any more is reported by ``check``.

Each ``ru.py`` also has ``GLOSSARY``, the (English, Russian) terms the notebook's glossary cell shows.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from functools import cache

__all__ = [
    "LANGUAGES",
    "Item",
    "MissingTranslation",
    "Translation",
    "items",
    "key",
    "same_code",
    "translate_message",
    "translation",
]

LANGUAGES = ("en", "ru")  # "en": the specs as written
_WORDS = re.compile(r"[A-Za-z]{2,}[^\w\n]{0,3}[ \t][^\w\n]{0,3}[A-Za-z]{2,}")  # two words: prose
CYRILLIC = re.compile(r"[А-Яа-яЁё]")  # what a Russian text holds


class MissingTranslation(LookupError):
    """A text of the notebook that the edition's file does not translate."""


def key(text: str) -> str:
    """The key of an English text: ten hex digits of the SHA-1 of the text without outer spaces."""
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class Item:
    """One text to translate: its ``kind`` ("markdown", "docstring", "string", "comment"), where in
    the notebook it is (``where``, for people), and the English."""

    kind: str
    where: str
    english: str

    @property
    def key(self) -> str:
        return key(self.english)


# ---------------------------------------------------------------------------------------------------
# The texts of code: string literals, comments, docstrings
# ---------------------------------------------------------------------------------------------------


def _offsets(source: str) -> list[int]:
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


# calls whose string arguments a reader sees: printed lines, plot labels, warnings
_SHOWN_BY = frozenset(
    {"print", "set_xlabel", "set_ylabel", "set_title", "suptitle", "title", "xlabel", "ylabel"}
    | {"text", "annotate", "warn", "legend"}
)
_SHOWN_AS = frozenset({"label", "title", "xlabel", "ylabel"})  # keyword arguments shown the same


def _shown(tree: ast.AST, starts: list[int]) -> list[tuple[int, int]]:
    """The spans (character offsets) of the string literals a reader sees: an assertion's message,
    and the strings given to :data:`_SHOWN_BY` calls or as :data:`_SHOWN_AS` keywords (each part of
    an implicitly concatenated string too)."""
    values: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            values.append(node.msg)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _SHOWN_BY:
                values += node.args
            values += [k.value for k in node.keywords if k.arg in _SHOWN_AS]
    spans = []
    for value in values:
        for part in ast.walk(value):
            if isinstance(part, ast.JoinedStr) or (
                isinstance(part, ast.Constant) and isinstance(part.value, str)
            ):
                start = starts[part.lineno - 1] + part.col_offset
                spans.append((start, starts[part.end_lineno - 1] + part.end_col_offset))
    return spans


def _code_tokens(source: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, text) of each string literal a reader sees (it holds words, or it is a
    message, a printed line, a label: :func:`_shown`) and each comment in ``source``, by character
    offset; a docstring is a "docstring", any other string a "string"."""
    starts = _offsets(source)
    tree = ast.parse(source)
    shown = _shown(tree, starts)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.add((first.value.lineno, first.value.col_offset))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        (row, col), (end_row, end_col) = token.start, token.end
        start, end = starts[row - 1] + col, starts[end_row - 1] + end_col
        if token.type == tokenize.COMMENT:
            kind = "comment"
        elif (row, col) in docstrings:
            kind = "docstring"
        else:
            kind = "string"
        words = re.search(r"[A-Za-z]{2,}", token.string)
        if (
            kind == "docstring"
            or (words and kind == "comment")
            or (words and _WORDS.search(token.string))
            or (words and any(a <= start < b for a, b in shown))
        ):
            found.append((start, end, kind, token.string))
    return found


def _replace(source: str, spans: list[tuple[int, int, str]]) -> str:
    for start, end, text in sorted(spans, reverse=True):
        source = source[:start] + text + source[end:]
    return source


class _Blank(ast.NodeTransformer):
    """Every string's words blanked: a plain string becomes ``"<str>"``, an f-string the sorted
    dumps of its replacement fields (a translation may reorder them, never change them)."""

    def visit_Constant(self, node):
        return ast.Constant("<str>") if isinstance(node.value, str) else node

    def visit_JoinedStr(self, node):
        fields = sorted(ast.dump(v) for v in node.values if isinstance(v, ast.FormattedValue))
        return ast.Constant(("<f-string>", *fields))


def _shape(source: str) -> str:
    return ast.dump(_Blank().visit(ast.parse(source)))


def same_code(a: str, b: str) -> bool:
    """Whether two code cells are the same code, whatever the words of their strings, comments and
    docstrings: the same syntax tree once every string's words are blanked (the line breaks and
    parentheses a formatter adds around a longer message change nothing; a cell IPython's magics
    make unparsable is compared token by token instead)."""
    try:
        return _shape(a) == _shape(b)
    except SyntaxError:
        pass

    def tokens(source: str) -> list[tuple[int, str]]:
        out = []
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT or token.type in (tokenize.NL, tokenize.NEWLINE):
                continue
            out.append((token.type, "<str>" if token.type == tokenize.STRING else token.string))
        return out

    try:
        return tokens(a) == tokens(b)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return a == b


# ---------------------------------------------------------------------------------------------------
# A translation
# ---------------------------------------------------------------------------------------------------


class Translation:
    """The texts of one edition of one homework (``texts``: key -> text); English passes through."""

    def __init__(self, lang: str, texts: dict[str, str], glossary=(), where: str = ""):
        self.lang, self.texts, self.glossary, self.where = lang, dict(texts), list(glossary), where
        self.used: set[str] = set()

    @property
    def english(self) -> bool:
        return self.lang == "en"

    def _get(self, english: str, what: str) -> str:
        if self.english:
            return english
        k = key(english)
        if k not in self.texts:
            shown = english.strip().splitlines()[0][:80] if english.strip() else "(empty)"
            raise MissingTranslation(
                f"{self.where}: no {self.lang} text for the {what} {k} ({shown!r}); "
                f"python -m autograder.i18n skeleton <homework> {self.lang} lists what to translate"
            )
        self.used.add(k)
        return self.texts[k]

    def text(self, english: str) -> str:
        """A Markdown text (a cell, a written answer's prompt or model answer)."""
        return self._get(english, "Markdown text")

    def code(self, source: str, *, only: str | None = None) -> str:
        """``source`` with its strings and comments (or only its tokens of kind ``only``:
        "docstring", "comment") in this edition's language; the code itself unchanged
        (:func:`same_code`)."""
        if self.english:
            return source
        spans = []
        for start, end, kind, text in _code_tokens(source):
            if only is not None and kind != only:
                continue
            spans.append((start, end, self._get(text, kind)))
        translated = _replace(source, spans)
        if not same_code(source, translated):
            raise ValueError(f"{self.where}: the {self.lang} texts change the code itself")
        return translated

    def glossary_cell(self) -> str | None:
        """The Markdown of the notebook's glossary (None for English, or with no terms)."""
        if self.english or not self.glossary:
            return None
        rows = "\n".join(f"| {ru} | {en} |" for en, ru in self.glossary)
        return f"**Глоссарий**\n\n| термин | term |\n|---|---|\n{rows}"


def translation(homework, lang: str) -> Translation:
    """The edition ``lang`` of a registered homework (``autograder.registry.Homework``): English is
    the spec itself; any other language comes from ``<assignment>/<lang>.py``."""
    if lang not in LANGUAGES:
        raise ValueError(f"no edition {lang!r}; the editions are {', '.join(LANGUAGES)}")
    if lang == "en":
        return Translation("en", {})
    try:
        module = importlib.import_module(f"{homework.package}.{lang}")
    except ModuleNotFoundError as err:
        if err.name != f"{homework.package}.{lang}":
            raise
        raise MissingTranslation(
            f"{homework.assignment} has no {lang} edition ({lang}.py)"
        ) from err
    texts = getattr(module, "TEXTS", {})  # {} while a shell's `> ru.py` is still empty
    return Translation(lang, texts, getattr(module, "GLOSSARY", ()), homework.assignment)


def has_edition(homework, lang: str) -> bool:
    return lang == "en" or (homework.folder / f"{lang}.py").is_file()


# ---------------------------------------------------------------------------------------------------
# The checks' messages
# ---------------------------------------------------------------------------------------------------

_SCAN_MESSAGE = re.compile(
    r"uses (?P<rule>.+?) \((?P<name>[^()]+?) on line (?P<line>\d+) of (?P<place>[^()]+?)\): "
    r"this task .+?, so it scores 0"
)


@cache
def _patterns(lang: str) -> list[tuple[re.Pattern, str]]:
    module = importlib.import_module(f"{__package__}.messages_{lang}")
    return [(re.compile(pattern), replacement) for pattern, replacement in module.PATTERNS]


def translate_message(message: str, lang: str) -> str:
    """A check's or the grader's message (English, as the checks word it) in edition ``lang``.

    The forbidden-use sentence is reworded by ``source_scan`` itself, so that the visible tests of
    the edition and its grading say the same words; every other message goes through the
    edition's catalogue (``autograder/messages_<lang>.py``: (pattern, replacement) pairs applied in
    order with ``re.sub``). What a pattern does not cover stays in English (the tests hold every
    message the checks give to the catalogue); text that came from the student's code is never
    translated.
    """
    if lang == "en":
        return message
    from .checks.source_scan import RULES, where
    from .checks.source_scan import message as scan_message

    def scan(match: re.Match) -> str:
        rule = RULES.get(match["rule"])
        if rule is None:
            return match[0]
        place = where(int(match["line"]), match["place"], lang)
        return scan_message(rule, tuple(match["name"].split(".")), place, lang)

    message = _SCAN_MESSAGE.sub(scan, message)
    for pattern, replacement in _patterns(lang):
        message = pattern.sub(replacement, message)
    return message


# ---------------------------------------------------------------------------------------------------
# What a notebook asks to translate
# ---------------------------------------------------------------------------------------------------


def items(spec) -> list[Item]:
    """Every text of ``spec``'s notebook an edition translates, in notebook order, each once."""
    from .build import scan_line_comment, solution_source
    from .cells import Code, Markdown, Task, Written

    found: list[Item] = []
    seen: set[str] = set()

    def add(kind: str, where: str, english: str) -> None:
        if key(english) not in seen:
            seen.add(key(english))
            found.append(Item(kind, where, english))

    def add_code(where: str, source: str, *, only: str | None = None) -> None:
        for _, _, kind, text in _code_tokens(source):
            if only is None or kind == only:
                add(kind, where, text)

    for number, cell in enumerate(spec.cells, 1):
        if isinstance(cell, Markdown):
            add("markdown", f"cell {number}", cell.text)
        elif isinstance(cell, Written):
            add("markdown", f"{cell.grade_id} (prompt)", cell.prompt)
            add("markdown", f"{cell.grade_id} (model answer)", cell.answer)
        elif isinstance(cell, Code):
            add_code(f"cell {number} (code)", cell.source)
        elif isinstance(cell, Task):
            for fn in cell.functions:
                add_code(f"{cell.name} (answer)", solution_source(fn), only="docstring")
            add_code(f"test_{cell.name}", cell.visible)
    add("comment", "the scan line of a test cell", scan_line_comment())
    return found


# ---------------------------------------------------------------------------------------------------
# The command line: skeleton, check
# ---------------------------------------------------------------------------------------------------


def _literal(text: str) -> str:
    """``text`` as a Python literal, readable: a raw triple-quoted string where that is exact."""
    for quote in ('"""', "'''"):
        if quote not in text and not text.endswith(quote[0]) and not text.endswith("\\"):
            return f"r{quote}{text}{quote}"
    return repr(text)


def skeleton(homework, lang: str) -> str:
    """A ``<lang>.py`` for ``homework`` with every text still in English, to be translated in place
    (the texts an existing ``<lang>.py`` translates already are kept)."""
    try:
        done = translation(homework, lang).texts
    except MissingTranslation:
        done = {}
    lines = [
        f'"""The {lang} edition of {homework.assignment}: its texts by key (autograder/i18n.py)."""',
        "",
        "GLOSSARY = [  # (English, translation): the notebook's glossary cell",
        "]",
        "",
        "TEXTS = {",
    ]
    for item in items(homework.spec):
        lines.append(f"    # {item.kind}, {item.where}")
        lines.append(f'    "{item.key}": {_literal(done.get(item.key, item.english))},')
    lines.append("}")
    return "\n".join(lines) + "\n"


def problems(homework, lang: str) -> list[str]:
    """What ``homework``'s edition ``lang`` lacks (a text not translated, or left in English where
    prose is expected) and holds in excess (a key no text has any more)."""
    if not has_edition(homework, lang):
        return [f"{homework.assignment}: no {lang} edition ({lang}.py)"]
    try:
        tr = translation(homework, lang)
    except Exception as err:  # a file being written: say so, and go on with the others
        return [
            f"{homework.assignment}: its {lang}.py cannot be read ({type(err).__name__}: {err})"
        ]
    wanted = items(homework.spec)
    out = []
    for item in wanted:
        if item.key not in tr.texts:
            out.append(f"{homework.assignment}: {item.kind} {item.key} ({item.where}) untranslated")
        elif item.kind in ("markdown", "docstring") and not CYRILLIC.search(tr.texts[item.key]):
            out.append(
                f"{homework.assignment}: {item.kind} {item.key} ({item.where}) is not {lang}"
            )
    for k in sorted(set(tr.texts) - {item.key for item in wanted}):
        out.append(f"{homework.assignment}: {k} translates nothing of the notebook any more")
    return out


def main(argv: list[str] | None = None) -> int:
    from .registry import find, homeworks

    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "skeleton":
        print(skeleton(find(args[1]), args[2]), end="")
        return 0
    if len(args) == 4 and args[0] == "build":  # one edition of one homework, into OUT/<lang>/
        from pathlib import Path

        from .build import write

        for path in write(find(args[1]).spec, Path(args[3]), args[2]):
            print(path)
        return 0
    if len(args) == 2 and args[0] == "check":
        found = [p for hw in homeworks().values() for p in problems(hw, args[1])]
        print("\n".join(found) or f"the {args[1]} edition translates every text")
        return 1 if found else 0
    print("usage: python -m autograder.i18n skeleton HOMEWORK LANG | check LANG", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
