"""Run every reference solution once on the default device and check it against PyTorch.

    python -m solutions.verify            # what `make demo` runs
    python -m solutions.verify --device cpu

Prints one row per check: what was compared with what, the largest error seen, the tolerance, the time.
Exits with status 1 if any check fails. This script is the yardstick, not reference code: it is the one
module under ``solutions/`` allowed to call ``torch.autograd``, ``torch.nn``, ``torch.optim`` and
``torch.linalg.lstsq``, to compare the hand-written code with them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import gradcheck as gc
from . import linear_regression as lr
from . import mlp, mlp_extras, optim, optim_extras, schedules
from .datasets import load_breast_cancer, load_diabetes, load_digits
from .device import default_device

F64 = torch.float64


@dataclass
class Row:
    check: str
    against: str
    measured: str
    tolerance: str
    passed: bool
    seconds: float = 0.0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


def _autograd(fn: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor) -> torch.Tensor:
    w = w.detach().clone().requires_grad_(True)
    return torch.autograd.grad(fn(w), w)[0]


def checks(device: torch.device) -> list[Callable[[], Row]]:
    gen = torch.Generator().manual_seed(0)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=F64).to(device)

    diabetes = load_diabetes(device=device)
    X_diab = lr.add_intercept(diabetes.X_train)
    y_diab = diabetes.y_train

    def mse_gradient():
        X, y, w = randn(1000, 20), randn(1000), randn(20)
        err = _max_abs(lr.mse_gradient(X, y, w), _autograd(lambda w: F.mse_loss(X @ w, y), w))
        return Row(
            "mse_gradient (n=1000, d=20)",
            "autograd of F.mse_loss",
            f"max |Δ| {err:.1e}",
            "1e-12",
            err < 1e-12,
        )

    def log_loss_gradient():
        X, w = randn(1000, 20), randn(20)
        y = (randn(1000) > 0).to(F64)
        ref = _autograd(lambda w: F.binary_cross_entropy_with_logits(X @ w, y), w)
        err = _max_abs(lr.log_loss_gradient(X, y, w), ref)
        return Row(
            "log_loss_gradient",
            "autograd of F.bce_with_logits",
            f"max |Δ| {err:.1e}",
            "1e-12",
            err < 1e-12,
        )

    def sigmoid():
        z = torch.linspace(-1e4, 1e4, 200_001, dtype=F64, device=device)
        s = lr.sigmoid(z)
        err = _max_abs(s, torch.sigmoid(z))
        ok = err < 1e-15 and bool(torch.isfinite(s).all())
        return Row(
            "sigmoid on [-1e4, 1e4]", "torch.sigmoid", f"max |Δ| {err:.1e}", "1e-15, finite", ok
        )

    def log_loss_logits():
        z = torch.tensor([-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4], dtype=F64, device=device)
        y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0], dtype=F64, device=device)
        ref = F.binary_cross_entropy_with_logits(z, y)
        err = abs(float(lr.log_loss_from_logits(z, y) - ref)) / float(ref)
        return Row(
            "log_loss_from_logits, |z|≤1e4",
            "F.bce_with_logits",
            f"rel {err:.1e}",
            "1e-15",
            err < 1e-15,
        )

    def worked_example():
        X = torch.tensor([[1.0, 3.0]], dtype=F64, device=device)
        y = torch.tensor([7.0], dtype=F64, device=device)
        w0 = torch.tensor([0.0, 1.0], dtype=F64, device=device)
        w, losses = lr.gradient_descent(X, y, lr=0.01, n_iter=1, w0=w0)
        expected_w = torch.tensor([0.08, 1.24], dtype=F64, device=device)
        expected_l = torch.tensor([16.0, 10.24], dtype=F64, device=device)
        err = max(_max_abs(w, expected_w), _max_abs(losses, expected_l))
        return Row(
            "lecture 1 worked GD step",
            "slides: b=0.08 w=1.24 L=10.24",
            f"max |Δ| {err:.1e}",
            "1e-12",
            err < 1e-12,
        )

    def closed_form():
        w = lr.normal_equation(X_diab, y_diab)
        ref = torch.linalg.lstsq(X_diab.cpu(), y_diab.cpu().unsqueeze(1)).solution.squeeze(1)
        err = _max_abs(w.cpu(), ref) / float(ref.abs().max())
        return Row(
            "normal_equation, diabetes",
            "torch.linalg.lstsq",
            f"rel {err:.1e}",
            "1e-10",
            err < 1e-10,
        )

    best = lr.mse(X_diab @ lr.normal_equation(X_diab, y_diab), y_diab)

    def gd():
        _, losses = lr.gradient_descent(X_diab, y_diab, lr=0.2, n_iter=5000)
        gap = float((losses[-1] - best) / best)
        return Row(
            "GD 5000 steps, diabetes",
            "closed-form MSE",
            f"rel gap {gap:.1e}",
            "1e-9",
            0 <= gap < 1e-9,
        )

    def sgd():
        g = torch.Generator().manual_seed(0)
        _, losses = lr.minibatch_sgd(
            X_diab, y_diab, lr=0.01, n_epochs=300, batch_size=32, generator=g
        )
        gap = float((losses[-1] - best) / best)
        return Row(
            "SGD 300 epochs b=32, diabetes",
            "closed-form MSE",
            f"rel gap {gap:.1e}",
            "1e-2",
            0 <= gap < 1e-2,
        )

    def logistic():
        data = load_breast_cancer(device=device)
        model = lr.LogisticRegressionGD(learning_rate=0.5, max_iter=2000).fit(
            data.X_train, data.y_train
        )
        acc = float((model.predict(data.X_test) == data.y_test).to(F64).mean())
        return Row(
            "LogisticRegressionGD, cancer",
            "held-out labels",
            f"accuracy {acc:.3f}",
            "≥ 0.95",
            acc >= 0.95,
        )

    x_mlp, W1, W2 = randn(8, 5), randn(5, 6), randn(6, 1)

    def mlp_loss(x, W1, W2):
        return ((torch.tanh(x @ W1) @ W2) ** 2).mean()

    def numerical_gradient():
        ref = torch.autograd.functional.jacobian(lambda W: mlp_loss(x_mlp, W, W2), W1)
        err = _max_abs(gc.numerical_gradient(lambda W: mlp_loss(x_mlp, W, W2), W1), ref)
        return Row(
            "numerical_gradient, tanh MLP",
            "autograd jacobian",
            f"max |Δ| {err:.1e}",
            "1e-8",
            err < 1e-8,
        )

    def gradcheck_catches():
        params = {"x": x_mlp, "W1": W1, "W2": W2}
        leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        mlp_loss(**leaves).backward()
        grads = {k: v.grad for k, v in leaves.items()}
        good = gc.gradcheck(mlp_loss, params, grads)
        bad = gc.gradcheck(mlp_loss, params, {**grads, "W1": 2 * grads["W1"]})
        ok = bool(good) and not bad and [c.name for c in bad.failures] == ["W1"]
        worst = good.worst.relative_error
        return Row(
            "gradcheck: autograd ok, 2×W1 caught",
            "autograd grads",
            f"rel {worst:.1e}",
            "pass / fail",
            ok,
        )

    def precision():
        x = randn(50)
        exact = 3 * torch.cos(x) + 2 * x

        def f(t):
            return (3 * torch.sin(t) + t**2).sum()

        e64 = gc.relative_error(gc.numerical_gradient(f, x), exact)
        e32 = gc.relative_error(gc.numerical_gradient(f, x.float()), exact)
        ok = e64 < 1e-8 < 1e-3 < e32
        return Row(
            "central diff. float64 vs float32",
            "exact derivative",
            f"{e64:.0e} vs {e32:.0e}",
            "64 ok, 32 not",
            ok,
        )

    # Homework 2: a hand-written MLP against its torch.nn twin (weights copied; nn.Linear stores Wᵀ).
    def mlp_backward():
        g = torch.Generator().manual_seed(1)
        lin = dict(generator=g, device=device, dtype=F64)
        net = mlp.Sequential(mlp.Linear(64, 32, **lin), mlp.Tanh(), mlp.Linear(32, 10, **lin))
        x, labels = randn(16, 64), torch.randint(0, 10, (16,), generator=gen).to(device)
        loss = mlp_extras.CrossEntropyLoss()
        loss.forward(net.forward(x), labels)
        net.backward(loss.backward())
        twin = [p.detach().clone().requires_grad_(True) for p in net.parameters()]
        W1, b1, W2, b2 = twin
        F.cross_entropy(torch.tanh(x @ W1 + b1) @ W2 + b2, labels).backward()
        err = max(_max_abs(a, t.grad) for a, t in zip(net.gradients(), twin, strict=True))
        return Row(
            "MLP backward 64-32-10 tanh, CE",
            "autograd, same weights",
            f"max |Δ| {err:.1e}",
            "1e-12",
            err < 1e-12,
        )

    def layers_gradcheck():
        g = torch.Generator().manual_seed(2)
        layers = [mlp.Linear(4, 4, generator=g, device=device, dtype=F64)]
        layers += [cls() for cls in mlp_extras.ACTIVATIONS.values()]
        results = [gc.check_layer(layer, randn(3, 4)) for layer in layers]
        worst = max(c.relative_error for r in results for c in r.checks)
        ok = all(results)
        return Row(
            f"gradcheck of {len(layers)} layers",
            "central differences",
            f"rel {worst:.1e}",
            "all pass",
            ok,
        )

    def mlp_training():
        data = load_digits(device=device)
        model = mlp_extras.MLPClassifier(
            (100,),
            learning_rate=0.01,
            max_iter=10,
            batch_size=64,
            optimizer=optim.Adam,
            random_state=0,
        ).fit(data.X_train, data.y_train)
        acc = float((model.predict(data.X_test) == data.y_test).to(F64).mean())
        return Row(
            "MLPClassifier + zoo Adam, digits",
            "held-out labels",
            f"accuracy {acc:.3f}",
            "≥ 0.97",
            acc >= 0.97,
        )

    # Homework 3: the zoo against torch.optim on the Rosenbrock function, 200 steps each.
    def rosenbrock_grad(p):
        x, y = p[0], p[1]
        return torch.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])

    def optimizers():
        pairs = [
            (optim.SGD, torch.optim.SGD, dict(lr=1e-3, momentum=0.9, nesterov=True)),
            (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=1e-3)),
            (optim.RMSprop, torch.optim.RMSprop, dict(lr=1e-3, centered=True, momentum=0.5)),
            (optim.Adam, torch.optim.Adam, dict(lr=1e-2, amsgrad=True, weight_decay=1e-3)),
            (optim_extras.AdamW, torch.optim.AdamW, dict(lr=1e-2)),
        ]
        err = 0.0
        for ours_cls, torch_cls, kwargs in pairs:
            ours, theirs = (torch.tensor([-1.2, 1.0], dtype=F64, device=device) for _ in range(2))
            opt_ours, opt_theirs = ours_cls([ours], **kwargs), torch_cls([theirs], **kwargs)
            for _ in range(200):
                ours.grad, theirs.grad = rosenbrock_grad(ours), rosenbrock_grad(theirs)
                opt_ours.step()
                opt_theirs.step()
            err = max(err, _max_abs(ours, theirs))
        return Row(
            "5 zoo optimizers, Rosenbrock",
            "torch.optim, 200 steps",
            f"max |Δ| {err:.1e}",
            "1e-10",
            err < 1e-10,
        )

    def schedule():
        def lrs(make, n=120):
            opt = torch.optim.SGD([torch.zeros(1)], lr=0.5)
            sched, seq = make(opt), []
            for _ in range(n):
                seq.append(opt.param_groups[0]["lr"])
                opt.step()
                sched.step()
            return torch.tensor(seq, dtype=F64)

        ours = lrs(
            lambda o: schedules.WarmupCosine(o, warmup_steps=10, total_steps=100, start_factor=0.1)
        )
        theirs = lrs(lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
            torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 10),
            torch.optim.lr_scheduler.CosineAnnealingLR(o, 90)], milestones=[10]))  # fmt: skip
        err = _max_abs(ours[:101], theirs[:101])
        return Row(
            "warm-up + cosine schedule",
            "SequentialLR(LinearLR, Cosine)",
            f"max |Δ| {err:.1e}",
            "1e-12",
            err < 1e-12,
        )

    def clipping():
        grads = [randn(30, 20) * 10, randn(20)]
        ours = [torch.zeros_like(g) for g in grads]
        theirs = [torch.zeros_like(g) for g in grads]
        for a, b, g in zip(ours, theirs, grads, strict=True):
            a.grad, b.grad = g.clone(), g.clone()
        n1 = optim.clip_grad_norm_(ours, 1.0)
        n2 = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
        err = max(
            abs(float(n1 - n2)),
            *(_max_abs(a.grad, b.grad) for a, b in zip(ours, theirs, strict=True)),
        )
        return Row("clip_grad_norm_", "torch.nn.utils", f"max |Δ| {err:.1e}", "1e-12", err < 1e-12)

    return [
        mse_gradient, log_loss_gradient, sigmoid, log_loss_logits, worked_example, closed_form, gd, sgd,
        logistic, numerical_gradient, gradcheck_catches, precision,
        mlp_backward, layers_gradcheck, mlp_training, optimizers, schedule, clipping,
    ]  # fmt: skip


def run(device: torch.device) -> list[Row]:
    rows = []
    for check in checks(device):
        _sync(device)
        start = time.perf_counter()
        try:
            row = check()
        except Exception as err:  # a crash is a failed check, reported in its row
            row = Row(check.__name__, "—", f"{type(err).__name__}: {err}"[:60], "—", False)
        _sync(device)
        row.seconds = time.perf_counter() - start
        rows.append(row)
    return rows


def format_table(rows: list[Row]) -> str:
    header = ("check", "compared with", "measured", "tolerance", "time", "")
    cells = [
        (
            r.check,
            r.against,
            r.measured,
            r.tolerance,
            f"{1000 * r.seconds:.1f} ms",
            "ok" if r.passed else "FAIL",
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
        for line in [header, *cells]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--device", default=None, help="cpu, cuda, … (default: CUDA when available)"
    )
    args = parser.parse_args(argv)
    device = torch.device(args.device) if args.device else default_device()
    print(f"dl-homework reference solutions vs PyTorch {torch.__version__} on {device}, float64\n")
    rows = run(device)
    print(format_table(rows))
    failed = [r.check for r in rows if not r.passed]
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} checks passed"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
