"""Hidden checks of homework 4 (``assignments/hw4_gradient_checking``), against ``solutions``.

One :class:`~autograder.checks.Check` per graded task, in ``CHECKS``: its inputs and judge here, its
``apply`` in ``autograder.probes.hw4`` (what runs in the sandbox). A seed picks one of a few cases and
draws its random numbers, so ``range(8)`` covers every case and ``range(100)`` is the no-flakiness test.

The functions of this homework take functions: ``numerical_gradient(f, x)`` and ``gradcheck(f, inputs,
grads)``. The scalar functions they receive are built by the probe from the plain input arrays (a fixed
quadratic plus tanh form, or ``Σ R ⊙ tanh(x W)``), so ``make_inputs`` and ``judge`` still exchange only
numpy arrays, and ``judge`` rebuilds the same function to run the reference on it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..probes.hw4 import PROBES, eps_kwargs, gradcheck_call, input_names, scalar_function
from . import (
    Catalogue,
    Check,
    Verdict,
    a_kind,
    case,
    changed_in_place,
    compare,
    expect_tensor,
    first_problem,
    raised,
    reference,
    rng,
    said,
    tensor,
    text,
)

__all__ = ["CHECKS", "run_check", "verdict"]

ref = reference("solutions.gradcheck")


def _rng(seed: int) -> np.random.Generator:
    return rng(4, seed)


# ---------------------------------------------------------------------------------------------------
# numerical_gradient: f(x) = ½ x·Qx + b·x + c Σ tanh(s x), x flattened
# ---------------------------------------------------------------------------------------------------

# (shape of x, eps or None for the default, f reads x by closure instead of its argument)
_NUMERICAL_CASES = [
    ((5,), 1e-3, False),
    ((3, 4), 1e-4, True),
    ((), 1e-3, False),
    ((2, 3, 2), 1e-3, False),
    ((7,), None, True),
    ((1,), 1e-2, False),
]


def _numerical_inputs(seed: int) -> dict[str, np.ndarray]:
    shape, eps, closure = case(seed, _NUMERICAL_CASES)
    generator = _rng(seed)
    n = int(np.prod(shape))
    A = generator.standard_normal((n, n))
    inputs = {
        "x": generator.uniform(-2.0, 2.0, shape),
        "Q": A + A.T,
        "b": generator.standard_normal(n),
        "c": np.array(generator.uniform(0.5, 2.0)),
        "s": np.array(generator.uniform(0.5, 1.5)),
        "closure": np.array(closure),
        "raise_at": np.array(3 if n > 1 else 2),  # the call of f that raises: x is nudged then
    }
    if eps is not None:
        inputs["eps"] = np.array(eps)
    return inputs


def _numerical_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    x = tensor(inputs["x"])
    problem = expect_tensor(outputs, "result", x.shape)
    if problem is None and changed_in_place(inputs, outputs, "x"):
        problem = (
            "x is not the same after the call: restore each element to its saved original value "
            "(x + ε − 2ε + ε is not always x in floating point)"
        )
    if problem is None and changed_in_place(inputs, outputs, "x", when="raised"):
        problem = "when f raises, x must still be restored (use try/finally)"
    if problem is None:
        expected = ref.numerical_gradient(
            scalar_function(inputs, x), x, **eps_kwargs(inputs)
        ).numpy()
        problem = compare(
            outputs["result"],
            expected,
            "the gradient",
            rtol=1e-9,
            atol=1e-10 * (np.abs(expected).max() + 1.0),
        )
        if problem is not None:
            problem += " (a central difference (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε, in float64?)"
    return first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# relative_error
# ---------------------------------------------------------------------------------------------------

# (shape, scale, special entries)
_RELATIVE_CASES = [
    ((5,), 1.0, "zeros"),
    ((3, 4), 1.0, "opposite"),
    ((), 1.0, ""),
    ((50,), 1e-300, "zeros"),
    ((20,), 1e200, ""),
    ((4, 3), 1.0, "one zero"),
]


def _relative_inputs(seed: int) -> dict[str, np.ndarray]:
    shape, scale, special = case(seed, _RELATIVE_CASES)
    generator = _rng(seed)
    a = generator.standard_normal(shape)
    b = a * (1 + 10.0 ** generator.uniform(-8, -1, shape) * generator.choice([-1, 1], shape))
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    if special == "zeros":  # pairs of exact zeros: 0/0 must count as 0
        a[:2] = b[:2] = 0.0
    elif special == "opposite":
        b.flat[3] = -a.flat[3]
    elif special == "one zero":
        b.flat[5] = 0.0
    return {"a": scale * a.reshape(shape), "b": scale * b.reshape(shape)}


def _relative_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    if "error" in outputs:
        return first_problem(raised(outputs))
    if "result" not in outputs:
        return first_problem(
            f"the result is {a_kind(said(outputs, 'result.type'))}, expected a float"
        )
    value = float(outputs["result"])
    expected = ref.relative_error(tensor(inputs["a"]), tensor(inputs["b"]))
    problem = None
    if not np.isfinite(value):
        problem = f"the result is {value}"
        if np.any((inputs["a"] == 0) & (inputs["b"] == 0)):
            problem += " where a and b are both 0: 0/0 must count as 0 (clamp the denominator)"
    if problem is None and changed_in_place(inputs, outputs, "a", "b"):
        problem = "relative_error changed a or b in place"
    if problem is None:
        problem = compare(value, expected, "the relative error", rtol=1e-12, atol=1e-300)
    if problem is None and float(outputs.get("swapped", np.nan)) != value:
        problem = "relative_error(a, b) differs from relative_error(b, a): it must be symmetric"
    return first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# gradcheck: f(W, x) = Σ R ⊙ tanh(x W), analytic gradients correct or with a planted bug
# ---------------------------------------------------------------------------------------------------

# (n, i, o, how the inputs are passed, the planted bug)
_GRADCHECK_CASES = [
    (4, 3, 2, "dict", "none"),
    (5, 3, 4, "dict", "factor 2"),
    (3, 4, 2, "list", "sign"),
    (4, 3, 3, "dict", "transposed"),
    (6, 4, 3, "dict", "three elements"),
    (5, 4, 3, "dict", "tolerances"),
    (3, 2, 4, "tensor", "none"),
    (4, 3, 2, "dict", "shape"),
]

_ATOL, _RTOL = 1e-5, 1e-3  # gradcheck's defaults


def _gradients(W: np.ndarray, x: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    G = R * (1.0 - np.tanh(x @ W) ** 2)
    return x.T @ G, G @ W.T


def _gradcheck_inputs(seed: int) -> dict[str, np.ndarray]:
    n, i, o, how, bug = case(seed, _GRADCHECK_CASES)
    generator = _rng(seed)
    W = generator.standard_normal((i, o))
    x = generator.standard_normal((n, i))
    R = generator.standard_normal((n, o))
    if bug == "tolerances":
        x[:, 0] = 0.0  # f does not depend on W[0, :]: its numerical gradient is exactly 0
    dW, dx = _gradients(W, x, R)
    if bug == "factor 2":
        dW = 2.0 * dW
    elif bug == "sign":
        dx = -dx
    elif bug == "transposed":
        dW = dW.T.copy()
    elif bug == "shape":
        dW = dW.reshape(-1)  # the right numbers in the wrong shape: (i·o,) for (i, o)
    elif bug == "three elements":
        # r (first) fails by 2× its tolerance, p by 10×, q (later than r) by 20×, yet p has the larger
        # absolute error: the worst element is q, not the first failure and not the largest difference
        flat = np.abs(dW).reshape(-1)
        q = 2 + int(np.argmin(flat[2:]))
        p = int(np.argmax(np.where(np.arange(flat.size) == q, -1.0, flat)))
        r = min(set(range(3)) - {p, q})
        dW = dW.copy()
        for k, times in ((r, 2), (p, 10), (q, 20)):
            dW.flat[k] += times * (_ATOL + _RTOL * flat[k])
    elif bug == "tolerances":
        dW = dW * (1 + 3e-4)  # within rtol, beyond atol where |∂f/∂W| > 0.03
        dW[0, :] = 3e-6  # within atol of the exact 0
    return {"W": W, "x": x, "R": R, "dW": dW, "dx": dx, "how": text(how), "bug": text(bug)}


_BUGS = {
    "factor 2": "gradients of W that are twice the true ones",
    "sign": "gradients of x with the wrong sign",
    "transposed": "a transposed gradient of a square W",
    "three elements": "gradients of W with three wrong elements",
    "shape": "a gradient of W of the wrong shape",
}


def _gradcheck_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    if "error" in outputs:
        problem = raised(outputs)
        if str(inputs["bug"]) == "shape":
            problem += f" on {_BUGS['shape']}: report a failure for that input instead"
        return first_problem(problem)
    if "result.type" in outputs:
        return first_problem(
            f"the result is {a_kind(said(outputs, 'result.type'))}, expected a GradcheckResult "
            "(with .passed and .checks, one InputCheck per input)"
        )
    names = input_names(inputs)
    if "n_checks" in outputs:
        return first_problem(
            f"the result has {int(outputs['n_checks'])} checks for {len(names)} inputs"
        )
    with np.errstate(all="ignore"):
        expected, _ = gradcheck_call(ref.gradcheck, inputs)
    bug = str(inputs["bug"])
    if bool(outputs["passed"]) != expected.passed:
        if expected.passed:
            what = "correct gradients"
            if bug == "tolerances":
                what += " (an element passes when |analytic − numeric| ≤ atol + rtol·|numeric|)"
            return first_problem(f"the check failed {what}")
        return first_problem(f"the check passed {_BUGS[bug]}")
    for name, check in zip(names, expected.checks, strict=True):
        if bool(outputs[f"passed.{name}"]) != check.passed:
            return first_problem(
                f"input {name}: {'passed' if outputs[f'passed.{name}'] else 'failed'}, "
                f"expected {'pass' if check.passed else 'fail'}"
            )
        if not check.passed and check.worst is not None:
            got = tuple(int(i) for i in outputs.get(f"worst.{name}", np.array([-1])))
            if got != check.worst.index:
                return first_problem(
                    f"input {name}: the worst element reported is {got}, expected the element "
                    "furthest outside its tolerance (the largest |a − n| / (atol + rtol·|n|))"
                )
    return first_problem()


# ---------------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------------


def _check(name: str, make_inputs: Callable, judge: Callable) -> Check:
    """The task ``name``: its inputs and judge are here, its apply in ``autograder.probes.hw4``."""
    return Check(name, make_inputs, PROBES[name], judge)


CHECKS = Catalogue(
    [
        _check("numerical_gradient", _numerical_inputs, _numerical_judge),
        _check("relative_error", _relative_inputs, _relative_judge),
        _check("gradcheck", _gradcheck_inputs, _gradcheck_judge),
    ]
)
verdict = CHECKS.verdict
run_check = CHECKS.run_check
