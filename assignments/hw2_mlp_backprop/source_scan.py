"""The forbidden-use scan: what a task may not call, found by reading its source.

Homework 2 asks for backpropagation written by hand and homework 3 for optimizers and clipping written by
hand; a task whose code hands that work to ``torch.autograd``, to ``torch.optim``'s own optimizers or to
``torch.nn.utils``' clipping scores 0 for it. This file is the one scan, used in three places:

- released beside the notebook (``make notebooks`` copies it into the assignment's folder), where the
  first line of each such task's tests calls :func:`assert_allowed`, so the visible tests and
  ``nbgrader validate`` say what the grader will say before anything is submitted;
- in the hidden checks (``autograder.checks``), on the function or class the student defined;
- at grading, on the text of each answer cell (``autograder.intake``), with :func:`chains`.

It needs only the standard library and torch; edit it in ``autograder/checks/source_scan.py`` (the copy
beside a notebook is generated, with ``LANG`` set to the edition's language: "en" or "ru").
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise

import torch

LANG = "en"  # the language of the messages; the Russian edition releases "ru"

__all__ = [
    "AUTOGRAD",
    "NAME_RU",
    "RULES",
    "TORCH_CLIPPING",
    "TORCH_OPTIM",
    "WHY_RU",
    "Rule",
    "assert_allowed",
    "chains",
    "message",
    "scan",
    "where",
]


@dataclass(frozen=True)
class Rule:
    """A forbidden family of names.

    ``matches(chain)`` gets each dotted name of the source (``torch.autograd.grad``, ``x.grad_fn``,
    ``optim.Adam``, or a keyword argument as ``requires_grad=``) and says whether it is forbidden.
    ``why`` completes "this task ... so it scores 0".
    """

    name: str
    matches: Callable[[tuple[str, ...]], bool]
    why: str
    watch_autograd: bool = False
    family: str = ""  # what autograder.lockdown makes unusable at run time (lockdown.FAMILIES)


_AUTOGRAD_NAMES = {
    "autograd",
    "requires_grad",
    "requires_grad_",
    "requires_grad=",
    "grad_fn",
    "retain_grad",
    "enable_grad",
    "set_grad_enabled",
    "functorch",
}


def _uses_autograd(chain: tuple[str, ...]) -> bool:
    if any(part in _AUTOGRAD_NAMES for part in chain):
        return True
    # the dispatcher's derivative kernels (torch.ops.aten.tanh_backward, …): autograd's formulas
    if "ops" in chain and any(part.endswith("_backward") for part in chain):
        return True
    # torch.func (grad, vjp, jacrev, …); a plain ``func`` elsewhere is an ordinary name
    return any(a == "torch" and b == "func" for a, b in pairwise(chain))


AUTOGRAD = Rule(
    "torch.autograd",
    _uses_autograd,
    "asks for gradients computed by hand (the chain rule, layer by layer), not by torch.autograd",
    watch_autograd=True,
    family="autograd",
)

# The optimizers of torch.optim (and its functional forms); the Optimizer base class, the
# lr_scheduler module and its base class remain allowed: the homework's classes build on them.
_TORCH_OPTIMIZERS = {
    name
    for name, obj in vars(torch.optim).items()
    if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer) and name != "Optimizer"
} | {"_functional", "functional", "swa_utils", "_multi_tensor"}


def _uses_torch_optim(chain: tuple[str, ...]) -> bool:
    return any(a == "optim" and b in _TORCH_OPTIMIZERS for a, b in pairwise(chain))


TORCH_OPTIM = Rule(
    "torch.optim's optimizers",
    _uses_torch_optim,
    "asks for the update rule written by hand, not delegated to torch.optim's own optimizers",
    family="torch.optim",
)


_TORCH_CLIPPING_NAMES = {
    "clip_grad_norm_",
    "clip_grad_norm",
    "clip_grads_with_norm_",
    "get_total_norm",
}


def _uses_torch_clipping(chain: tuple[str, ...]) -> bool:
    return any(a == "utils" and b in _TORCH_CLIPPING_NAMES for a, b in pairwise(chain))


TORCH_CLIPPING = Rule(
    "torch.nn.utils' clipping",
    _uses_torch_clipping,
    "asks for the clipping written by hand, not delegated to torch.nn.utils.clip_grad_norm_",
    family="clipping",
)


# ---------------------------------------------------------------------------------------------------
# The scan
# ---------------------------------------------------------------------------------------------------


def _chain(node: ast.AST) -> tuple[str, ...] | None:
    """``a.b.c`` as ``("a", "b", "c")``; None when the chain does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return (node.id, *reversed(parts))
    return tuple(reversed(parts)) if parts else None


def chains(tree: ast.AST) -> Iterator[tuple[tuple[str, ...], int]]:
    """Every dotted name of the tree (the longest of each chain), with its line number."""
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)) and id(node) not in inner:
            chain = _chain(node)
            if chain:
                yield chain, node.lineno
        elif isinstance(node, ast.keyword) and node.arg:
            yield (f"{node.arg}=",), node.value.lineno
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            base = tuple((node.module or "").split(".")) if isinstance(node, ast.ImportFrom) else ()
            for alias in node.names:
                yield (*base, *alias.name.split(".")), node.lineno
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # getattr(torch, "autograd"): a name in a string is still that name
            if node.value.isidentifier():
                yield (node.value,), node.lineno


def _resolve(chain: tuple[str, ...], namespace: dict) -> tuple[str, ...]:
    """Replace the chain's first name by what it stands for in the function's module.

    ``ag.grad`` after ``from torch import autograd as ag`` reads ``torch.autograd.grad``, and ``Adam``
    after ``from torch.optim import Adam`` reads ``torch.optim.Adam``.
    """
    head = namespace.get(chain[0])
    if inspect.ismodule(head):
        return (*head.__name__.split("."), *chain[1:])
    defined_in = getattr(head, "__module__", None) or ""
    for module, home in _HOMES:
        if vars(module).get(chain[0]) is head and defined_in.startswith(home):
            return (*module.__name__.split("."), *chain)
    return chain


# a name imported from one of these modules, and defined in the second (not merely re-exported)
_HOMES = (
    (torch.autograd, "torch.autograd"),
    (torch.func, ("torch.func", "torch._functorch")),
    (torch.optim, "torch.optim"),
)


def _functions(obj: object) -> Iterator[Callable]:
    """The functions whose source stands for ``obj``: itself, or the methods of a class and of its
    bases defined in the same module (a notebook's ``__main__``; not torch's or the builtins)."""
    if inspect.isclass(obj):
        for cls in obj.__mro__:
            if cls is object or cls.__module__ != obj.__module__:
                continue
            for value in vars(cls).values():
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                elif isinstance(value, property):
                    yield from (f for f in (value.fget, value.fset) if f is not None)
                    continue
                if inspect.isfunction(value):
                    yield value
    elif inspect.isfunction(obj) or inspect.ismethod(obj):
        yield obj


def scan(obj: object, rules: tuple[Rule, ...]) -> str | None:
    """None when the source of ``obj`` uses nothing the rules forbid, else a message saying what.

    Source that cannot be read (a builtin, a lambda typed at a prompt) is not held against anyone:
    the run-time watch still applies.
    """
    for fn in _functions(obj):
        try:
            source = textwrap.dedent(inspect.getsource(fn))
            tree = ast.parse(source)
        except (OSError, TypeError, SyntaxError, IndentationError):
            continue
        namespace = getattr(fn, "__globals__", {})
        for chain, line in chains(tree):
            chain = _resolve(chain, namespace)
            for rule in rules:
                if rule.matches(chain):
                    return message(rule, chain, where(line, fn.__qualname__))
    return None


# The Russian edition's wording: why each rule holds, and where a use is
WHY_RU = {
    "torch.autograd": (
        "требует градиентов, вычисленных вручную (цепное правило, слой за слоем), а не через "
        "torch.autograd"
    ),
    "torch.optim's optimizers": (
        "требует правила обновления, написанного вручную, а не оптимизаторов torch.optim"
    ),
    "torch.nn.utils' clipping": (
        "требует ограничения нормы градиента, написанного вручную, а не "
        "torch.nn.utils.clip_grad_norm_"
    ),
}


# what each rule forbids, as the Russian sentence names it
NAME_RU = {
    "torch.autograd": "torch.autograd",
    "torch.optim's optimizers": "оптимизаторы torch.optim",
    "torch.nn.utils' clipping": "ограничение нормы градиента из torch.nn.utils",
}


def where(line: int, place: str, lang: str | None = None) -> str:
    """``line 3 of Linear.backward`` (``place``: a function, or "the answer cell"), in ``lang``."""
    if (lang or LANG) == "ru":
        return f"строка {line}, " + ("ячейка ответа" if place == "the answer cell" else place)
    return f"line {line} of {place}"


def message(rule: Rule, chain: tuple[str, ...], where: str, lang: str | None = None) -> str:
    """The one wording of a forbidden use, wherever it is found (``where``: :func:`where`'s
    ``line 3 of Linear.backward`` in a notebook, ``line 3 of the answer cell`` at grading), in
    ``lang`` (default: this module's ``LANG``)."""
    name = ".".join(chain).removesuffix("=")
    if (lang or LANG) == "ru":
        return (
            f"использует {NAME_RU[rule.name]} ({name}: {where}): это задание {WHY_RU[rule.name]}, "
            "поэтому оно оценивается в 0 баллов"
        )
    return f"uses {rule.name} ({name} on {where}): this task {rule.why}, so it scores 0"


RULES = {rule.name: rule for rule in (AUTOGRAD, TORCH_OPTIM, TORCH_CLIPPING)}


def assert_allowed(task: str, obj: object, *rules: str) -> None:
    """Raise ``AssertionError`` when the source of ``obj`` (the task's function or class) uses what
    ``rules`` (names of :data:`RULES`) forbid, with the message the grader gives.

    The first line of the tests of a task that forbids something: ``assert_allowed("Linear", Linear,
    "torch.autograd")``. Passing it says only that the source reads clean; the hidden checks also watch
    the run.
    """
    problem = scan(obj, tuple(RULES[name] for name in rules))
    if problem is not None:
        raise AssertionError(f"{task}: {problem}")
