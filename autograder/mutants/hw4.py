"""Plausible wrong answers to homework 4, task by task: every one must fail its task's check.

The ``gradcheck`` mutants differ from the reference only in the comparison (``_compare``): they reuse
the reference's numerical gradient and report classes, as a student's would reuse the earlier tasks and
the provided code.
"""

from __future__ import annotations

import numpy as np
import torch

from solutions import gradcheck as ref

__all__ = ["MUTANTS"]


# --- numerical_gradient ----------------------------------------------------------------------------


def _value(v) -> float:
    return float(v)


def _central(f, x, eps, *, denominator=2.0, dtype=torch.float64, sign=1.0):
    """A central difference that writes back the saved original (the reference's bookkeeping)."""
    grad = torch.zeros(x.numel(), dtype=dtype)
    flat = x.view(-1)
    for i in range(x.numel()):
        original = float(flat[i])
        try:
            flat[i] = original + eps
            f_plus = _value(f(x))
            flat[i] = original - eps
            f_minus = _value(f(x))
        finally:
            flat[i] = original
        grad[i] = sign * (f_plus - f_minus) / (denominator * eps)
    return grad.to(x.dtype).reshape(x.shape)


def ng_one_sided(f, x, eps=1e-6):
    grad = torch.zeros_like(x).view(-1)
    flat = x.view(-1)
    f0 = _value(f(x))
    for i in range(x.numel()):
        original = float(flat[i])
        try:
            flat[i] = original + eps
            grad[i] = (_value(f(x)) - f0) / eps
        finally:
            flat[i] = original
    return grad.reshape(x.shape)


def ng_not_halved(f, x, eps=1e-6):
    return _central(f, x, eps, denominator=1.0)


def ng_float32(f, x, eps=1e-6):
    return _central(f, x, eps, dtype=torch.float32)


def ng_sign(f, x, eps=1e-6):
    return _central(f, x, eps, sign=-1.0)


def ng_not_restored(f, x, eps=1e-6):
    grad = torch.zeros_like(x).view(-1)
    flat = x.view(-1)
    for i in range(x.numel()):
        original = float(flat[i])
        flat[i] = original + eps
        f_plus = _value(f(x))
        flat[i] = original - eps
        f_minus = _value(f(x))
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape)


def ng_restored_by_adding_back(f, x, eps=1e-6):
    grad = torch.zeros_like(x).view(-1)
    flat = x.view(-1)
    for i in range(x.numel()):
        flat[i] += eps
        f_plus = _value(f(x))
        flat[i] -= 2 * eps
        f_minus = _value(f(x))
        flat[i] += eps  # drifts: x + ε − 2ε + ε is not always x
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape)


def ng_no_finally(f, x, eps=1e-6):
    grad = torch.zeros_like(x).view(-1)
    flat = x.view(-1)
    for i in range(x.numel()):
        original = float(flat[i])
        flat[i] = original + eps
        f_plus = _value(f(x))
        flat[i] = original - eps
        f_minus = _value(f(x))
        flat[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape)


def ng_perturbs_a_copy(f, x, eps=1e-6):
    grad = torch.zeros_like(x).view(-1)
    for i in range(x.numel()):
        step = torch.zeros_like(x).view(-1)
        step[i] = eps
        step = step.reshape(x.shape)
        grad[i] = (_value(f(x + step)) - _value(f(x - step))) / (2 * eps)
    return grad.reshape(x.shape)


def ng_flat(f, x, eps=1e-6):
    return ref.numerical_gradient(f, x, eps).reshape(-1)


# --- relative_error --------------------------------------------------------------------------------


def _pair(a, b):
    return torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)


def re_max_no_tiny(a, b):
    a, b = _pair(a, b)
    return float(((a - b).abs() / torch.maximum(a.abs(), b.abs())).max())


def re_sum_no_tiny(a, b):
    a, b = _pair(a, b)
    return float(((a - b).abs() / (a.abs() + b.abs())).max())


def re_asymmetric(a, b):
    a, b = _pair(a, b)
    return float(((a - b).abs() / a.abs().clamp(min=torch.finfo(torch.float64).tiny)).max())


def re_mean(a, b):
    a, b = _pair(a, b)
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-300)).mean())


def re_norms(a, b):
    a, b = _pair(a, b)
    return float((a - b).norm() / (a.norm() + b.norm()).clamp(min=1e-300))


def re_float32(a, b):
    a, b = (t.float() for t in _pair(a, b))
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-38)).max())


def re_signed(a, b):
    a, b = _pair(a, b)
    return float(((a - b) / (a.abs() + b.abs()).clamp(min=1e-300)).max())


# --- gradcheck -------------------------------------------------------------------------------------


def _compare_with(name, analytic, numeric, atol, rtol, *, rule="both", worst="ratio"):
    """The reference's comparison of one input, with the pass rule or the worst element changed."""
    numeric = numeric.detach().to(torch.float64)
    shape = tuple(numeric.shape)
    analytic = torch.as_tensor(analytic).detach().to(torch.float64)
    if tuple(analytic.shape) != shape:
        return ref.InputCheck(name, shape, False, float("inf"), 1.0, None)
    diff = (analytic - numeric).abs()
    allowed = {"both": atol + rtol * numeric.abs(), "atol": torch.full_like(diff, atol)}.get(
        rule, rtol * numeric.abs()
    )
    ok = diff <= allowed
    if worst == "ratio":
        flat = int(torch.nan_to_num(diff / allowed, nan=float("inf")).flatten().argmax())
    elif worst == "abs":
        flat = int(diff.flatten().argmax())
    else:  # the first failing element
        failing = (~ok).flatten().nonzero()
        flat = int(failing[0]) if len(failing) else 0
    index = tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
    report = ref.ElementReport(index, float(analytic[index]), float(numeric[index]))
    return ref.InputCheck(
        name,
        shape,
        bool(ok.all()),
        float(diff.max()),
        ref.relative_error(analytic, numeric),
        report,
    )


def _gradcheck_with(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3, **how):
    named_inputs = ref._named(inputs, "inputs")
    named_grads = ref._named(grads, "grads")
    is_dict = isinstance(inputs, dict)

    def evaluate(_=None):
        return f(**named_inputs) if is_dict else f(*named_inputs.values())

    checks = tuple(
        _compare_with(
            name, named_grads[name], ref.numerical_gradient(evaluate, x, eps), atol, rtol, **how
        )
        for name, x in named_inputs.items()
    )
    return ref.GradcheckResult(checks, eps, atol, rtol)


def gc_only_atol(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, rule="atol")


def gc_only_rtol(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, rule="rtol")


def gc_first_failure(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, worst="first")


def gc_largest_difference(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, worst="abs")


def gc_relative_error_threshold(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Passes an input when its symmetric relative error is below rtol: fails near-zero elements."""
    result = _gradcheck_with(f, inputs, grads, eps, atol, rtol)
    checks = tuple(
        ref.InputCheck(
            c.name, c.shape, c.relative_error < rtol, c.max_abs_error, c.relative_error, c.worst
        )
        for c in result.checks
    )
    return ref.GradcheckResult(checks, eps, atol, rtol)


def gc_reshapes_gradients(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Reshapes each gradient to its input's shape instead of failing a wrong shape."""
    named_grads = ref._named(grads, "grads")
    named_inputs = ref._named(inputs, "inputs")
    is_dict = isinstance(inputs, dict)

    def evaluate(_=None):
        return f(**named_inputs) if is_dict else f(*named_inputs.values())

    checks = tuple(
        _compare_with(
            name,
            torch.as_tensor(named_grads[name]).reshape(x.shape),
            ref.numerical_gradient(evaluate, x, eps),
            atol,
            rtol,
        )
        for name, x in named_inputs.items()
    )
    return ref.GradcheckResult(checks, eps, atol, rtol)


def gc_first_input_only(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    result = _gradcheck_with(f, inputs, grads, eps, atol, rtol)
    first = result.checks[0]
    rest = tuple(
        ref.InputCheck(c.name, c.shape, True, 0.0, 0.0, c.worst) for c in result.checks[1:]
    )
    return ref.GradcheckResult((first, *rest), eps, atol, rtol)


MUTANTS = {
    "numerical_gradient": [
        ng_one_sided,
        ng_not_halved,
        ng_float32,
        ng_sign,
        ng_not_restored,
        ng_restored_by_adding_back,
        ng_no_finally,
        ng_perturbs_a_copy,
        ng_flat,
    ],
    "relative_error": [
        re_max_no_tiny,
        re_sum_no_tiny,
        re_asymmetric,
        re_mean,
        re_norms,
        re_float32,
        re_signed,
    ],
    "gradcheck": [
        gc_only_atol,
        gc_only_rtol,
        gc_first_failure,
        gc_largest_difference,
        gc_relative_error_threshold,
        gc_reshapes_gradients,
        gc_first_input_only,
    ],
}
