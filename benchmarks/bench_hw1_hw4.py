"""Performance report for the reference solutions of homework 1 and homework 4.

    make bench                                   # = .venv/bin/python benchmarks/bench_hw1_hw4.py
    .venv/bin/python benchmarks/bench_hw1_hw4.py --quick          # smaller sizes, a smoke run
    .venv/bin/python benchmarks/bench_hw1_hw4.py --device cpu     # cpu, cuda or all (default)

Three comparisons, each against a reference, with a target on the ratio ours / reference:

1. ``normal_equation`` (Cholesky of XᵀX) vs ``torch.linalg.lstsq`` (QR), n=100_000, d=100, float64.
   Target ≤ 0.35×. The two solutions must also give the same loss (to ~1e-15 relative).
2. One iteration of ``gradient_descent`` vs the memory floor: reading X twice. Target ≤ 3×. Also how
   many iterations gradient descent with lr = 1/λ_max(2/n XᵀX) needs to come within 1e-6 (relative)
   of the closed-form loss, on that data and on the standardized diabetes data, next to the bound
   that theory gives for that step size.
3. ``solutions.gradcheck.gradcheck`` vs ``torch.autograd.gradcheck`` on a ~2k-parameter MLP in
   float64. Target ≤ 0.5×. Both must say that autograd's gradients are correct.

It is a report, not a test: it always exits 0 (unless the arguments are wrong); a missed target is
marked MISS in the tables. benchmarks/README.md explains every number.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from common import CpuMeter, cpu_model, print_table, synchronize
from torch import Tensor
from torch.autograd.gradcheck import GradcheckError

from solutions.gradcheck import gradcheck
from solutions.linear_regression import add_intercept, gradient_descent, mse, normal_equation

SEED = 0
DTYPE = torch.float64
GD_TOL = 1e-6  # "converged": (L(w_k) − L*) / L* ≤ GD_TOL, L* the closed-form loss


@dataclass(frozen=True)
class Config:
    n: int  # rows of X in benchmarks 1 and 2
    d: int  # columns of X
    k_long: int  # gradient descent is timed at n_iter=1 and n_iter=k_long; per iteration = Δt / Δk
    repeat: int  # timed runs of the cheap benchmarks (after one warm-up run)
    repeat_slow: int  # timed runs of the expensive ones (lstsq, gradient checks)
    hidden: int  # hidden width of the MLP of benchmark 3
    batch: int  # batch size of the MLP of benchmark 3


FULL = Config(n=100_000, d=100, k_long=51, repeat=7, repeat_slow=7, hidden=64, batch=8)
QUICK = Config(n=10_000, d=100, k_long=21, repeat=3, repeat_slow=1, hidden=16, batch=8)


# -------------------------------------------------------------------------------------------------
# Timing and formatting
# -------------------------------------------------------------------------------------------------


def timeit(fn: Callable[[], object], repeat: int, device: torch.device, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeat`` runs, after ``warmup`` untimed runs.

    On CUDA the device is synchronized before the clock starts and before it stops, so the time is
    that of the kernels, not of their launch.
    """
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timeit_pair(
    ours: Callable[[], object], reference: Callable[[], object], repeat: int, device: torch.device
) -> tuple[float, float]:
    """Median seconds of ``ours()`` and of ``reference()``, sampled in turn (ours, ref, ref, ours, …).

    Interleaving makes a change of machine load during the run hit both alike, so the ratio of the two
    medians is steadier than when one is timed after the other.
    """
    ours(), reference()  # warm-up
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(repeat):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            fn = (ours, reference)[which]
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            samples[which].append(time.perf_counter() - start)
    return statistics.median(samples[0]), statistics.median(samples[1])


def fmt_time(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def fmt_gbs(n_bytes: float, seconds: float) -> str:
    return f"{n_bytes / seconds / 1e9:.1f} GB/s" if seconds > 0 else "n/a"


@dataclass
class Row:
    """One line of a device's table. ``ok`` is None for a row that only informs."""

    key: str  # short name for the side-by-side summary
    name: str
    ours: str
    reference: str
    ratio: str
    target: str
    ok: bool | None


@dataclass
class Report:
    device: torch.device
    rows: list[Row]
    notes: list[str]
    seconds: float = 0.0
    others: float | None = None  # share of the CPUs other processes used during the run


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("ok" if ok else "MISS")


def describe_share(share: float | None) -> str:
    if share is None:
        return "unknown"
    text = f"{share:.0%} of {os.cpu_count()} CPUs"
    return text + ("  <- BUSY: CPU timings are noisy, run again later" if share > 0.1 else "")


# -------------------------------------------------------------------------------------------------
# Machine description
# -------------------------------------------------------------------------------------------------


def machine_header(devices: list[torch.device], cfg: Config, quick: bool) -> list[str]:
    blas = "MKL" if torch.backends.mkl.is_available() else "BLAS (not MKL)"
    lines = [
        f"machine: {cpu_model()} ({platform.machine()}), {os.cpu_count()} logical CPUs, "
        f"torch threads {torch.get_num_threads()}, {blas}; Python {platform.python_version()}, "
        f"torch {torch.__version__}",
    ]
    for device in devices:
        if device.type == "cuda":
            props = torch.cuda.get_device_properties(device)
            lines.append(
                f"cuda:   {torch.cuda.get_device_name(device)}, "
                f"{props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
            )
    others = CpuMeter().others_share(probe_seconds=0.5)
    if others is not None:
        lines.append(f"other processes' CPU use just before the run: {describe_share(others)}")
    size = f"n={cfg.n:_}, d={cfg.d}, float64; MLP 16→{cfg.hidden}→16, batch {cfg.batch}"
    quick_note = "  (--quick: the targets are for the full sizes, these ratios are indicative)"
    lines.append(f"sizes: {size}" + (quick_note if quick else ""))
    return lines


# -------------------------------------------------------------------------------------------------
# Data
# -------------------------------------------------------------------------------------------------


def regression_data(n: int, d: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Well-conditioned X ~ N(0, 1) (κ(X) ≈ (1 + √(d/n)) / (1 − √(d/n))), y = X w + 0.1·noise.

    Drawn on the CPU with a seeded generator and then moved, so every device gets the same numbers.
    """
    g = torch.Generator().manual_seed(SEED)
    X = torch.randn(n, d, generator=g, dtype=DTYPE)
    w = torch.randn(d, generator=g, dtype=DTYPE)
    y = X @ w + 0.1 * torch.randn(n, generator=g, dtype=DTYPE)
    return X.to(device), y.to(device)


def diabetes_data(device: torch.device) -> tuple[Tensor, Tensor, str]:
    """The course's standardized diabetes training set with an intercept column, or a stand-in.

    Falls back to a synthetic set of the same shape (354 × 10, correlated features, standardized)
    when ``solutions.datasets.load_diabetes`` cannot be imported or cannot read its file.
    """
    reason = ""
    try:
        from solutions.datasets import load_diabetes
    except ImportError as err:
        reason = f"solutions.datasets.load_diabetes not importable ({err})"
    else:
        try:
            split = load_diabetes(device=device, dtype=DTYPE)
        except ValueError as err:  # DatasetError: missing or modified data file
            reason = f"load_diabetes failed ({err})"
        else:
            X, y = split.X_train, split.y_train
            return add_intercept(X), y, f"diabetes train set {tuple(X.shape)} + intercept"
    g = torch.Generator().manual_seed(SEED)
    n, d = 354, 10
    mixing = torch.eye(d, dtype=DTYPE) + 0.6 * torch.randn(d, d, generator=g, dtype=DTYPE)
    X = torch.randn(n, d, generator=g, dtype=DTYPE) @ mixing  # correlated columns, like s1..s6
    X = (X - X.mean(0)) / X.std(0, correction=0)
    y = 150.0 + X @ (20.0 * torch.randn(d, generator=g, dtype=DTYPE))
    y = y + 55.0 * torch.randn(n, generator=g, dtype=DTYPE)
    name = f"SYNTHETIC stand-in for diabetes {(n, d)} + intercept — {reason}"
    return add_intercept(X).to(device), y.to(device), name


# -------------------------------------------------------------------------------------------------
# Benchmark 1: closed form vs lstsq
# -------------------------------------------------------------------------------------------------


def bench_closed_form(X: Tensor, y: Tensor, cfg: Config) -> tuple[list[Row], list[str]]:
    device = X.device
    # 'gelsy' (QR with column pivoting) is the CPU default; 'gels' (plain QR) the only CUDA driver.
    driver = "gelsy" if device.type == "cpu" else "gels"

    def lstsq() -> Tensor:
        return torch.linalg.lstsq(X, y.unsqueeze(1), driver=driver).solution.squeeze(1)

    t_ours, t_ref = timeit_pair(lambda: normal_equation(X, y), lstsq, cfg.repeat_slow, device)
    w_ours, w_ref = normal_equation(X, y), lstsq()
    loss_ours, loss_ref = float(mse(X @ w_ours, y)), float(mse(X @ w_ref, y))
    loss_diff = abs(loss_ours - loss_ref) / loss_ref
    w_diff = float(torch.linalg.vector_norm(w_ours - w_ref) / torch.linalg.vector_norm(w_ref))

    # Where the time of normal_equation goes: its arithmetic alone (XᵀX, Xᵀy, Cholesky, 2 solves)
    # vs the input checks it runs first (as_matrix/as_vector: isfinite over X and y).
    def arithmetic() -> Tensor:
        L = torch.linalg.cholesky(X.T @ X)
        z = torch.linalg.solve_triangular(L, (X.T @ y).unsqueeze(1), upper=False)
        return torch.linalg.solve_triangular(L.T, z, upper=True)

    t_arith = timeit(arithmetic, cfg.repeat, device)
    n, d = X.shape
    rows = [
        Row(
            "closed form / lstsq (time)",
            f"1. normal_equation vs lstsq[{driver}] time",
            fmt_time(t_ours),
            fmt_time(t_ref),
            f"{t_ours / t_ref:.3f}×",
            "≤ 0.35×",
            t_ours / t_ref <= 0.35,
        ),
        Row(
            "closed form / lstsq (loss Δrel)",
            "   loss at the solution (MSE)",
            f"{loss_ours:.6e}",
            f"{loss_ref:.6e}",
            f"Δrel {loss_diff:.1e}",
            "≤ 1e-12",
            loss_diff <= 1e-12,
        ),
    ]
    notes = [
        f"1. X: {n:_}×{d} float64; lstsq driver '{driver}'"
        + (" (the CPU default)" if driver == "gelsy" else " (the only CUDA driver)")
        + f"; ‖w_ours − w_lstsq‖/‖w_lstsq‖ = {w_diff:.1e}",
        f"   normal_equation's own arithmetic (XᵀX, Xᵀy, Cholesky, 2 triangular solves) takes "
        f"{fmt_time(t_arith)} = {t_arith / t_ref:.3f}× lstsq; the remaining "
        f"{fmt_time(max(t_ours - t_arith, 0.0))} ({max(t_ours - t_arith, 0.0) / t_ours:.0%} of "
        "normal_equation) is its input checks (a finiteness check of X and y) and call overhead",
    ]
    return rows, notes


# -------------------------------------------------------------------------------------------------
# Benchmark 2: gradient descent vs the memory floor, and iterations to converge
# -------------------------------------------------------------------------------------------------


def optimal_lr(X: Tensor) -> tuple[float, float]:
    """``lr = 1/λ_max(H)`` for the MSE Hessian ``H = 2/n XᵀX``, and the condition number κ(H)."""
    eig = torch.linalg.eigvalsh(2.0 / X.shape[0] * (X.T @ X))
    lam_min, lam_max = float(eig[0]), float(eig[-1])
    return 1.0 / lam_max, lam_max / lam_min


def iteration_bound(kappa: float, excess0: float, target: float) -> int:
    """Iterations after which GD with lr = 1/λ_max is guaranteed to have excess loss ≤ ``target``.

    Along the eigenvector of eigenvalue λ the error shrinks by (1 − λ/λ_max) per step, so the excess
    loss L(w_k) − L* shrinks at least by (1 − 1/κ)² per step: excess_k ≤ (1 − 1/κ)^(2k) excess_0.
    """
    if excess0 <= target:
        return 0
    if kappa <= 1.0 + 1e-12:
        return 1
    return math.ceil(math.log(target / excess0) / (2.0 * math.log1p(-1.0 / kappa)))


def iterations_to_converge(X: Tensor, y: Tensor) -> tuple[int | None, int, int, float]:
    """(measured iterations or None if not reached within the cap, theory bound, cap, κ)."""
    lr, kappa = optimal_lr(X)
    loss_star = float(mse(X @ normal_equation(X, y), y))
    loss0 = float(y @ y / y.shape[0])  # L(w0) for w0 = 0
    bound = iteration_bound(kappa, loss0 - loss_star, GD_TOL * loss_star)
    n, d = X.shape
    cap = min(max(int(5e9 / (n * d)), 100), 100_000)  # keep the run short on big X
    _, losses = gradient_descent(X, y, lr, n_iter=min(bound, cap))
    reached = torch.nonzero((losses - loss_star) / loss_star <= GD_TOL).flatten()
    measured = int(reached[0]) if reached.numel() else None
    return measured, bound, cap, kappa


def convergence_row(key: str, label: str, X: Tensor, y: Tensor) -> Row:
    measured, bound, cap, kappa = iterations_to_converge(X, y)
    if measured is None:
        ours, ratio, ok = f"> {min(bound, cap)}", "n/a", False
    else:
        ours, ratio, ok = str(measured), f"{measured / max(bound, 1):.2f}", measured <= bound
    return Row(
        key,
        f"   GD iterations to 1e-6 ({label})",
        ours,
        f"bound {bound} (κ={kappa:.3g})",
        ratio,
        "≤ bound",
        ok,
    )


def bench_gradient_descent(
    X: Tensor, y: Tensor, cfg: Config, diabetes: tuple[Tensor, Tensor, str]
) -> tuple[list[Row], list[str]]:
    device = X.device
    lr, _ = optimal_lr(X)
    k = cfg.k_long
    t_1 = timeit(lambda: gradient_descent(X, y, lr, n_iter=1), cfg.repeat, device)
    t_k = timeit(lambda: gradient_descent(X, y, lr, n_iter=k), cfg.repeat, device)
    per_iter = max(t_k - t_1, 0.0) / (k - 1)
    t_read = timeit(lambda: X.sum(), 3 * cfg.repeat, device)
    floor = 2.0 * t_read
    x_bytes = X.numel() * X.element_size()
    n, d = X.shape
    diabetes_label = "SYNTHETIC diabetes" if diabetes[2].startswith("SYNTHETIC") else "diabetes"
    rows = [
        Row(
            "GD iteration / 2 reads of X",
            "2. one GD iteration vs 2 reads of X",
            fmt_time(per_iter),
            fmt_time(floor),
            f"{per_iter / floor:.2f}×",
            "≤ 3×",
            per_iter / floor <= 3.0,
        ),
        convergence_row("GD iterations (this X)", f"{n:_}×{d}", X, y),
        convergence_row("GD iterations (diabetes)", diabetes_label, diabetes[0], diabetes[1]),
    ]
    notes = [
        f"2. per iteration = (t(n_iter={k}) − t(n_iter=1)) / {k - 1} = "
        f"({fmt_time(t_k)} − {fmt_time(t_1)}) / {k - 1}: the one-off costs (input checks, the "
        "column-major copy of X, the final loss) cancel out",
        f"   floor = 2 × median X.sum() = 2 × {fmt_time(t_read)}; read bandwidth "
        f"{fmt_gbs(x_bytes, t_read)}, GD effective bandwidth {fmt_gbs(2 * x_bytes, per_iter)} "
        f"(2 × {x_bytes / 1e6:.0f} MB per iteration)",
        f"   GD lr = 1/λ_max(2/n XᵀX); 'iterations' = first k with (L(w_k) − L*)/L* ≤ {GD_TOL:g}, "
        "L* the closed-form loss; bound = ceil(log(tol·L*/(L(0) − L*)) / (2 log(1 − 1/κ)))",
        f"   diabetes data: {diabetes[2]}",
    ]
    if x_bytes < 64e6 and device.type == "cpu":
        notes.append(
            f"   X is only {x_bytes / 1e6:.0f} MB: it may sit in the CPU caches (not a DRAM floor)"
        )
    return rows, notes


# -------------------------------------------------------------------------------------------------
# Benchmark 3: gradient checks
# -------------------------------------------------------------------------------------------------


def mlp_problem(cfg: Config, device: torch.device) -> tuple[Callable[..., Tensor], list[Tensor]]:
    """loss(W1, b1, W2, b2) = mean((tanh(x W1ᵀ + b1) W2ᵀ + b2 − t)²), 16 → hidden → 16, float64."""
    g = torch.Generator().manual_seed(SEED)
    h = cfg.hidden
    x = torch.randn(cfg.batch, 16, generator=g, dtype=DTYPE).to(device)
    target = torch.randn(cfg.batch, 16, generator=g, dtype=DTYPE).to(device)
    params = [
        torch.randn(h, 16, generator=g, dtype=DTYPE) / 16**0.5,
        0.1 * torch.randn(h, generator=g, dtype=DTYPE),
        torch.randn(16, h, generator=g, dtype=DTYPE) / h**0.5,
        0.1 * torch.randn(16, generator=g, dtype=DTYPE),
    ]
    params = [p.to(device).requires_grad_() for p in params]

    def loss(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor) -> Tensor:
        hidden = torch.tanh(F.linear(x, W1, b1))
        return ((F.linear(hidden, W2, b2) - target) ** 2).mean()

    return loss, params


def bench_gradcheck(cfg: Config, device: torch.device) -> tuple[list[Row], list[str]]:
    f, params = mlp_problem(cfg, device)
    n_params = sum(p.numel() for p in params)
    names = ("W1", "b1", "W2", "b2")  # passed as a dict, so that our report names the tensors

    def ours():
        grads = torch.autograd.grad(f(*params), params)
        return gradcheck(
            f, dict(zip(names, params, strict=True)), dict(zip(names, grads, strict=True))
        )

    def theirs() -> bool:
        try:
            return torch.autograd.gradcheck(f, tuple(params))  # fast_mode=False, the default
        except GradcheckError:
            return False

    t_ours, t_ref = timeit_pair(ours, theirs, cfg.repeat_slow, device)
    result, torch_ok = ours(), theirs()
    worst = result.worst
    rows = [
        Row(
            "gradcheck / torch.autograd.gradcheck (time)",
            f"3. gradcheck vs torch.autograd.gradcheck ({n_params} params)",
            fmt_time(t_ours),
            fmt_time(t_ref),
            f"{t_ours / t_ref:.3f}×",
            "≤ 0.5×",
            t_ours / t_ref <= 0.5,
        ),
        Row(
            "gradcheck verdicts",
            "   verdict on autograd's gradients",
            "passed" if result else "FAILED",
            "passed" if torch_ok else "FAILED",
            "—",
            "both pass",
            bool(result) and torch_ok,
        ),
    ]
    notes = [
        f"3. MLP 16→{cfg.hidden} tanh→16, MSE loss, batch {cfg.batch}, float64, "
        f"{n_params} parameters in 4 tensors (W1, b1, W2, b2); ours times autograd's backward + "
        "gradcheck(f, params, grads), torch's times torch.autograd.gradcheck(f, params) "
        "with its defaults (fast_mode=False)",
        f"   ours: largest relative error {worst.relative_error:.1e} (in {worst.name}), "
        f"eps={result.eps:g}"
        if worst is not None
        else "   ours: no inputs",
    ]
    return rows, notes


# -------------------------------------------------------------------------------------------------
# Driver
# -------------------------------------------------------------------------------------------------


def run_device(device: torch.device, cfg: Config) -> Report:
    torch.manual_seed(SEED)
    X, y = regression_data(cfg.n, cfg.d, device)
    diabetes = diabetes_data(device)
    rows, notes = [], []
    for part_rows, part_notes in (
        bench_closed_form(X, y, cfg),
        bench_gradient_descent(X, y, cfg, diabetes),
        bench_gradcheck(cfg, device),
    ):
        rows += part_rows
        notes += part_notes
    return Report(device, rows, notes)


def print_report(report: Report) -> None:
    name = str(report.device)
    if report.device.type == "cuda":
        name += f" ({torch.cuda.get_device_name(report.device)})"
    print(f"\n== {name}   ({report.seconds:.0f} s)")
    print(f"  other processes' CPU use during this run: {describe_share(report.others)}")
    headers = ["benchmark", "ours", "reference", "ratio", "target", "ok?"]
    lines = [[r.name, r.ours, r.reference, r.ratio, r.target, verdict(r.ok)] for r in report.rows]
    print_table(headers, lines)
    print()
    for note in report.notes:
        first = "  " if note[:1].isdigit() else "     "
        print(textwrap.fill(note.strip(), 100, initial_indent=first, subsequent_indent="       "))


def print_summary(reports: list[Report]) -> None:
    if len(reports) > 1:
        print("\n== ratios side by side")
        headers = ["benchmark", "target", *(str(r.device) for r in reports)]
        lines = []
        for i, row in enumerate(reports[0].rows):
            cells = [f"{r.rows[i].ratio} {verdict(r.rows[i].ok)}" for r in reports]
            lines.append([row.key, row.target, *cells])
        print_table(headers, lines)
    misses = [f"{r.device}: {row.key}" for r in reports for row in r.rows if row.ok is False]
    checked = sum(row.ok is not None for r in reports for row in r.rows)
    print(f"\n{checked - len(misses)} of {checked} targets met.")
    for miss in misses:
        print(f"  MISS  {miss}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes (n=10_000): a smoke run"
    )
    parser.add_argument(
        "--device",
        choices=["cpu", "cuda", "all"],
        default="all",
        help="where to run: cpu, cuda, or all available (default)",
    )
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = QUICK if args.quick else FULL
    devices = [torch.device("cpu")] if args.device in ("cpu", "all") else []
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    print("Benchmarks of homework 1 (linear regression) and homework 4 (gradient checking)")
    for line in machine_header(devices, cfg, args.quick):
        print(line)
    reports = []
    for device in devices:
        start, meter = time.perf_counter(), CpuMeter()
        report = run_device(device, cfg)
        report.seconds, report.others = time.perf_counter() - start, meter.others_share()
        print_report(report)
        reports.append(report)
    print_summary(reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
