"""Hidden checks of homework 4 (``assignments/hw4_gradient_checking``), against ``solutions``.

One :class:`~autograder.checks.Check` per graded task, in ``CHECKS``: its inputs and judge here, its
``apply`` in ``probes.py`` (what runs in the sandbox). A seed picks one of a few cases and
draws its random numbers, so the default seeds (``range(8)``; ``range(15)`` for ``gradcheck``) cover
every case and ``range(100)`` is the no-flakiness test.

Every argument is exercised with values other than its default, in cases where the default gives
another answer (an ε whose truncation error shows, an atol or rtol that flips a verdict); tolerances are
judged element by element; the return contracts are checked (the gradient's dtype follows x's, float32
included; relative_error returns a Python float computed in float64; gradcheck records its arguments,
names its inputs as ``_named`` does, gives each the input's shape, reports the worst element's values,
``None`` for a wrong shape, the provided ``_diagnose``'s words for a failure and none for a pass, and
warns on float32; a NaN fails);
and no analytic gradient given may come back changed. The correct variants that must pass are in
``variants.py``.

The functions of this homework take functions: ``numerical_gradient(f, x)`` and ``gradcheck(f, inputs,
grads)``. The scalar functions they receive are built by the probe from the plain input arrays (a fixed
quadratic plus tanh form, or ``Σ R ⊙ tanh(x W)``), so ``make_inputs`` and ``judge`` still exchange only
numpy arrays, and ``judge`` rebuilds the same function to run the reference on it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import torch

from autograder.checks import (
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

from .probes import (
    PROBES,
    dtype_of,
    eps_kwargs,
    gradcheck_call,
    gradcheck_kwargs,
    input_names,
    scalar_function,
)

__all__ = ["CHECKS", "run_check", "verdict"]

ref = reference("solutions.gradcheck")


def _rng(seed: int) -> np.random.Generator:
    return rng(4, seed)


# ---------------------------------------------------------------------------------------------------
# numerical_gradient: f(x) = ½ x·Qx + b·x + c Σ tanh(s x), x flattened
# ---------------------------------------------------------------------------------------------------

# (shape of x, eps or None for the default, f reads x by closure instead of its argument, what f
# returns, x's dtype). eps = 0.25 makes the central difference's truncation error visible, so that an eps
# hard-coded to its default gives another gradient; the float32 case is on a grid of 2⁻⁷ with ε = 2⁻⁷, so
# that x ± ε is exact however the nudge is written.
_NUMERICAL_CASES = [
    ((5,), 1e-3, False, "tensor", "float64"),
    ((3, 4), 1e-4, True, "float", "float64"),
    ((), 1e-3, False, "one-element", "float64"),
    ((2, 3, 2), 0.25, False, "tensor", "float64"),
    ((7,), None, True, "tensor", "float64"),
    ((1,), 1e-2, False, "float", "float64"),
    ((2, 4), 2.0**-7, True, "tensor", "float32"),
]

# the hidden tests' tolerance on the gradient, by x's dtype (stated in the notebook): element by element,
# |g − g_ref| ≤ rtol·|g_ref| + atol·(max|g_ref| + 1)
_NUMERICAL_TOLERANCE = {"float64": (1e-9, 1e-10), "float32": (1e-6, 1e-7)}
_ROUND_OFF = 1e-14  # plus 1e-14·|f|/ε: the round-off of f's values, magnified by 1/ε
_DEFAULT_EPS = 1e-6  # numerical_gradient's


def _numerical_inputs(seed: int) -> dict[str, np.ndarray]:
    shape, eps, closure, returns, dtype = case(seed, _NUMERICAL_CASES)
    generator = _rng(seed)
    n = int(np.prod(shape))
    A = generator.standard_normal((n, n))
    if dtype == "float32":
        x = generator.integers(-256, 256, shape) / 128.0  # multiples of 2⁻⁷ in [−2, 2)
    else:
        x = generator.uniform(-2.0, 2.0, shape)
    inputs = {
        "x": np.asarray(x, dtype=np.float64),
        "Q": A + A.T,
        "b": generator.standard_normal(n),
        "c": np.array(generator.uniform(0.5, 2.0)),
        "s": np.array(generator.uniform(0.5, 1.5)),
        "closure": np.array(closure),
        "returns": text(returns),
        "raise_at": np.array(3 if n > 1 else 2),  # the call of f that raises: x is nudged then
    }
    if eps is not None:
        inputs["eps"] = np.array(eps)
    if dtype != "float64":
        inputs["dtype"] = text(dtype)
    return inputs


def _numerical_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    dtype = dtype_of(inputs)
    name = str(dtype).removeprefix("torch.")
    x = tensor(inputs["x"], dtype)
    if "error" in outputs:
        problem = raised(outputs)
        if str(inputs["returns"]) != "tensor":
            problem += (
                " (f may return a 0-d tensor, a one-element tensor or a float: use float(f(x)))"
            )
        return first_problem(problem)
    problem = expect_tensor(outputs, "result", x.shape, dtype=name)
    if problem is None and changed_in_place(inputs, outputs, "x", dtype=dtype):
        problem = (
            "x is not the same after the call: restore each element to its saved original value "
            "(x + ε − 2ε + ε is not always x in floating point)"
        )
    if problem is None and changed_in_place(inputs, outputs, "x", dtype=dtype, when="raised"):
        problem = "when f raises, x must still be restored (use try/finally)"
    if problem is None:
        problem = _gradient_problem(inputs, outputs, x, name)
    return first_problem(problem)


def _gradient_problem(inputs, outputs, x, name: str) -> str | None:
    """The gradient against the reference's, within the notebook's tolerance for x's dtype: relative,
    absolute (a fraction of the largest element), and the round-off of any central difference, about
    u·|f|/ε, which differs with the way x is nudged (x + ε − 2ε is not always x − ε)."""
    rtol, atol = _NUMERICAL_TOLERANCE[name]
    v = np.abs(inputs["x"].reshape(-1))
    terms = (
        0.5 * v @ np.abs(inputs["Q"]) @ v
        + np.abs(inputs["b"]) @ v
        + abs(float(inputs["c"])) * v.size
    )
    eps = eps_kwargs(inputs).get("eps", _DEFAULT_EPS)
    round_off = _ROUND_OFF * max(float(terms), 1.0) / eps

    def against(**eps) -> str | None:
        expected = ref.numerical_gradient(scalar_function(inputs, x), x, **eps)
        expected = expected.to(torch.float64).numpy()
        scale = atol * (np.abs(expected).max(initial=0.0) + 1.0) + round_off
        return compare(outputs["result"], expected, "the gradient", rtol=rtol, atol=scale)

    problem = against(**eps_kwargs(inputs))
    if problem is None:
        return None
    if "eps" in inputs and against() is None:
        return problem + " (this is the gradient for the default ε: use the eps argument)"
    return problem + " (a central difference (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε, in float64?)"


# ---------------------------------------------------------------------------------------------------
# relative_error
# ---------------------------------------------------------------------------------------------------

# (shape, scale, special entries, dtype of a, dtype of b): float32 inputs are computed in float64, as
# the experiment compares a float32 gradient with a float64 one
_RELATIVE_CASES = [
    ((5,), 1.0, "zeros", "float64", "float64"),
    ((3, 4), 1.0, "opposite", "float64", "float64"),
    ((), 1.0, "", "float64", "float64"),
    ((50,), 1e-300, "zeros", "float64", "float64"),
    ((20,), 1e200, "", "float64", "float64"),
    ((4, 3), 1.0, "one zero", "float64", "float64"),
    ((6,), 1.0, "zeros", "float32", "float32"),
    ((3, 5), 1.0, "", "float32", "float64"),
]


def _relative_inputs(seed: int) -> dict[str, np.ndarray]:
    shape, scale, special, dtype_a, dtype_b = case(seed, _RELATIVE_CASES)
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
    inputs = {"a": scale * a.reshape(shape), "b": scale * b.reshape(shape)}
    for key, dtype in (("a", dtype_a), ("b", dtype_b)):
        if dtype != "float64":  # the numbers the tensors hold, exactly
            inputs[key] = inputs[key].astype(dtype).astype(np.float64)
            inputs[f"dtype.{key}"] = text(dtype)
    return inputs


_FLOATS = ("float", "float64")  # a Python float, or numpy's float64 (a subclass of float)


def _relative_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    if "error" in outputs:
        return first_problem(raised(outputs))
    kind = said(outputs, "result.type")
    if "result" not in outputs or kind not in _FLOATS:
        return first_problem(
            f"the result is {a_kind(kind)}, expected a Python float (convert with float(...))"
        )
    value = float(outputs["result"])
    dtype_a, dtype_b = dtype_of(inputs, "dtype.a"), dtype_of(inputs, "dtype.b")
    a, b = tensor(inputs["a"], dtype_a), tensor(inputs["b"], dtype_b)
    expected = ref.relative_error(a, b)
    problem = None
    if not np.isfinite(value):
        problem = f"the result is {value}"
        if np.any((inputs["a"] == 0) & (inputs["b"] == 0)):
            problem += " where a and b are both 0: 0/0 must count as 0 (clamp the denominator)"
    if problem is None and (
        changed_in_place(inputs, outputs, "a", dtype=dtype_a)
        or changed_in_place(inputs, outputs, "b", dtype=dtype_b)
    ):
        problem = "relative_error changed a or b in place"
    if problem is None:
        problem = compare(value, expected, "the relative error", rtol=1e-12, atol=1e-300)
        if problem is not None and torch.float32 in (dtype_a, dtype_b):
            problem += " (on float32 inputs: convert a and b to float64 first)"
    if problem is None and float(outputs.get("swapped", np.nan)) != value:
        problem = "relative_error(a, b) differs from relative_error(b, a): it must be symmetric"
    return first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# gradcheck: f(W, x) = Σ R ⊙ tanh(x W), analytic gradients correct or with a planted bug
# ---------------------------------------------------------------------------------------------------

# (n, i, o, how the inputs are passed, the planted bug, the arguments eps / atol / rtol given)
_GRADCHECK_CASES = [
    (4, 3, 2, "dict", "none", {}),
    (5, 3, 4, "dict", "factor 2", {}),
    (3, 4, 2, "list", "sign", {}),
    (4, 3, 3, "dict", "transposed", {}),
    (6, 4, 3, "dict", "three elements", {}),
    (5, 4, 3, "dict", "tolerances", {}),
    (3, 2, 4, "tensor", "none", {}),
    (4, 3, 2, "dict", "shape", {}),
    # each element has its own tolerance: one small element fails, though within the whole input's
    (5, 4, 3, "dict", "one small element", {}),
    # a large atol passes near-zero errors the default would fail
    (4, 3, 2, "list", "atol", {"atol": 1e-2}),
    # a large rtol passes x 1.3× too large, and fails W 1.8× too large in one element (the tolerance
    # scales with |numeric|, not |analytic|)
    (4, 3, 3, "dict", "rtol", {"rtol": 0.5}),
    # a tight rtol fails an element the default would pass (not so tight that a numerical gradient a
    # little off, one-sided say, fails correct elements: that costs numerical_gradient's points)
    (5, 3, 2, "dict", "tight", {"eps": 3e-6, "rtol": 1e-4}),
    # eps so large that the central difference of correct gradients is off by far more than rtol
    (4, 3, 2, "dict", "large eps", {"eps": 0.5}),
    # float32 inputs on a grid of 2⁻⁷, ε = 2⁻⁵ (exact nudges), loose tolerances: passes, and warns
    (3, 3, 2, "list", "float32", {"eps": 2.0**-5, "atol": 2e-2, "rtol": 2e-2}),
    # one element of the analytic gradient is NaN: it fails (a comparison with NaN is False, so a rule
    # written as "fail where diff > allowed" passes it)
    (4, 3, 2, "tensor", "nan", {}),
]

_DEFAULTS = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}  # gradcheck's
_ATOL, _RTOL = _DEFAULTS["atol"], _DEFAULTS["rtol"]


def _gradients(W: np.ndarray, x: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    G = R * (1.0 - np.tanh(x @ W) ** 2)
    return x.T @ G, G @ W.T


def _gradcheck_inputs(seed: int) -> dict[str, np.ndarray]:
    n, i, o, how, bug, arguments = case(seed, _GRADCHECK_CASES)
    generator = _rng(seed)
    W = generator.standard_normal((i, o))
    x = generator.standard_normal((n, i))
    R = generator.standard_normal((n, o))
    if bug == "float32":  # on a grid of 2⁻⁷, exact in float32
        W, x, R = (np.round(128 * v) / 128 for v in (W, x, R))
    if bug in ("tolerances", "atol"):
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
    elif bug == "one small element":
        # the smallest element off by 5× its own tolerance, far inside atol + rtol·max|n|
        k = int(np.argmin(np.abs(dW)))
        dW.flat[k] += 5 * (_ATOL + _RTOL * abs(dW.flat[k]))
    elif bug == "atol":
        dW[0, :] = 3e-3 * (1 + np.arange(o) / o)  # within atol = 1e-2 of the exact 0, not of 1e-5
    elif bug == "rtol":
        dx = 1.3 * dx  # within rtol = 0.5
        k = int(np.argmax(np.abs(dW)))
        dW.flat[k] *= 1.8  # |a − n| = 0.8|n| > 0.5|n|, though < 0.5|a|
    elif bug == "tight":
        k = int(np.argmax(np.abs(dW)))
        dW.flat[k] *= 1 + 5e-4  # within the default rtol = 1e-3, outside rtol = 1e-4
    elif bug == "nan":
        dW = dW.copy()
        dW.flat[int(generator.integers(dW.size))] = np.nan
    inputs = {"W": W, "x": x, "R": R, "dW": dW, "dx": dx, "how": text(how), "bug": text(bug)}
    inputs |= {key: np.array(value) for key, value in arguments.items()}
    if bug == "float32":
        inputs["dtype"] = text("float32")
    return inputs


_BUGS = {
    "factor 2": "gradients of W that are twice the true ones",
    "sign": "gradients of x with the wrong sign",
    "transposed": "a transposed gradient of a square W",
    "three elements": "gradients of W with three wrong elements",
    "shape": "a gradient of W of the wrong shape",
    "one small element": "a gradient of W with one wrong element",
    "rtol": "a gradient of W with one element 1.8× too large",
    "tight": "a gradient of W with one element off by 5e-4 of itself",
    "large eps": "correct gradients with eps = 0.5",
    "nan": "a gradient of W with a NaN element",
}

# what the case tests, added to a wrong verdict's message
_HINTS = {
    "tolerances": " (an element passes when |analytic − numeric| ≤ atol + rtol·|numeric|)",
    "one small element": (
        " (each element has its own tolerance atol + rtol·|numericᵢ|: not one for the whole "
        "input, and atol and rtol each in its place)"
    ),
    "atol": " (is the atol argument used? here atol = 0.01)",
    "rtol": " (is the rtol argument used, times |numeric|, not |analytic|? here rtol = 0.5)",
    "tight": " (is the rtol argument used? here rtol = 0.0001)",
    "large eps": (
        " (is eps passed on to numerical_gradient? with eps = 0.5 its truncation error is far "
        "outside the tolerance)"
    ),
    "float32": " (here eps = 2⁻⁵, atol = rtol = 0.02)",
    "nan": (
        " (an element that is NaN fails: a comparison with NaN is False, so test that every element "
        "is within its tolerance, not that none is outside it)"
    ),
}


def _gradcheck_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    bug = str(inputs["bug"])
    if "error" in outputs:
        problem = raised(outputs)
        if bug == "shape":
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
    dtype = dtype_of(inputs)
    # the analytic gradients (the inputs are numerical_gradient's to restore, and graded there)
    given = ("dW",) if str(inputs["how"]) == "tensor" else ("dW", "dx")
    if _changed(inputs, outputs, *given, dtype=dtype):
        return first_problem(
            "gradcheck changed an analytic gradient it was given in place (work on a copy)"
        )
    if bool(outputs.get("warned", False)) != (dtype != torch.float64):
        if dtype != torch.float64:
            return first_problem(
                "no PrecisionWarning on float32 inputs: call the provided _precision_warnings"
            )
        return first_problem("a PrecisionWarning on float64 inputs")
    if "result.n_warnings" not in outputs or (int(outputs["result.n_warnings"]) > 0) != (
        dtype != torch.float64
    ):
        return first_problem(
            "the result's warnings must be what _precision_warnings returned (its message for "
            "float32 inputs, () for float64)"
        )
    arguments = _DEFAULTS | gradcheck_kwargs(inputs)
    for key, value in arguments.items():
        if f"result.{key}" not in outputs or float(outputs[f"result.{key}"]) != value:
            return first_problem(
                f"the result's {key} is not the {key} gradcheck was called with "
                f"(GradcheckResult(checks, eps, atol, rtol, ...))"
            )
    with np.errstate(all="ignore"):
        expected, _ = gradcheck_call(ref.gradcheck, inputs)
    hint = _HINTS.get(bug, "")
    if bool(outputs["passed"]) != expected.passed:
        if expected.passed:
            return first_problem(f"the check failed correct gradients{hint}")
        return first_problem(f"the check passed {_BUGS[bug]}{hint}")
    for name, check in zip(names, expected.checks, strict=True):
        problem = _input_problem(inputs, outputs, name, check, hint)
        if problem is not None:
            return first_problem(f"input {name}: {problem}")
    return first_problem()


def _changed(inputs, outputs, *names: str, dtype: torch.dtype) -> bool:
    """Whether the probe saw one of the input tensors ``names`` changed in place (as
    :func:`~autograder.checks.changed_in_place`, with a NaN the same as a NaN: the NaN case's
    gradient holds one)."""
    for name in names:
        now = outputs.get(f"after.{name}")
        before = tensor(inputs[name], dtype).to(torch.float64).numpy()
        if now is None or not np.array_equal(before, now, equal_nan=True):
            return True
    return False


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _same_diagnosis(got: str | None, expected: str) -> bool:
    """Whether ``got`` is the text ``expected``, its printed numbers (a factor) to 1 %: computed from
    the student's own numerical gradient, a factor of 2 may print as 1.999."""
    if got is None or _NUMBER.sub("#", got) != _NUMBER.sub("#", expected):
        return False
    pairs = zip(_NUMBER.findall(got), _NUMBER.findall(expected), strict=True)
    return all(math.isclose(float(a), float(b), rel_tol=1e-2) for a, b in pairs)


def _says_shape(diagnosis: str | None, shape: tuple[int, ...]) -> bool:
    """Whether ``diagnosis`` names ``shape``: its sizes in order, as (3, 2), [3, 2] or 3×2."""
    if not diagnosis:
        return False
    sizes = r"\s*(?:,|x|×|\*|by)\s*".join(str(size) for size in shape)
    return re.search(rf"(?<![\d.]){sizes}(?![\d.])", diagnosis) is not None


def _input_problem(inputs, outputs, name: str, check, hint: str) -> str | None:
    """What is wrong with the student's InputCheck of ``name`` against the reference's ``check``."""
    if bool(outputs[f"passed.{name}"]) != check.passed:
        got = "passed" if outputs[f"passed.{name}"] else "failed"
        return f"{got}, expected {'pass' if check.passed else 'fail'}{hint}"
    if said(outputs, f"name.{name}") != check.name:
        if str(inputs["how"]) == "dict":
            return "the InputCheck's name is not the input's name (its key in the dict)"
        return (
            f'the InputCheck\'s name is not "{check.name}", the name _named gives this input (the '
            'inputs of a list or a single tensor are "input 0", "input 1", …)'
        )
    shape = tuple(int(size) for size in inputs[name].shape)
    wrong_shape = tuple(inputs[f"d{name}"].shape) != shape
    reported = outputs.get(f"shape.{name}")
    if reported is None or reported.ndim != 1 or reported.dtype.kind not in "iu":
        return f"the InputCheck's shape is not a tuple of ints: expected {shape}, the input's shape"
    got_shape = tuple(int(size) for size in reported)
    if got_shape != shape:
        problem = f"the InputCheck's shape is {got_shape}, expected {shape}, the input's shape"
        if wrong_shape:
            problem += " (the numerical gradient's, not the analytic gradient's)"
        return problem
    diagnosis = str(outputs[f"diagnosis.{name}"]) if f"diagnosis.{name}" in outputs else None
    if check.passed:
        if diagnosis != "":
            return (
                'the diagnosis of an input that passes is not "": leave it empty (use _diagnose '
                "only for a failure)"
            )
    elif wrong_shape:
        if not _says_shape(diagnosis, shape):
            return (
                f"the diagnosis of a gradient of the wrong shape does not name the expected shape "
                f"{shape}: say both shapes"
            )
    elif float(inputs.get("eps", _DEFAULTS["eps"])) <= 1e-3 and not _same_diagnosis(
        diagnosis, check.diagnosis
    ):
        # with a large ε the guess depends on the numerical gradient's truncation error
        return (
            "the diagnosis is not what the provided _diagnose(analytic, numeric) says of this "
            "failure (call it with the analytic and the numerical gradient, in float64)"
        )
    if float(inputs.get("eps", _DEFAULTS["eps"])) > 1e-3:
        # with a large ε the report's numbers are mostly truncation error: numerical_gradient's to
        # get right, and graded there
        return None
    if np.isnan(inputs[f"d{name}"]).any():
        # the notebook defines the worst element and the largest difference for numbers, not NaN
        return None
    if check.worst is None:
        if f"worst.{name}" in outputs:
            return "a gradient of the wrong shape has no worst element: give worst=None"
        return None
    # the report's numbers, loosely (as the notebook states): a numerical gradient that is a little off
    # (one-sided, x not restored) costs numerical_gradient's points, not these
    tolerance = 1e-4 * (np.abs(inputs[f"d{name}"]).max(initial=0.0) + 1.0)
    if not check.passed:
        got = tuple(int(i) for i in outputs.get(f"worst.{name}", np.array([-1])))
        if got != check.worst.index:
            return (
                f"the worst element reported is {got}, expected the element furthest outside its "
                "tolerance (the largest |a − n| / (atol + rtol·|n|))"
            )
        analytic = outputs.get(f"worst.analytic.{name}", np.nan)
        numeric_at = outputs.get(f"worst.numeric.{name}", np.nan)
        if compare(analytic, check.worst.analytic, "", rtol=1e-12) is not None or compare(
            numeric_at, check.worst.numeric, "", rtol=1e-2, atol=tolerance
        ):
            return (
                "the worst element's analytic and numeric values are not the two gradients' "
                "values at its index (ElementReport(index, analytic, numeric))"
            )
    got = outputs.get(f"max_abs_error.{name}", np.nan)
    if compare(got, check.max_abs_error, "", rtol=1e-2, atol=tolerance) is not None:
        return "max_abs_error is not the largest |analytic − numeric| of its elements"
    return None


# ---------------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------------


def _check(name: str, make_inputs: Callable, judge: Callable) -> Check:
    """The task ``name``: its inputs and judge are here, its apply in ``probes.py``."""
    return Check(name, make_inputs, PROBES[name], judge)


CHECKS = Catalogue(
    [
        _check("numerical_gradient", _numerical_inputs, _numerical_judge),
        _check("relative_error", _relative_inputs, _relative_judge),
        Check(
            "gradcheck",
            _gradcheck_inputs,
            PROBES["gradcheck"],
            _gradcheck_judge,
            seeds=tuple(range(len(_GRADCHECK_CASES))),
        ),
    ]
)
verdict = CHECKS.verdict
run_check = CHECKS.run_check
