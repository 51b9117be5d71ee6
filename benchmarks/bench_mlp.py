"""Performance report for homework 2's hand-written backpropagation (solutions/mlp.py).

    .venv/bin/python benchmarks/bench_mlp.py                 # every available device
    .venv/bin/python benchmarks/bench_mlp.py --quick         # smoke run: fewer repetitions
    .venv/bin/python benchmarks/bench_mlp.py --device cpu    # cpu, cuda or all (default)

One training step's forward and backward pass (no optimizer step), float32, on two networks:

- small: batch 256, 784-256-256-10, ReLU, cross-entropy (an MNIST-sized classifier);
- wide:  batch 4096, 64-512-512-1, tanh, mean squared error.

Three ways to compute the same thing, timed in interleaved rounds (manual, autograd, matmuls, then the
next round in rotated order) so that a burst of load from another process hits all three alike and no
one of them always runs after the same other; the median of each is reported:

- manual:   ``solutions.mlp`` — ``net.forward``, ``loss.forward``, ``loss.backward``,
            ``net.backward(need_input_grad=False)`` (the gradients of every weight and bias);
- autograd: the same network as ``torch.nn`` modules with the same weights, ``loss.backward()``
            after setting every ``.grad`` to None (what ``optimizer.zero_grad()`` does);
- matmuls:  only the matrix products both have to do — ``x W`` per layer forwards, ``hᵀ g`` per
            layer and ``g Wᵀ`` per layer but the first backwards — written into preallocated outputs.
            This is the floor: everything else (bias, activations, loss, the bias gradients) is
            elementwise or reduction work on top of it.

Target: manual / autograd ≤ 1.1, for model answers written as the lecture writes the formulas
(``g * (1 - y * y)``, ``x.T @ g``: a temporary per operation, as autograd's own backward makes).
The matrix products alone are shown as the floor, with no target (an earlier ≤ 1.15× target on it
asked for in-place idioms no student should read as the answer). GFLOP/s counts the multiply-adds of
those matrix products (2 flops each) per second, and is compared with the machine's matmul peak,
measured here as the best rate of a large square float32 matrix product.

It is a report, not a test: it always exits 0 (unless the arguments are wrong); a missed target is
marked MISS in the table. benchmarks/README.md explains the numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from common import cpu_model, print_table, synchronize
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from solutions import mlp, mlp_extras

DTYPE = torch.float32
SEED = 0
TARGET_VS_AUTOGRAD = 1.1


@dataclass(frozen=True)
class Case:
    name: str
    batch: int
    sizes: tuple[int, ...]
    activation: str  # a key of mlp.ACTIVATIONS (and of TORCH_ACTIVATIONS)
    loss: str  # "cross_entropy" or "mse"

    def describe(self) -> str:
        return (
            f"batch {self.batch}, {'-'.join(map(str, self.sizes))}, {self.activation}, "
            f"{self.loss.replace('_', '-')}"
        )

    def flops(self) -> int:
        """2 flops per multiply-add: x W forwards, hᵀ g and (but for the first layer) g Wᵀ backwards."""
        layers = list(pairwise(self.sizes))
        per_row = 2 * sum(a * b for a, b in layers) + sum(a * b for a, b in layers[1:])
        return 2 * self.batch * per_row


CASES = (
    Case("small", 256, (784, 256, 256, 10), "relu", "cross_entropy"),
    Case("wide", 4096, (64, 512, 512, 1), "tanh", "mse"),
)
TORCH_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


# -------------------------------------------------------------------------------------------------
# Timing
# -------------------------------------------------------------------------------------------------


def interleaved_medians(
    fns: dict[str, Callable[[], object]], rounds: int, device: torch.device, warmup: int = 3
) -> dict[str, float]:
    """Median seconds of each function, timed one after the other in ``rounds`` rounds.

    Each function first runs ``warmup`` times untimed (allocator, BLAS and CUDA warm-up). The order
    rotates from round to round (a, b, c; b, c, a; c, a, b; …): what ran just before a function leaves
    the caches and the heap in a state that can shift its time by a few per cent, and in a fixed order
    that shift would always fall on the same function. On CUDA the device is synchronized before the
    clock starts and before it stops.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns.items())
    for r in range(rounds):
        shift = r % len(order)
        for name, fn in order[shift:] + order[:shift]:
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def matmul_peak(device: torch.device, quick: bool) -> tuple[float, int]:
    """The best GFLOP/s of an n×n float32 matrix product on ``device`` (and n)."""
    n = (4096 if quick else 8192) if device.type == "cuda" else (1024 if quick else 2048)
    g = torch.Generator().manual_seed(SEED)
    a = torch.randn(n, n, generator=g, dtype=DTYPE).to(device)
    b = torch.randn(n, n, generator=g, dtype=DTYPE).to(device)
    out = torch.empty(n, n, dtype=DTYPE, device=device)
    best = float("inf")
    for _ in range(2):
        torch.mm(a, b, out=out)
    for _ in range(3 if quick else 7):
        synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9, n


PRODUCTS = {"mm", "addmm"}


class _CountOps(TorchDispatchMode):
    """Records the name of every ATen operation run under it (what the dispatcher sees)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[torch._ops.OpOverload] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(func)
        return func(*args, **(kwargs or {}))


def count_other_ops(fn: Callable[[], object]) -> int:
    """How many tensor operations one call of ``fn`` runs besides the matrix products: every ATen
    operation except ``mm``/``addmm`` and views (``x.T``, ``reshape``: no data moves)."""
    with _CountOps() as counter:
        fn()
    return sum(
        1 for op in counter.ops if not op.is_view and op.overloadpacket.__name__ not in PRODUCTS
    )


# -------------------------------------------------------------------------------------------------
# The three computations
# -------------------------------------------------------------------------------------------------


@dataclass
class Setup:
    manual: Callable[[], object]
    autograd: Callable[[], object]
    matmuls: Callable[[], object]
    max_rel_diff: float  # manual vs autograd gradients, largest relative difference over tensors


def build(case: Case, device: torch.device) -> Setup:
    g = torch.Generator().manual_seed(SEED)
    X = torch.randn(case.batch, case.sizes[0], generator=g, dtype=DTYPE).to(device)
    if case.loss == "cross_entropy":
        target = torch.randint(case.sizes[-1], (case.batch,), generator=g).to(device)
        ours_loss, torch_loss = mlp_extras.CrossEntropyLoss(), F.cross_entropy
    else:
        target = torch.randn(case.batch, case.sizes[-1], generator=g, dtype=DTYPE).to(device)
        ours_loss, torch_loss = mlp.MSELoss(), F.mse_loss

    layers: list[mlp.Layer] = []
    modules: list[nn.Module] = []
    init = "he" if case.activation == "relu" else "xavier"
    for i, (fan_in, fan_out) in enumerate(pairwise(case.sizes)):
        if i > 0:
            layers.append(mlp.ACTIVATIONS[case.activation]())
            modules.append(TORCH_ACTIVATIONS[case.activation]())
        linear = mlp.Linear(fan_in, fan_out, init=init, generator=g, device=device, dtype=DTYPE)
        twin = nn.Linear(fan_in, fan_out, device=device, dtype=DTYPE)
        with torch.no_grad():
            twin.weight.copy_(linear.W.T)  # torch.nn.Linear keeps (out, in) = Wᵀ
            twin.bias.copy_(linear.b)
        layers.append(linear)
        modules.append(twin)
    net, model = mlp.Sequential(*layers), nn.Sequential(*modules)
    torch_params = list(model.parameters())

    def manual() -> None:
        ours_loss.forward(net.forward(X), target)
        net.backward(ours_loss.backward(), need_input_grad=False)

    def autograd() -> None:
        for p in torch_params:
            p.grad = None
        torch_loss(model(X), target).backward()

    # The floor: the same products, on the same operands, into preallocated outputs. The inputs of
    # the Linear layers are those of a real forward pass (what each layer stored for its backward).
    linears = [layer for layer in layers if isinstance(layer, mlp.Linear)]
    manual()
    inputs = [layer.x.clone() for layer in linears]
    grads = [
        torch.randn(case.batch, layer.out_features, generator=g, dtype=DTYPE).to(device)
        for layer in linears
    ]
    outs = [
        torch.empty(case.batch, layer.out_features, dtype=DTYPE, device=device) for layer in linears
    ]
    dWs = [torch.empty_like(layer.W) for layer in linears]
    dxs = [
        torch.empty(case.batch, layer.in_features, dtype=DTYPE, device=device) for layer in linears
    ]

    def matmuls() -> None:
        for x, layer, out in zip(inputs, linears, outs, strict=True):
            torch.mm(x, layer.W, out=out)
        for i in reversed(range(len(linears))):
            torch.mm(inputs[i].T, grads[i], out=dWs[i])
            if i > 0:
                torch.mm(grads[i], linears[i].W.T, out=dxs[i])

    autograd()
    theirs = []
    for module in modules:
        if isinstance(module, nn.Linear):
            theirs += [module.weight.grad.T, module.bias.grad]
    rel = max(
        float((a - b).abs().max() / b.abs().max().clamp(min=1e-30))
        for a, b in zip(net.gradients(), theirs, strict=True)
    )
    return Setup(manual, autograd, matmuls, rel)


# -------------------------------------------------------------------------------------------------
# Report
# -------------------------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def run_device(device: torch.device, rounds: int, quick: bool) -> list[tuple[str, float, bool]]:
    """Print the device's table; return ``(label, ratio, met)`` for every target."""
    peak, n_peak = matmul_peak(device, quick)
    print(
        f"\n{device}: matmul peak {peak:.0f} GFLOP/s (best of {n_peak}×{n_peak} float32 products)"
    )
    lines, notes, results = [], [], []
    for case in CASES:
        setup = build(case, device)
        t = interleaved_medians(
            {"manual": setup.manual, "autograd": setup.autograd, "matmuls": setup.matmuls},
            rounds,
            device,
        )
        vs_autograd, vs_matmuls = t["manual"] / t["autograd"], t["manual"] / t["matmuls"]
        ok_a = vs_autograd <= TARGET_VS_AUTOGRAD
        flops = case.flops()

        def rate(seconds: float, flops: int = flops) -> str:
            gflops = flops / seconds / 1e9
            return f"{gflops:.0f} ({100 * gflops / peak:.0f} %)"

        lines.append(
            [
                case.name,
                fmt_time(t["manual"]),
                fmt_time(t["autograd"]),
                fmt_time(t["matmuls"]),
                f"{vs_autograd:.2f} {'ok' if ok_a else 'MISS'}",
                f"{vs_matmuls:.2f}",
                rate(t["manual"]),
                rate(t["autograd"]),
                rate(t["matmuls"]),
            ]
        )
        other_ops = count_other_ops(setup.manual)
        extra = t["manual"] - t["matmuls"]
        notes.append(
            f"{case.name}: {case.describe()}; {flops / 1e6:.0f} MFLOP of matrix products per pass; "
            f"gradients manual vs autograd: max relative difference {setup.max_rel_diff:.1e}; "
            f"beyond the products the manual pass runs {other_ops} tensor operations in "
            f"{fmt_time(extra)} ({fmt_time(extra / other_ops)} each)"
        )
        results.append((f"{device} {case.name} manual/autograd", vs_autograd, ok_a))
    print_table(
        [
            "case",
            "manual",
            "autograd",
            "matmuls",
            f"manual/autograd (≤{TARGET_VS_AUTOGRAD:g})",
            "manual/matmuls (the floor)",
            "GFLOP/s manual (% peak)",
            "autograd",
            "matmuls",
        ],
        lines,
    )
    for note in notes:
        print(f"  - {note}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run")
    parser.add_argument("--device", choices=["all", "cpu", "cuda"], default="all")
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds (default 50, quick 5)"
    )
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: CUDA is not available", file=sys.stderr)
        return 2
    devices = [torch.device("cpu")] if args.device in ("all", "cpu") else []
    if args.device in ("all", "cuda") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    rounds = args.rounds or (5 if args.quick else 50)

    blas = "MKL" if torch.backends.mkl.is_available() else "BLAS (not MKL)"
    print(
        f"machine: {cpu_model()} ({platform.machine()}), {os.cpu_count()} logical CPUs, torch threads "
        f"{torch.get_num_threads()}, {blas}; Python {platform.python_version()}, torch {torch.__version__}"
    )
    if torch.cuda.is_available():
        print(f"cuda:    {torch.cuda.get_device_name()}, CUDA {torch.version.cuda}")
    try:
        load = os.getloadavg()[0]
        busy = load > 0.5 * (os.cpu_count() or 1)
        print(
            f"load average (1 min) before the run: {load:.2f}"
            + ("  <- other processes are busy: CPU timings will be noisy" if busy else "")
        )
    except OSError:
        pass
    print(
        f"float32, forward + backward of one step, median of {rounds} interleaved rounds"
        + (" (--quick)" if args.quick else "")
    )

    results = []
    for device in devices:
        results += run_device(device, rounds, args.quick)
    met = sum(ok for _, _, ok in results)
    print(f"\n{met} of {len(results)} targets met")
    for label, ratio, ok in results:
        if not ok:
            print(f"  MISS {label}: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
