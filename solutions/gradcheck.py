"""Homework 4 reference: numerical gradients and gradient checking (lecture 2).

An analytic gradient (written by hand, as in homework 2) is checked against the central difference

    ∂f/∂xᵢ ≈ (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε,

whose truncation error is O(ε²) (the one-sided difference is only O(ε)). Rounding works the other way:
f is known only to about u·|f| (u the unit round-off of the dtype), and dividing by 2ε turns that into
an error of about u·|f|/ε. The total, ~ ε² + u/ε, is smallest near ε = u^(1/3): about 1e-5 in float64,
where the check is then good to ~1e-10. In float32 (u ≈ 6e-8) the best ε is ~4e-3 and the check is no
better than ~1e-5 relative — too coarse to tell a subtle bug from noise, and with ε = 1e-6 it is worse
than useless. That is why gradient checks run in float64.

The check costs two evaluations of f per element of x, so it is for small inputs and for tests, never
for training.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "ElementReport",
    "GradcheckResult",
    "InputCheck",
    "PrecisionWarning",
    "check_layer",
    "check_loss",
    "gradcheck",
    "numerical_gradient",
    "relative_error",
]


class PrecisionWarning(UserWarning):
    """A gradient check was asked to run in a precision too low to be meaningful."""


def _scalar(value, what: str = "f") -> float:
    """The float value of a function's output, which must be a single number."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"{what} must return a scalar, got a tensor of shape {tuple(value.shape)}"
            )
        return float(value.item())
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must return a scalar, got {type(value).__name__}") from None


def numerical_gradient(f: Callable[[Tensor], object], x: Tensor, eps: float = 1e-6) -> Tensor:
    """The central-difference gradient of a scalar function ``f`` at ``x``.

    ``grad[i] = (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε`` for every element i of x (any shape).

    f: called as ``f(x)`` with x itself, nudged in place one element at a time; returns a scalar
    (a 0-d or one-element tensor, or a float). f may also ignore its argument and read x by closure.
    x: floating tensor, any shape. It is restored bit for bit afterwards, even if f raises.
    Returns a tensor of x's shape, dtype and device. Gradients of x are not touched (runs in no_grad).
    """
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise ValueError(f"x must be a floating-point tensor, got {type(x).__name__}")
    if not (eps > 0):
        raise ValueError(f"eps must be positive, got {eps!r}")
    # On the CPU, elements are written through a numpy view of x's own memory: ~0.1 µs a write where
    # tensor indexing costs ~5 µs, and for a small f that bookkeeping is most of the check's time.
    # np.ndindex visits the elements in row-major order, the order of x.flatten().
    cpu = x.device.type == "cpu" and x.dtype != torch.bfloat16  # numpy has no bfloat16
    target = x.detach().numpy() if cpu else x.detach()
    originals = x.detach().flatten().tolist()  # exact Python floats, read in one go
    grad = np.empty(x.numel(), dtype=np.float64)
    with torch.no_grad():
        for k, (index, original) in enumerate(zip(np.ndindex(*x.shape), originals, strict=True)):
            try:
                target[index] = original + eps
                f_plus = _scalar(f(x))
                target[index] = original - eps
                f_minus = _scalar(f(x))
            finally:
                target[index] = original
            grad[k] = (f_plus - f_minus) / (2.0 * eps)
    return torch.as_tensor(grad.reshape(tuple(x.shape))).to(dtype=x.dtype, device=x.device)


def relative_error(a, b) -> float:
    """The largest elementwise relative error ``max_i |aᵢ − bᵢ| / max(|aᵢ| + |bᵢ|, tiny)``.

    - Symmetric: neither argument is taken as the truth (in a gradient check both are estimates).
    - Scale-free: multiplying both by c ≠ 0 leaves it unchanged, so one threshold serves a loss of 1e-3
      and one of 1e+3. It lies in [0, 1]; 1 means opposite signs, or one side zero and the other not.
    - ``tiny`` (the smallest positive float64) makes 0/0 = 0 where both are exactly zero.
    Rules of thumb for float64 checks: < 1e-7 fine; 1e-7..1e-4 look closer (a kink of ReLU near the
    point?); > 1e-4 almost surely a bug. Near-zero pairs can give a large relative error for a tiny
    absolute one, which is why :func:`gradcheck` also has an absolute tolerance.

    a, b: tensors (or arrays) of the same shape  ->  float.
    """
    a = torch.as_tensor(a).detach().to(dtype=torch.float64)
    b = torch.as_tensor(b).detach().to(dtype=torch.float64, device=a.device)
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.numel() == 0:
        return 0.0
    denominator = (a.abs() + b.abs()).clamp(min=torch.finfo(torch.float64).tiny)
    return float(((a - b).abs() / denominator).max())


# --------------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementReport:
    """One element of a gradient: where it is and both values."""

    index: tuple[int, ...]
    analytic: float
    numeric: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)


@dataclass(frozen=True)
class InputCheck:
    """The comparison for one input: does ``|analytic − numeric| ≤ atol + rtol·|numeric|`` hold?"""

    name: str
    shape: tuple[int, ...]
    passed: bool
    max_abs_error: float
    relative_error: float
    worst: ElementReport | None  # the element furthest outside (or closest to) the tolerance
    diagnosis: str = (
        ""  # a guess at the cause when it fails: a factor, a sign, a transpose, a shape
    )

    def __str__(self) -> str:
        status = "ok  " if self.passed else "FAIL"
        line = (
            f"{status} {self.name} {self.shape}: max |analytic − numeric| = {self.max_abs_error:.3g}, "
            f"relative error = {self.relative_error:.3g}"
        )
        if not self.passed and self.worst is not None:
            w = self.worst
            line += (
                f"\n     worst element {self.name}[{', '.join(map(str, w.index))}]: "
                f"analytic {w.analytic:.10g}, numeric {w.numeric:.10g}"
            )
        if self.diagnosis:
            line += f"\n     {self.diagnosis}"
        return line


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of :func:`gradcheck`: truthy when every input passes; ``str()`` gives the report."""

    checks: tuple[InputCheck, ...]
    eps: float
    atol: float
    rtol: float
    warnings: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failures(self) -> tuple[InputCheck, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def worst(self) -> InputCheck | None:
        """The failing input with the largest relative error (or the worst input when all pass)."""
        pool = self.failures or self.checks
        return max(pool, key=lambda c: c.relative_error, default=None)

    def __str__(self) -> str:
        verdict = (
            "passed" if self.passed else f"FAILED for {len(self.failures)} of {len(self.checks)}"
        )
        head = (
            f"gradient check {verdict} "
            f"(eps={self.eps:g}, pass if |analytic − numeric| ≤ {self.atol:g} + {self.rtol:g}·|numeric|)"
        )
        return "\n".join([head, *map(str, self.checks), *self.warnings])


def _diagnose(analytic: Tensor, numeric: Tensor) -> str:
    """A plain-words guess at what is wrong with a failing analytic gradient."""
    a, n = analytic.flatten(), numeric.flatten()
    if float(n.abs().max()) == 0.0:
        return (
            "the numerical gradient is zero: f does not depend on this input, or eps is too small"
        )
    if float(a.abs().max()) == 0.0:
        return "the analytic gradient is all zeros (never written, or overwritten?)"
    if analytic.ndim == 2 and analytic.shape[0] == analytic.shape[1] and analytic.shape[0] > 1:
        if relative_error(analytic.T, numeric) < 1e-4:
            return "the analytic gradient equals the numerical one transposed"
    factor = float(a @ n / (n @ n))
    if relative_error(a, factor * n) < 1e-4 and abs(factor - 1.0) > 1e-3:
        if abs(factor + 1.0) < 1e-3:
            return "the analytic gradient is minus the numerical one: a sign error"
        return (
            f"the analytic gradient is {factor:.4g}× the numerical one: a missing or extra factor"
        )
    return ""


def _compare(name: str, analytic, numeric: Tensor, atol: float, rtol: float) -> InputCheck:
    """Compare one analytic gradient with its numerical estimate, element by element, in float64."""
    numeric = numeric.detach().to(torch.float64)
    shape = tuple(numeric.shape)
    if not isinstance(analytic, Tensor):
        analytic = torch.as_tensor(np.asarray(analytic))
    if tuple(analytic.shape) != shape:
        transposed = len(shape) == 2 and tuple(analytic.shape) == shape[::-1]
        note = f"the analytic gradient has shape {tuple(analytic.shape)}, expected {shape}"
        note += " (transposed?)" if transposed else ""
        return InputCheck(name, shape, False, float("inf"), 1.0, None, note)
    analytic = analytic.detach().to(dtype=torch.float64, device=numeric.device)
    if analytic.numel() == 0:
        return InputCheck(name, shape, True, 0.0, 0.0, None)
    diff = (analytic - numeric).abs()
    allowed = atol + rtol * numeric.abs()
    passed = bool((diff <= allowed).all())  # NaN in either side fails here
    worst_flat = int(torch.nan_to_num(diff / allowed, nan=float("inf")).flatten().argmax())
    index = tuple(int(i) for i in np.unravel_index(worst_flat, shape)) if shape else ()
    worst = ElementReport(index, float(analytic[index]), float(numeric[index]))
    diagnosis = "" if passed else _diagnose(analytic, numeric)
    return InputCheck(
        name, shape, passed, float(diff.max()), relative_error(analytic, numeric), worst, diagnosis
    )


def _precision_warnings(named_inputs: Mapping[str, Tensor]) -> tuple[str, ...]:
    low = [f"{name} ({str(t.dtype).removeprefix('torch.')})" for name, t in named_inputs.items()]
    low = [
        text for text, t in zip(low, named_inputs.values(), strict=True) if t.dtype != torch.float64
    ]
    if not low:
        return ()
    message = (
        f"gradient check on {', '.join(low)}: use float64. A central difference loses about u·|f|/eps "
        "to rounding (u the unit round-off: 6e-8 in float32, 1e-16 in float64); with eps=1e-6 in float32 "
        "that is about 0.06·|f|, often larger than the gradient itself, and for |x| ≥ 32 the nudge "
        "x + 1e-6 rounds back to x. Call .double() on the inputs and parameters."
    )
    warnings.warn(message, PrecisionWarning, stacklevel=3)
    return (message,)


def _named(inputs, what: str) -> dict[str, object]:
    if isinstance(inputs, Mapping):
        return dict(inputs)
    if isinstance(inputs, (Tensor, np.ndarray)):
        return {"input 0": inputs}
    if isinstance(inputs, Sequence):
        return {f"input {i}": t for i, t in enumerate(inputs)}
    raise ValueError(f"{what} must be a tensor, a sequence of tensors or a dict of them")


def gradcheck(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3) -> GradcheckResult:
    """Check analytic gradients of a scalar function against central differences.

    f: called as ``f(*inputs)`` (or ``f(**inputs)`` for a dict), returns a scalar.
    inputs: a tensor, a sequence of tensors, or a dict ``{name: tensor}`` (names appear in the report).
    grads: the analytic gradients ``∂f/∂input``, in the same structure and shapes.
    An element passes when ``|analytic − numeric| ≤ atol + rtol·|numeric|`` (as ``torch.allclose``).

    Returns a :class:`GradcheckResult`: truthy when every element of every input passes; printing it
    shows, per input, the largest absolute and relative error and, on failure, the worst element
    (index, analytic and numeric value) with a guess at the bug (factor, sign, transpose, shape).
    Warns with :class:`PrecisionWarning` when an input is not float64 (see the module docstring).
    """
    named_inputs = _named(inputs, "inputs")
    named_grads = _named(grads, "grads")
    for name, t in named_inputs.items():
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got {type(t).__name__}")
    if list(named_grads) != list(named_inputs):
        raise ValueError(
            f"grads must match inputs one to one: got {len(named_grads)} gradients "
            f"for {len(named_inputs)} inputs"
        )
    notes = _precision_warnings(named_inputs)
    is_dict = isinstance(inputs, Mapping)

    def evaluate(_=None):
        return f(**named_inputs) if is_dict else f(*named_inputs.values())

    checks = []
    for name, x in named_inputs.items():
        numeric = numerical_gradient(evaluate, x, eps)
        checks.append(_compare(name, named_grads[name], numeric, atol, rtol))
    return GradcheckResult(tuple(checks), eps, atol, rtol, notes)


# --------------------------------------------------------------------------------------------------
# Helpers for homework 2's layers and losses
# --------------------------------------------------------------------------------------------------


def check_layer(layer, x: Tensor, *, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0) -> GradcheckResult:
    """Check a layer's hand-written ``backward`` against central differences.

    The layer follows homework 2's interface: ``forward(x) -> out``, ``backward(grad_output) ->
    grad_input``, and, if it has parameters, ``parameters()`` and ``gradients()`` (lists in the same
    order; the gradients of the last backward).

    The scalar checked is ``f = Σ out ⊙ R`` with R a fixed random tensor (seeded by ``seed``) of out's
    shape, so ``∂f/∂out = R``: every output element gets its own weight, and errors that a plain sum
    would cancel out (in a softmax, say) cannot hide. Both x and each parameter are checked.

    x: the layer's input, e.g. (batch, features), float64 recommended. Returns a :class:`GradcheckResult`
    with inputs named ``x`` and ``parameters[i]``.
    """
    out = layer.forward(x)
    generator = torch.Generator().manual_seed(seed)
    R = torch.randn(tuple(out.shape), generator=generator, dtype=torch.float64).to(out)
    grad_x = layer.backward(R.clone())
    params = list(layer.parameters()) if hasattr(layer, "parameters") else []
    param_grads = [g.clone() for g in layer.gradients()] if params else []
    if len(param_grads) != len(params):
        raise ValueError(
            f"layer.gradients() returned {len(param_grads)} tensors for {len(params)} parameters"
        )
    named_inputs = {"x": x, **{f"parameters[{i}]": p for i, p in enumerate(params)}}
    named_grads = {"x": grad_x, **{f"parameters[{i}]": g for i, g in enumerate(param_grads)}}
    notes = _precision_warnings(named_inputs)

    def f(_=None):
        return (layer.forward(x) * R).sum()

    checks = tuple(
        _compare(name, named_grads[name], numerical_gradient(f, t, eps), atol, rtol)
        for name, t in named_inputs.items()
    )
    return GradcheckResult(checks, eps, atol, rtol, notes)


def check_loss(loss, pred: Tensor, target, *, eps=1e-6, atol=1e-5, rtol=1e-3) -> GradcheckResult:
    """Check a loss's hand-written ``backward() -> ∂loss/∂pred`` against central differences.

    The loss follows homework 2's interface: ``forward(pred, target) -> scalar`` then ``backward()``.
    pred: e.g. (batch, classes) logits, float64 recommended; target is left alone.
    """
    loss.forward(pred, target)
    grad_pred = loss.backward()
    notes = _precision_warnings({"pred": pred})
    numeric = numerical_gradient(lambda p: loss.forward(p, target), pred, eps)
    return GradcheckResult(
        (_compare("pred", grad_pred, numeric, atol, rtol),), eps, atol, rtol, notes
    )
