"""The benchmark scripts still run: each one's --quick smoke mode on the CPU ends with its summary.

Only that they run and report is checked here; their figures are a report (benchmarks/README.md), and
speed targets do not belong in unit tests.
"""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("bench_*.py")))
def test_benchmark_quick_mode_runs(script):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "targets met" in done.stdout
    assert "cpu" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize("workers", ["two", "0,2"])
def test_bench_grading_names_a_bad_worker_list(workers):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_grading.py"), "--workers", workers],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "--workers" in done.stderr and "Traceback" not in done.stderr
