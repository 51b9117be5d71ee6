"""Performance report for homework 3's optimizers (``solutions/optim.py``) against ``torch.optim``.

    .venv/bin/python benchmarks/bench_optim.py              # 1M and 20M parameters, every device
    .venv/bin/python benchmarks/bench_optim.py --quick      # smoke run: 1M parameters, few repeats
    .venv/bin/python benchmarks/bench_optim.py --device cpu # cpu, cuda or all (default)

One optimizer step over 10 float32 tensors (1M or 20M parameters in all), for SGD(momentum=0.9),
Adagrad, RMSprop, Adam and AdamW with their default hyper-parameters, each timed as

    zoo       solutions.optim (AdamW: solutions.optim_extras): the lecture's formulas written out,
              a temporary per operation, one parameter at a time (the parameter updated in place)
    loop      torch.optim, foreach=False (per-tensor fused in-place ops: the same values to rounding)
    foreach   torch.optim, foreach=True (multi-tensor kernels; on the CPU a C++ loop)
    fused     torch.optim, fused=True, where torch has it on the device (one kernel per tensor)

Target: zoo ≤ 1.1 × foreach. The table also gives the effective memory bandwidth, the bytes a step
must move at the least (read p, g and the state, write p and the state: 20 bytes per float32
parameter for SGD with momentum, Adagrad and RMSprop, 28 for Adam and AdamW) divided by its time,
as a share of the copy bandwidth measured on a buffer of the same size (``dst.copy_(src)``).

Variants are timed round-robin (one sample of each in turn, in rotating order) so that a change in
machine load hits all of them alike; each time is the median. It is a report, not a test: it always
exits 0 (unless the arguments are wrong) and marks a missed target MISS. benchmarks/README.md explains
every number.
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

import torch
from common import CpuMeter, cpu_model, print_table, synchronize

from solutions import optim as zoo
from solutions import optim_extras

TARGET = 1.1  # zoo / foreach
N_TENSORS = 10
SEED = 0


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...]  # total parameters
    samples: int  # timed samples per variant (after warm-up)
    min_sample_seconds: float  # a sample runs enough steps to last at least this long


FULL = Config(sizes=(1_000_000, 20_000_000), samples=15, min_sample_seconds=0.05)
QUICK = Config(sizes=(1_000_000,), samples=5, min_sample_seconds=0.01)

# name, zoo class, torch class, hyper-parameters, bytes moved per parameter at the least (float32)
OPTIMIZERS = [
    ("SGD(momentum=0.9)", zoo.SGD, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}, 20),
    ("Adagrad", zoo.Adagrad, torch.optim.Adagrad, {}, 20),
    ("RMSprop", zoo.RMSprop, torch.optim.RMSprop, {}, 20),
    ("Adam", zoo.Adam, torch.optim.Adam, {}, 28),
    ("AdamW", optim_extras.AdamW, torch.optim.AdamW, {}, 28),
]
VARIANTS = ["zoo", "loop", "foreach", "fused"]


# -------------------------------------------------------------------------------------------------
# Machine
# -------------------------------------------------------------------------------------------------


def header(devices: list[torch.device], quick: bool) -> list[str]:
    lines = [
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, torch threads "
        f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}",
        f"python {platform.python_version()}, torch {torch.__version__}"
        + (f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no CUDA"),
        f"devices: {', '.join(str(d) for d in devices)}; mode: {'quick' if quick else 'full'}",
    ]
    return lines


# -------------------------------------------------------------------------------------------------
# Timing
# -------------------------------------------------------------------------------------------------


def make_tensors(n_params: int, device: torch.device, generator: torch.Generator):
    """10 float32 parameter tensors of ~n/10 elements each (2-D, as layers' weights), and gradients."""
    per = n_params // N_TENSORS
    cols = 1000 if per % 1000 == 0 else 1
    params = [
        torch.randn(per // cols, cols, generator=generator).to(device) for _ in range(N_TENSORS)
    ]
    grads = [torch.randn(p.shape, generator=generator).to(device) * 1e-2 for p in params]
    return params, grads


def build(variant: str, zoo_cls, torch_cls, kwargs, params0, grads):
    """An optimizer of the variant over its own copy of the parameters, or None if unsupported."""
    params = [p.clone() for p in params0]
    for p, g in zip(params, grads, strict=True):
        p.grad = g  # gradients are read, never written: all variants share them
    if variant == "zoo":
        opt = zoo_cls(params, **kwargs)
    elif variant == "loop":
        opt = torch_cls(params, foreach=False, **kwargs)
    elif variant == "foreach":
        opt = torch_cls(params, foreach=True, **kwargs)
    else:
        try:
            opt = torch_cls(params, fused=True, **kwargs)
            # unsupported devices fail at the first step, not in the constructor: try on a copy
            probe = [p.clone() for p in params0[:1]]
            probe[0].grad = grads[0]
            torch_cls(probe, fused=True, **kwargs).step()
        except (TypeError, RuntimeError):
            return None
    return opt


def time_round_robin(steps: dict[str, Callable[[], object]], device, cfg: Config) -> dict:
    """Median seconds per step of each callable, sampled in turn (rotating the order).

    Every callable runs the same number of times (two warm-up calls, then ``cfg.samples`` samples of
    ``reps`` calls, ``reps`` set so that a sample of the slowest lasts ``cfg.min_sample_seconds``), so
    optimizers that compute the same update end with the same parameters, to rounding.
    """
    slowest = 0.0
    for step in steps.values():  # warm-up: lazy state, allocator, caches
        step()
        synchronize(device)
        start = time.perf_counter()
        step()
        synchronize(device)
        slowest = max(slowest, time.perf_counter() - start)
    reps = max(1, int(cfg.min_sample_seconds / max(slowest, 1e-9)))
    samples = {k: [] for k in steps}
    names = list(steps)
    for i in range(cfg.samples):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            synchronize(device)
            start = time.perf_counter()
            for _ in range(reps):
                steps[name]()
            synchronize(device)
            samples[name].append((time.perf_counter() - start) / reps)
    return {k: statistics.median(v) for k, v in samples.items()}


def stream_bandwidths(n_params: int, device: torch.device, cfg: Config) -> tuple[float, float]:
    """Bytes per second of two reference streams over n float32 numbers.

    - copy: ``dst.copy_(src)``, counted as read 4n + write 4n bytes (the usual convention; on a CPU
      the write first reads dst's cache lines — write-allocate — so more is really moved);
    - in-place: ``a.add_(b)``, read 8n + write 4n bytes, writing lines it has just read, which is the
      access pattern of an in-place optimizer update.
    """
    a, b = torch.rand(n_params, device=device), torch.rand(n_params, device=device)
    dst = torch.empty_like(a)
    t = time_round_robin({"copy": lambda: dst.copy_(a), "add_": lambda: a.add_(b)}, device, cfg)
    return 8 * n_params / t["copy"], 12 * n_params / t["add_"]


# -------------------------------------------------------------------------------------------------
# Report
# -------------------------------------------------------------------------------------------------


def fmt_ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.2f}"


def run_size(n_params: int, device: torch.device, cfg: Config) -> tuple[list[list[str]], list]:
    generator = torch.Generator().manual_seed(SEED)
    params0, grads = make_tensors(n_params, device, generator)
    copy_bw, inplace_bw = stream_bandwidths(n_params, device, cfg)
    rows, misses = [], []
    print(
        f"\n{device}: {n_params / 1e6:g}M parameters ({N_TENSORS} float32 tensors of "
        f"{tuple(params0[0].shape)}); copy bandwidth {copy_bw / 1e9:.1f} GB/s "
        f"(in-place a.add_(b): {inplace_bw / 1e9:.1f} GB/s)"
    )
    for name, zoo_cls, torch_cls, kwargs, bytes_per_param in OPTIMIZERS:
        opts = {v: build(v, zoo_cls, torch_cls, kwargs, params0, grads) for v in VARIANTS}
        steps = {v: opt.step for v, opt in opts.items() if opt is not None}
        t = time_round_robin(steps, device, cfg)
        zoo_p = opts["zoo"].param_groups[0]["params"][0]
        loop_p = opts["loop"].param_groups[0]["params"][0]
        # same steps, the same formulas arranged differently: equal to float32 rounding, not to the bit
        apart = float((zoo_p - loop_p).abs().max()) / max(float(loop_p.abs().max()), 1e-30)
        ratio = t["zoo"] / t["foreach"]
        ok = ratio <= TARGET
        if not ok:
            misses.append(f"{device} {n_params / 1e6:g}M {name}: zoo/foreach {ratio:.2f}")
        n_bytes = bytes_per_param * n_params

        def bw(seconds, n_bytes=n_bytes):
            return f"{n_bytes / seconds / 1e9:.1f} ({n_bytes / seconds / copy_bw:.0%})"

        fused = t.get("fused")
        rows.append(
            [
                name,
                fmt_ms(t["zoo"]),
                fmt_ms(t["loop"]),
                fmt_ms(t["foreach"]),
                fmt_ms(fused),
                f"{ratio:.2f}",
                "ok" if ok else "MISS",
                f"{t['zoo'] / t['loop']:.2f}",
                "n/a" if fused is None else f"{t['foreach'] / fused:.1f}×",
                bw(t["zoo"]),
                "n/a" if fused is None else bw(fused),
                f"{apart:.0e}",
            ]
        )
        del opts, steps
    print_table(
        [
            "optimizer",
            "zoo ms",
            "loop ms",
            "foreach ms",
            "fused ms",
            "zoo/foreach",
            "≤1.1?",
            "zoo/loop",
            "fused speed-up",
            "zoo GB/s (% copy)",
            "fused GB/s (% copy)",
            "zoo−loop (rel)",
        ],
        rows,
        align_right=True,
    )
    return rows, misses


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M parameters only, few samples")
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: CUDA is not available", file=sys.stderr)
        return 2
    cfg = QUICK if args.quick else FULL
    devices = [torch.device("cpu")] if args.device in ("cpu", "all") else []
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    print(
        "Optimizer step: solutions.optim (zoo) vs torch.optim (loop = foreach=False, foreach, fused)"
    )
    for line in header(devices, args.quick):
        print(line)
    start, meter = time.perf_counter(), CpuMeter()
    misses = []
    for device in devices:
        for n in cfg.sizes:
            misses += run_size(n, device, cfg)[1]
    share = meter.others_share()
    print(
        f"\nother processes used {'?' if share is None else f'{share:.0%}'} of the CPUs during the "
        f"run ({time.perf_counter() - start:.0f} s)"
        + ("  <- BUSY: CPU timings are noisy, run again later" if share and share > 0.1 else "")
    )
    n_rows = len(devices) * len(cfg.sizes) * len(OPTIMIZERS)
    print(f"{n_rows - len(misses)} of {n_rows} targets met (zoo ≤ {TARGET}× torch.optim foreach)")
    for miss in misses:
        print(f"  MISS {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
