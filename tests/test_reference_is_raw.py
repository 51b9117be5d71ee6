"""The reference solutions are hand-written: no autograd, no torch.nn, no torch.optim inside them.

Only ``solutions/verify.py`` (the yardstick that compares them with PyTorch) may use those. The one
exception is the bookkeeping base classes of homework 3 (``ALLOWED``): ``solutions/optim.py`` subclasses
``torch.optim.Optimizer`` (parameter groups, state_dict, hooks) and ``solutions/schedules.py``
subclasses ``torch.optim.lr_scheduler.LRScheduler``, so that PyTorch's schedulers drive our optimizers
and ours drive PyTorch's; the updates themselves are written out by hand. Every other ``torch.optim``
name (``SGD``, ``Adam``, ``_functional``, ``adam``, ``LambdaLR``, …) stays forbidden.
"""

import ast
from pathlib import Path

import pytest

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
YARDSTICKS = {"verify.py"}
FORBIDDEN_MODULES = ("torch.autograd", "torch.nn", "torch.optim", "torch.func", "functorch")
FORBIDDEN_NAMES = {"requires_grad", "requires_grad_", "enable_grad", "_foreach_add_"}
ALLOWED = ("torch.optim.Optimizer", "torch.optim.lr_scheduler.LRScheduler")


def allowed(name: str) -> bool:
    """An allowed base class, or an attribute of one (``torch.optim.Optimizer.zero_grad``)."""
    return any(name == a or name.startswith(a + ".") for a in ALLOWED)


def dotted(node: ast.AST) -> str:
    """``torch.nn.functional.relu`` for an Attribute chain, '' for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def violations(source: str) -> list[str]:
    found = []
    tree = ast.parse(source)
    # `torch.optim.Optimizer` is one Attribute whose .value is the Attribute `torch.optim`: judge only
    # whole chains, or the allowed name would be flagged through its prefix.
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from torch.nn import functional` is judged as `torch.nn.functional`, and so on
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute):
            if node.attr in FORBIDDEN_NAMES or node.attr.startswith("_foreach"):
                found.append(f"line {node.lineno}: .{node.attr}")
            if id(node) not in inner:
                names = [dotted(node)]
        for name in names:
            if name.startswith(FORBIDDEN_MODULES) and not allowed(name):
                found.append(f"line {node.lineno}: {name}")
    return found


REFERENCE_FILES = sorted(p for p in SOLUTIONS.glob("*.py") if p.name not in YARDSTICKS)


@pytest.mark.parametrize("path", REFERENCE_FILES, ids=lambda p: p.name)
def test_reference_code_uses_raw_tensors_only(path):
    assert violations(path.read_text()) == []


def test_the_scan_catches_forbidden_uses():
    sneaky = (
        "import torch.nn.functional as F\n"
        "from torch import autograd\n"
        "from torch.optim import SGD\n"
        "x.requires_grad_(True)\n"
        "torch.autograd.grad(y, x)\n"
        "torch._foreach_mul_(ps, 2)\n"
    )
    assert len(violations(sneaky)) >= 6
    assert violations("import torch\ny = torch.tanh(x) @ W\nlayer.backward(g)\n") == []


def test_the_scan_allows_only_the_optimizer_base_classes():
    allowed_uses = (
        "from torch.optim import Optimizer\n"
        "from torch.optim.lr_scheduler import LRScheduler\n"
        "class SGD(torch.optim.Optimizer):\n"
        "    def step(self):\n"
        "        torch.optim.Optimizer.zero_grad(self)\n"
        "class Sched(torch.optim.lr_scheduler.LRScheduler): pass\n"
        "with torch.no_grad():\n"
        "    p.add_(g, alpha=-lr)\n"
    )
    assert violations(allowed_uses) == []
    still_forbidden = [
        "torch.optim.Adam(params)",
        "torch.optim.SGD(params, lr=0.1)",
        "from torch.optim import Adam",
        "from torch.optim import _functional",
        "from torch.optim import *",
        "from torch.optim.adam import adam",
        "from torch.optim.optimizer import Optimizer",
        "from torch.optim.lr_scheduler import LambdaLR",
        "torch.optim.lr_scheduler.StepLR(opt, 10)",
        "torch.optim._functional.adam(ps)",
        "torch.optim.OptimizerX",
        "import torch.optim",
        "import torch.optim as optim",
        "from torch import optim",
        "torch._foreach_mul_(ps, 2)",
        "torch.optim.Optimizer.requires_grad_",
    ]
    for source in still_forbidden:
        assert violations(source) != [], source
