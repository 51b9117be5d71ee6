"""What the benchmark scripts share: the machine's description, its load, device sync, tables.

The scripts run as ``python benchmarks/bench_*.py``, so this folder is on ``sys.path`` and they import
this module as ``common``.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time

import torch


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued kernels (CUDA runs asynchronously); a no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def cpu_model() -> str:
    """The CPU's model name, from ``lscpu`` or ``/proc/cpuinfo``."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


class CpuMeter:
    """How much of the CPUs *other* processes used since this meter was made (Linux only).

    /proc/stat gives the busy time of all CPUs together; ``time.process_time()`` that of this
    process (all its threads). The difference is what other processes took from the benchmark: on a
    2-core machine a test suite running next to it makes every parallel BLAS call wait for a core.
    """

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        """(busy seconds of all CPUs, total seconds of all CPUs, CPU seconds of this process)."""
        try:
            with open("/proc/stat", encoding="ascii") as f:
                fields = [int(v) for v in f.readline().split()[1:9]]
            hz = os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None
        idle = fields[3] + fields[4]  # idle + iowait
        return (sum(fields) - idle) / hz, sum(fields) / hz, time.process_time()

    def others_share(self, probe_seconds: float = 0.0) -> float | None:
        """Fraction of all CPU time (0..1) used by other processes since the meter was made."""
        if probe_seconds:
            time.sleep(probe_seconds)
        end = self._sample()
        if self.start is None or end is None or end[1] <= self.start[1]:
            return None
        busy, total, own = (e - s for e, s in zip(end, self.start, strict=True))
        return min(max((busy - own) / total, 0.0), 1.0)


def print_table(
    headers: list[str], rows: list[list[str]], indent: str = "  ", align_right: bool = False
) -> None:
    """Print an aligned ``a | b | c`` table; ``align_right`` right-aligns every column but the first."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def show(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if align_right and i > 0 else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return (indent + " | ".join(padded)).rstrip()

    print(show(headers))
    print(indent + "-+-".join("-" * w for w in widths))
    for row in rows:
        print(show(row))
