"""Small helpers for the lecture notebooks: the course's datasets and the diagrams.

This module is handed to students together with the lectures. It reads the course's CSV files from
the repository's ``data/`` folder (see ``data/README.md``) and draws the pictures of a neuron, a
multi-layer perceptron and a computational graph. Everything a lecture teaches (models, losses,
gradients, optimizers) is written out in the lecture itself, so that it can be read there.
"""

from __future__ import annotations

import csv
from itertools import pairwise
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

# the course's data: data/ beside this file where the lectures were released (release/lectures/),
# else the repository's data/
_HERE = Path(__file__).resolve().parent
DATA_DIR = _HERE / "data" if (_HERE / "data").is_dir() else _HERE.parent / "data"

# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------


def read_csv(name: str, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Read ``data/<name>.csv`` into ``(X, y)``: the feature columns and the last column.

    ``X`` is ``(n, d)`` of ``dtype``. ``y`` is ``(n,)``: a float target for ``diabetes``, 1.0 for
    malignant and 0.0 for benign for ``breast_cancer``, the digit 0..9 (int64) for ``digits``.
    """
    path = DATA_DIR / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))[1:]  # skip the header
    X = torch.tensor([[float(v) for v in row[:-1]] for row in rows], dtype=dtype)
    last = [row[-1] for row in rows]
    if name == "digits":
        y = torch.tensor([int(v) for v in last])
    elif name == "breast_cancer":
        y = torch.tensor([1.0 if v == "M" else 0.0 for v in last], dtype=dtype)
    else:
        y = torch.tensor([float(v) for v in last], dtype=dtype)
    return X, y


def split(n: int, fractions: tuple[float, ...], seed: int = 0) -> list[torch.Tensor]:
    """Shuffle the row indices ``0..n-1`` with a seed and cut them into parts of the given fractions.

    ``split(100, (0.6, 0.2, 0.2))`` gives three index tensors of 60, 20 and 20 rows; the last part
    takes whatever rounding leaves over.
    """
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    sizes = [round(f * n) for f in fractions[:-1]]
    sizes.append(n - sum(sizes))
    return list(torch.split(order, sizes))


# ------------------------------------------------------------------------------------------------
# Diagrams
# ------------------------------------------------------------------------------------------------

_BLUE, _RED, _GREY = "#1f77b4", "#d62728", "#555555"
_LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.85}


def _arrow(ax, start, end, color="k", lw=1.2, rad=0.0, ls="-", gaps=(0.3, 0.3)):
    """An arrow from ``start`` to ``end`` that stops ``gaps`` (data units) short of both points."""
    (x0, y0), (x1, y1) = start, end
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    ax.add_patch(
        FancyArrowPatch(
            (x0 + gaps[0] * ux, y0 + gaps[0] * uy),
            (x1 - gaps[1] * ux, y1 - gaps[1] * uy),
            arrowstyle="-|>",
            mutation_scale=12,
            color=color,
            lw=lw,
            ls=ls,
            shrinkA=0,
            shrinkB=0,
            connectionstyle=f"arc3,rad={rad}",
            zorder=2,
        )
    )


def _node(ax, xy, text, radius=0.3, face="white", fontsize=12):
    ax.add_patch(Circle(xy, radius, facecolor=face, edgecolor="k", lw=1.2, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _clean(ax, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_neuron(ax=None, n_inputs: int = 3, activation: str = "f"):
    """One artificial neuron: inputs x_i, weights w_i, the sum a = Σ w_i x_i + b, then y = f(a)."""
    ax = ax or plt.gca()
    ys = [1.2 * (n_inputs - 1) / 2 - 1.2 * i for i in range(n_inputs)]
    labels = [f"$x_{i + 1}$" for i in range(n_inputs - 1)] + ["$x_n$"]
    weights = [f"$w_{i + 1}$" for i in range(n_inputs - 1)] + ["$w_n$"]
    total, act, out = (3.2, 0.0), (5.2, 0.0), (7.0, 0.0)
    for y, label, weight in zip(ys, labels, weights, strict=True):
        _node(ax, (0.0, y), label, face="#e8f0fa")
        _arrow(ax, (0.0, y), total, gaps=(0.3, 0.45))
        ax.text(1.5, 0.62 * y + 0.22, weight, fontsize=12, color=_BLUE, ha="center")
    if n_inputs > 2:
        ax.text(0.0, (ys[-2] + ys[-1]) / 2, "$\\vdots$", ha="center", va="center", fontsize=14)
    _node(ax, (3.2, 1.9), "$1$", radius=0.25, face="#f2f2f2")
    _arrow(ax, (3.2, 1.9), total, gaps=(0.25, 0.45))
    ax.text(3.35, 1.15, "$b$", fontsize=12, color=_BLUE)
    _node(ax, total, "$\\Sigma$", radius=0.45, fontsize=15)
    ax.text(3.2, -0.85, "$a = \\sum_i w_i x_i + b$", ha="center", fontsize=11)
    _arrow(ax, total, act, gaps=(0.45, 0.45))
    _node(ax, act, f"${activation}$", radius=0.45, face="#fdf1e0", fontsize=15)
    ax.text(5.2, -0.85, "activation", ha="center", fontsize=11)
    _arrow(ax, act, out, gaps=(0.45, 0.1))
    ax.text(7.1, 0.0, f"$y = {activation}(a)$", va="center", fontsize=12)
    _clean(ax, (-0.6, 8.9), (-2.0, 2.4))
    return ax


def draw_mlp(ax=None, sizes=(3, 5, 4, 2), activation: str = "f"):
    """A fully connected network with the given layer widths, inputs on the left."""
    ax = ax or plt.gca()
    gap = 2.6
    height = max(sizes)
    positions = []
    for k, width in enumerate(sizes):
        ys = [(width - 1) / 2 - i for i in range(width)]
        positions.append([(k * gap, y) for y in ys])
    for left, right in pairwise(positions):
        for a in left:
            for b in right:
                ax.plot(*zip(a, b, strict=True), color=_GREY, lw=0.6, zorder=1)
    last = len(sizes) - 1
    for k, layer in enumerate(positions):
        face = "#e8f0fa" if k == 0 else ("#fbe3e3" if k == last else "#fdf1e0")
        for xy in layer:
            ax.add_patch(Circle(xy, 0.28, facecolor=face, edgecolor="k", lw=1.0, zorder=3))
        if k == 0:
            title = f"input $x$\n$d = {sizes[0]}$"
        elif k == last:
            title = f"output $\\hat y$\n$W^{{({k})}} h^{{({k - 1})}} + b^{{({k})}}$"
        else:
            title = (
                f"hidden $h^{{({k})}}$\n${activation}(W^{{({k})}} h^{{({k - 1})}} + b^{{({k})}})$"
            )
        ax.text(k * gap, -height / 2 - 0.35, title, ha="center", va="top", fontsize=10)
    _clean(ax, (-1.0, last * gap + 1.0), (-height / 2 - 1.6, height / 2 + 0.2))
    return ax


def _box_gap(dx, dy, half_width, half_height=0.32):
    """How far a line in direction (dx, dy) from a box's centre runs inside the box."""
    length = (dx**2 + dy**2) ** 0.5
    return min(half_width / max(abs(dx) / length, 1e-9), half_height / max(abs(dy) / length, 1e-9))


def draw_graph(ax, nodes: dict, edges: list, values: dict | None = None, grads: dict | None = None):
    """A computational graph: the forward pass left to right, the backward pass right to left.

    ``nodes`` maps a name to its position ``(x, y)``, the text written inside it and optionally the
    box's width, ``{"z": ((2, 0), "$+$"), "R": ((4, -1), "$\\lambda w^2$", 1.4), ...}``; ``edges``
    lists ``(source, target)`` pairs. ``values`` and ``grads`` map node names to texts: the forward
    value (written above the node, black) and the gradient of the output with respect to the node
    (below it, red). With ``grads``, each edge is drawn twice: a black arrow forwards and, beside
    it, a dashed red arrow backwards.
    """
    values, grads = values or {}, grads or {}
    width = {name: (spec[2] if len(spec) > 2 else 0.9) for name, spec in nodes.items()}
    for source, target in edges:
        (x0, y0), (x1, y1) = nodes[source][0], nodes[target][0]
        dx, dy = x1 - x0, y1 - y0
        gaps = (
            _box_gap(dx, dy, width[source] / 2 + 0.05),
            _box_gap(dx, dy, width[target] / 2 + 0.05),
        )
        _arrow(ax, (x0, y0), (x1, y1), gaps=gaps)
        if grads:
            length = (dx**2 + dy**2) ** 0.5
            ox, oy = 0.13 * dy / length, -0.13 * dx / length  # beside the forward arrow
            back = ((x1 + ox, y1 + oy), (x0 + ox, y0 + oy))
            _arrow(ax, *back, color=_RED, ls="--", lw=1.0, gaps=gaps[::-1])
    for name, ((x, y), op, *_) in nodes.items():
        w = width[name]
        ax.add_patch(
            FancyBboxPatch(
                (x - w / 2, y - 0.27),
                w,
                0.54,
                boxstyle="round,pad=0.05",
                facecolor="#f7f7f7",
                edgecolor="k",
                zorder=3,
            )
        )
        ax.text(x, y, op, ha="center", va="center", fontsize=12, zorder=4)
        label = {"ha": "center", "fontsize": 9.5, "zorder": 4, "bbox": _LABEL_BOX}
        if name in values:
            ax.text(x, y + 0.4, values[name], va="bottom", **label)
        if name in grads:
            ax.text(x, y - 0.4, grads[name], va="top", color=_RED, **label)
    xs = [spec[0][0] for spec in nodes.values()]
    ys = [spec[0][1] for spec in nodes.values()]
    _clean(ax, (min(xs) - 1.0, max(xs) + 1.0), (min(ys) - 0.9, max(ys) + 0.9))
    return ax
