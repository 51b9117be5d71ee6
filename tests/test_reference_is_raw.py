"""The reference solutions are hand-written: no autograd, no torch.nn, no torch.optim inside them.

Only ``solutions/verify.py`` (the yardstick that compares them with PyTorch) may use those.
"""

import ast
from pathlib import Path

import pytest

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
YARDSTICKS = {"verify.py"}
FORBIDDEN_MODULES = ("torch.autograd", "torch.nn", "torch.optim", "torch.func", "functorch")
FORBIDDEN_NAMES = {"requires_grad", "requires_grad_", "enable_grad", "_foreach_add_"}


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
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute):
            names = [dotted(node)]
            if node.attr in FORBIDDEN_NAMES or node.attr.startswith("_foreach"):
                found.append(f"line {node.lineno}: .{node.attr}")
        for name in names:
            if name.startswith(FORBIDDEN_MODULES):
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
