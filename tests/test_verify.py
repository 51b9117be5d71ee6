"""`make demo` (solutions/verify.py) stays green, covers every homework, and a failing check turns it red."""

import contextlib
import io
import warnings

import pytest

from solutions import verify


def run_demo() -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a broken solution may diverge
        status = verify.main(["--device", "cpu"])
    return status, out.getvalue()


@pytest.fixture(scope="module")
def demo() -> tuple[int, str]:
    return run_demo()


def test_demo_passes_on_cpu(demo):
    status, out = demo
    assert status == 0, out
    assert "18 of 18 checks passed" in out and "FAIL" not in out


@pytest.mark.parametrize(
    "row", ["mse_gradient", "numerical_gradient", "MLP backward", "Rosenbrock"]
)
def test_demo_covers_every_homework(demo, row):
    assert row in demo[1]


def test_a_failing_check_fails_the_demo(monkeypatch):
    from solutions import linear_regression

    # the mini-batch gradient without its 1/n: SGD then overshoots and misses the closed form
    monkeypatch.setattr(linear_regression, "_mse_gradient", lambda X, y, w: 2 * (X.T @ (X @ w - y)))
    status, out = run_demo()
    assert status == 1
    assert "FAILED:" in out and "SGD 300 epochs" in out
