"""Correct answers to homework 4 written differently from the reference: every one must pass its check.

The ``gradcheck`` variants write ``_compare`` and ``gradcheck`` their own way and use the provided code
(``ElementReport``, ``InputCheck``, ``GradcheckResult``, ``_named``, ``_diagnose``,
``_precision_warnings``), as a student's would; some use a variant's numerical gradient or relative
error instead of the reference's, as a student's would use their own earlier tasks.
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from solutions import gradcheck as ref

__all__ = ["VARIANTS"]


# --- numerical_gradient ----------------------------------------------------------------------------


def ng_loop_ndindex(f, x, eps=1e-6):
    """A loop over ``np.ndindex``, tuple indexing of x, the gradient in a numpy float64 array."""
    grad = np.zeros(tuple(x.shape), dtype=np.float64)
    with torch.no_grad():
        for index in np.ndindex(*x.shape):
            original = x[index].item()
            try:
                x[index] = original + eps
                f_plus = float(f(x))
                x[index] = original - eps
                f_minus = float(f(x))
            finally:
                x[index] = original
            grad[index] = (f_plus - f_minus) / (2 * eps)
    return torch.from_numpy(grad).to(dtype=x.dtype, device=x.device)


def ng_restore_from_a_copy(f, x, eps=1e-6):
    """Nudges x in place with ``+=`` and ``-= 2ε``, and restores all of x from a saved copy."""
    saved = x.clone()
    flat = x.view(-1)
    grad = torch.empty(x.numel(), dtype=torch.float64)
    for i in range(x.numel()):
        try:
            flat[i] += eps
            f_plus = torch.as_tensor(f(x), dtype=torch.float64).reshape(())
            flat[i] -= 2 * eps
            f_minus = torch.as_tensor(f(x), dtype=torch.float64).reshape(())
        finally:
            x.copy_(saved)
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape).to(x.dtype)


def ng_list_of_values(f, x, eps=1e-6):
    """The saved element kept as a 0-d tensor, the values in a list, ½ (f₊ − f₋) / ε."""
    flat = x.view(-1)
    values = []
    for i in range(x.numel()):
        original = flat[i].clone()
        try:
            flat[i] = original.double() + eps
            f_plus = float(f(x))
            flat[i] = original.double() - eps
            f_minus = float(f(x))
        finally:
            flat[i] = original
        values.append(0.5 * (f_plus - f_minus) / eps)
    return torch.tensor(values, dtype=torch.float64).reshape(x.shape).to(x.dtype)


def ng_copy_in_nudged(f, x, eps=1e-6):
    """x + ε eᵢ written into x with ``copy_`` (x itself nudged, as f may read it by closure)."""
    saved = x.detach().clone()
    grad = torch.zeros(x.numel(), dtype=torch.float64)
    for i in range(x.numel()):
        step = torch.zeros(x.numel(), dtype=torch.float64)
        step[i] = eps
        step = step.reshape(x.shape)
        try:
            x.copy_(saved.double() + step)
            f_plus = float(f(x))
            x.copy_(saved.double() - step)
            f_minus = float(f(x))
        finally:
            x.copy_(saved)
        grad[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad.reshape(x.shape).to(x.dtype)


def ng_actual_step(f, x, eps=1e-6):
    """Divides by the step actually taken, x₊ − x₋ (2ε up to x's rounding: within the tolerance)."""
    flat = x.view(-1)
    grad = torch.zeros(x.numel(), dtype=torch.float64)
    for i in range(x.numel()):
        original = flat[i].item()
        try:
            flat[i] += eps
            x_plus, f_plus = flat[i].item(), float(f(x))
            flat[i] = original
            flat[i] -= eps
            x_minus, f_minus = flat[i].item(), float(f(x))
        finally:
            flat[i] = original
        grad[i] = (f_plus - f_minus) / (x_plus - x_minus)
    return grad.reshape(x.shape).to(x.dtype)


# --- relative_error --------------------------------------------------------------------------------

_TINY = torch.finfo(torch.float64).tiny


def re_maximum(a, b):
    """``torch.maximum`` with a tensor holding tiny."""
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    denominator = torch.maximum(a.abs() + b.abs(), torch.tensor(_TINY, dtype=torch.float64))
    return ((a - b).abs() / denominator).max().item()


def re_numpy(a, b):
    a = np.asarray(torch.as_tensor(a).detach().cpu(), dtype=np.float64)
    b = np.asarray(torch.as_tensor(b).detach().cpu(), dtype=np.float64)
    denominator = np.maximum(np.abs(a) + np.abs(b), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b) / denominator))


def re_loop(a, b):
    """Python floats, one element at a time."""
    worst = 0.0
    pairs = zip(
        torch.as_tensor(a).flatten().tolist(), torch.as_tensor(b).flatten().tolist(), strict=True
    )
    for x, y in pairs:
        worst = max(worst, abs(x - y) / max(abs(x) + abs(y), sys.float_info.min))
    return worst


def re_where(a, b):
    """0 where both are 0, by ``torch.where`` instead of a clamp."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    denominator = a.abs() + b.abs()
    ratio = torch.where(denominator > 0, (a - b).abs() / denominator, torch.zeros_like(a))
    return float(torch.max(ratio))


def re_nan_to_num(a, b):
    """0/0 computed as NaN, then turned into 0."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return float(torch.nan_to_num((a - b).abs() / (a.abs() + b.abs()), nan=0.0).max())


# --- gradcheck -------------------------------------------------------------------------------------


def _wrong_shape(name, analytic, shape) -> ref.InputCheck:
    note = f"the analytic gradient has shape {tuple(analytic.shape)}, expected {shape}"
    return ref.InputCheck(name, shape, False, float("inf"), 1.0, None, note)


def _compare_isclose(name, analytic, numeric, atol, rtol):
    """``torch.isclose(analytic, numeric)``: the same rule, |a − n| ≤ atol + rtol·|n|."""
    numeric = numeric.detach().double()
    analytic = torch.as_tensor(analytic).detach().double()
    shape = tuple(numeric.shape)
    if tuple(analytic.shape) != shape:
        return _wrong_shape(name, analytic, shape)
    ok = torch.isclose(analytic, numeric, rtol=rtol, atol=atol)
    diff = (analytic - numeric).abs()
    flat = int(torch.argmax(diff / (atol + rtol * numeric.abs())))
    index = tuple(int(i) for i in np.unravel_index(flat, shape))
    worst = ref.ElementReport(index, analytic[index].item(), numeric[index].item())
    passed = bool(ok.all())
    diagnosis = "" if passed else ref._diagnose(analytic, numeric)
    relative = re_maximum(analytic, numeric)
    return ref.InputCheck(name, shape, passed, diff.max().item(), relative, worst, diagnosis)


def _compare_loop(name, analytic, numeric, atol, rtol):
    """One element at a time; the worst kept with a strict ``>`` (the first of equals)."""
    numeric = numeric.detach().double()
    shape = tuple(numeric.shape)
    if tuple(torch.as_tensor(analytic).shape) != shape:
        return _wrong_shape(name, torch.as_tensor(analytic), shape)
    analytic = torch.as_tensor(analytic).detach().double()
    passed, max_abs, worst, worst_ratio = True, 0.0, None, -1.0
    for index in np.ndindex(*shape):
        a, n = analytic[index].item(), numeric[index].item()
        allowed = atol + rtol * abs(n)
        if not abs(a - n) <= allowed:  # NaN fails: a comparison with NaN is False
            passed = False
        max_abs = max(max_abs, abs(a - n))
        if abs(a - n) / allowed > worst_ratio:
            worst_ratio, worst = abs(a - n) / allowed, ref.ElementReport(index, a, n)
    diagnosis = "" if passed else ref._diagnose(analytic, numeric)
    relative = re_loop(analytic, numeric)
    return ref.InputCheck(name, shape, passed, max_abs, relative, worst, diagnosis)


def _compare_numpy(name, analytic, numeric, atol, rtol):
    """numpy inside, the difference on a copy made in place."""
    n = numeric.detach().double().numpy()
    if tuple(torch.as_tensor(analytic).shape) != n.shape:
        return _wrong_shape(name, torch.as_tensor(analytic), n.shape)
    a = torch.as_tensor(analytic).detach().double().numpy().copy()
    diff = np.abs(np.subtract(a, n, out=a))  # a now holds a − n: our copy, not the caller's
    a = torch.as_tensor(analytic).detach().double().numpy()
    allowed = atol + rtol * np.abs(n)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff / allowed)), n.shape))
    worst = ref.ElementReport(index, float(a[index]), float(n[index]))
    passed = bool(np.all(diff <= allowed))
    a_t, n_t = torch.from_numpy(a), torch.from_numpy(n)
    diagnosis = "" if passed else ref._diagnose(a_t, n_t)
    relative = re_numpy(a, n)
    return ref.InputCheck(name, n.shape, passed, float(diff.max()), relative, worst, diagnosis)


def _compare_allclose(name, analytic, numeric, atol, rtol):
    """``torch.allclose(analytic, numeric, rtol=rtol, atol=atol)`` for the verdict."""
    numeric = numeric.detach().to(torch.float64)
    analytic = torch.as_tensor(analytic).detach()
    shape = tuple(numeric.shape)
    if analytic.shape != numeric.shape:
        return _wrong_shape(name, analytic, shape)
    analytic = analytic.to(torch.float64)
    passed = torch.allclose(analytic, numeric, rtol=rtol, atol=atol)
    excess = (analytic - numeric).abs().div(numeric.abs().mul(rtol).add(atol))
    index = np.unravel_index(excess.reshape(-1).argmax().item(), shape)
    index = tuple(map(int, index))
    worst = ref.ElementReport(index, float(analytic[index]), float(numeric[index]))
    diagnosis = ref._diagnose(analytic, numeric) if not passed else ""
    max_abs = (analytic - numeric).abs().max().item()
    relative = re_nan_to_num(analytic, numeric)
    return ref.InputCheck(name, shape, passed, max_abs, relative, worst, diagnosis)


def _compare_sizes(name, analytic, numeric, atol, rtol):
    """Shapes as ``torch.Size`` (the report's and the wrong shape's note), a NaN failed through
    ``torch.isnan``, the pass rule on the excess over the tolerance."""
    numeric = numeric.detach().double()
    analytic = torch.as_tensor(analytic).detach()
    if analytic.shape != numeric.shape:
        note = f"expected a gradient of shape {numeric.shape}, got {analytic.shape}"
        return ref.InputCheck(name, numeric.shape, False, float("inf"), 1.0, None, note)
    analytic = analytic.double()
    diff = (analytic - numeric).abs()
    excess = diff - (atol + rtol * numeric.abs())
    passed = not bool(torch.isnan(diff).any()) and bool((excess <= 0).all())
    ratio = diff / (atol + rtol * numeric.abs())
    flat = int(torch.where(torch.isnan(ratio), torch.inf, ratio).flatten().argmax())
    index = tuple(int(i) for i in np.unravel_index(flat, tuple(numeric.shape)))
    worst = ref.ElementReport(index, float(analytic[index]), float(numeric[index]))
    diagnosis = ref._diagnose(analytic, numeric) if not passed else ""
    relative = re_where(analytic, numeric)
    return ref.InputCheck(
        name, numeric.shape, passed, float(diff.max()), relative, worst, diagnosis
    )


def _gradcheck_with(compare, numerical_gradient, f, inputs, grads, eps, atol, rtol):
    named_inputs = ref._named(inputs, "inputs")
    named_grads = ref._named(grads, "grads")
    notes = ref._precision_warnings(named_inputs)
    if isinstance(inputs, dict):

        def evaluate(_):
            return f(**named_inputs)
    else:

        def evaluate(_):
            return f(*named_inputs.values())

    checks = []
    for name, x in named_inputs.items():
        numeric = numerical_gradient(evaluate, x, eps)
        checks.append(compare(name, named_grads[name], numeric, atol, rtol))
    return ref.GradcheckResult(tuple(checks), eps, atol, rtol, notes)


def gc_isclose(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(
        _compare_isclose, ref.numerical_gradient, f, inputs, grads, eps, atol, rtol
    )


def gc_loops(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(_compare_loop, ng_loop_ndindex, f, inputs, grads, eps, atol, rtol)


def gc_numpy(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(
        _compare_numpy, ng_restore_from_a_copy, f, inputs, grads, eps, atol, rtol
    )


def gc_actual_step(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """The loops, with the numerical gradient that divides by the step actually taken."""
    return _gradcheck_with(_compare_loop, ng_actual_step, f, inputs, grads, eps, atol, rtol)


def gc_allclose(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(_compare_allclose, ng_list_of_values, f, inputs, grads, eps, atol, rtol)


def gc_sizes(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(_compare_sizes, ng_copy_in_nudged, f, inputs, grads, eps, atol, rtol)


def gc_keyword_calls(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Keyword arguments throughout, an explicit loop over a list of names."""
    named_inputs = ref._named(inputs, what="inputs")
    named_grads = ref._named(grads, what="grads")
    names = list(named_inputs)
    checks = []
    for name in names:
        if isinstance(inputs, dict):
            numeric = ref.numerical_gradient(
                lambda _: f(**named_inputs), named_inputs[name], eps=eps
            )
        else:
            numeric = ref.numerical_gradient(
                lambda _: f(*[named_inputs[k] for k in names]), named_inputs[name], eps=eps
            )
        checks.append(_compare_isclose(name, named_grads[name], numeric, atol=atol, rtol=rtol))
    notes = ref._precision_warnings(named_inputs=named_inputs)
    return ref.GradcheckResult(checks=tuple(checks), eps=eps, atol=atol, rtol=rtol, warnings=notes)


VARIANTS = {
    "numerical_gradient": [
        ng_loop_ndindex,
        ng_restore_from_a_copy,
        ng_list_of_values,
        ng_copy_in_nudged,
        ng_actual_step,
    ],
    "relative_error": [re_maximum, re_numpy, re_loop, re_where, re_nan_to_num],
    "gradcheck": [
        gc_isclose,
        gc_loops,
        gc_numpy,
        gc_keyword_calls,
        gc_actual_step,
        gc_allclose,
        gc_sizes,
    ],
}
