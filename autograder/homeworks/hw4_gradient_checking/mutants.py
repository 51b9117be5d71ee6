"""Plausible wrong answers to homework 4, task by task: every one must fail its task's check.

The ``gradcheck`` mutants differ from the reference in the comparison (``_compare``: the pass rule,
the worst element, the shape, the diagnosis) or in one step of ``gradcheck`` (an argument hard-coded,
the arguments recorded, the warning, the names): they reuse the reference's numerical gradient, report
classes and ``_diagnose``, as a student's would reuse the earlier tasks and the provided code.
"""

from __future__ import annotations

import numpy as np
import torch

from solutions import gradcheck as ref

__all__ = ["MUTANTS"]


# --- numerical_gradient ----------------------------------------------------------------------------


def _value(v) -> float:
    return float(v)


def _central(f, x, eps, *, denominator=2.0, dtype=torch.float64, sign=1.0, cast=True, value=_value):
    """A central difference that writes back the saved original (the reference's bookkeeping)."""
    grad = torch.zeros(x.numel(), dtype=dtype)
    flat = x.view(-1)
    for i in range(x.numel()):
        original = float(flat[i])
        try:
            flat[i] = original + eps
            f_plus = value(f(x))
            flat[i] = original - eps
            f_minus = value(f(x))
        finally:
            flat[i] = original
        grad[i] = sign * (f_plus - f_minus) / (denominator * eps)
    return (grad.to(x.dtype) if cast else grad).reshape(x.shape)


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


def ng_ignores_eps(f, x, eps=1e-6):
    """Always steps by the default ε, whatever eps it is given."""
    return _central(f, x, 1e-6)


def ng_float64_result(f, x, eps=1e-6):
    """Returns the float64 accumulator, not a tensor of x's dtype."""
    return _central(f, x, eps, cast=False)


def ng_item(f, x, eps=1e-6):
    """Reads f's value with ``.item()``: breaks when f returns a Python float."""
    return _central(f, x, eps, value=lambda v: v.item())


def ng_nudges_a_float64_copy(f, x, eps=1e-6):
    """Nudges ``x.to(torch.float64)``: x itself in float64, a copy f never sees for a float32 x."""
    work = x.to(torch.float64)
    grad = torch.zeros(x.numel(), dtype=torch.float64)
    flat = work.view(-1)
    for i in range(x.numel()):
        original = float(flat[i])
        try:
            flat[i] = original + eps
            f_plus = _value(f(work))
            flat[i] = original - eps
            f_minus = _value(f(work))
        finally:
            flat[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.to(x.dtype).reshape(x.shape)


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


_TINY = torch.finfo(torch.float64).tiny


def re_tensor_result(a, b):
    """Returns the 0-d tensor instead of a Python float."""
    a, b = _pair(a, b)
    return ((a - b).abs() / (a.abs() + b.abs()).clamp(min=_TINY)).max()


def re_input_dtype(a, b):
    """Computes in the inputs' own dtype: float32 for float32 inputs."""
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    tiny = torch.finfo(torch.promote_types(a.dtype, b.dtype)).tiny
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp(min=tiny)).max())


def re_cast_to_first(a, b):
    """Casts b to a's dtype (rounds a float64 b to float32), then computes in float64."""
    a = torch.as_tensor(a)
    b = torch.as_tensor(b, dtype=a.dtype)
    a, b = a.double(), b.double()
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp(min=_TINY)).max())


def re_ratio_of_maxes(a, b):
    """One ratio for the whole input: max |a − b| / max(|a| + |b|), not the largest ratio."""
    a, b = _pair(a, b)
    return float((a - b).abs().max() / (a.abs() + b.abs()).max().clamp(min=_TINY))


def re_floor_1e8(a, b):
    """A floor of 1e-8 on the denominator instead of the smallest float: wrong for tiny numbers."""
    a, b = _pair(a, b)
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max())


# --- gradcheck -------------------------------------------------------------------------------------


def _compare_with(
    name,
    analytic,
    numeric,
    atol,
    rtol,
    *,
    rule="both",
    worst="ratio",
    in_place=False,
    report="ok",
    shape_worst=False,
    shape="numeric",
    shape_note="both",
    diagnose="failures",
):
    """The reference's comparison of one input, with the pass rule, the worst element, the shape, the
    diagnosis or the report changed."""
    numeric = numeric.detach().to(torch.float64)
    expected = tuple(numeric.shape)
    analytic = torch.as_tensor(analytic).detach().to(torch.float64)
    given = tuple(analytic.shape)
    if given != expected:
        reported = given if shape == "analytic" else expected
        note = {
            "both": f"the analytic gradient has shape {given}, expected {expected}",
            "given": f"the analytic gradient has shape {given}",  # not the one it should have
            "none": "",
        }[shape_note]
        if not (shape_worst and analytic.numel() == numeric.numel()):
            return ref.InputCheck(name, reported, False, float("inf"), 1.0, None, note)
        # compares the numbers anyway to name a worst element, though the shapes differ
        found = _compare_with(name, analytic.reshape(expected), numeric, atol, rtol)
        return ref.InputCheck(name, reported, False, float("inf"), 1.0, found.worst, note)
    diff = analytic.sub_(numeric).abs_() if in_place else (analytic - numeric).abs()
    if in_place:
        analytic = diff  # the caller's gradient now holds |a − n|; the report reads it back
    allowed = {
        "both": atol + rtol * numeric.abs(),
        "atol": torch.full_like(diff, atol),
        "rtol": rtol * numeric.abs(),
        "swapped": atol + rtol * analytic.abs(),  # torch.isclose(numeric, analytic)
        "positional": rtol + atol * numeric.abs(),  # torch.isclose(a, n, atol, rtol): rtol first
    }.get(rule, atol + rtol * numeric.abs())
    ok = ~(diff > allowed) if rule == "outside" else diff <= allowed
    if rule == "max":  # one tolerance for the whole input
        ok = torch.full_like(ok, bool(diff.max() <= atol + rtol * numeric.abs().max()))
    elif rule == "norms":
        ok = torch.full_like(ok, bool(diff.norm() <= atol + rtol * numeric.norm()))
    if worst == "ratio":
        flat = int(torch.nan_to_num(diff / allowed, nan=float("inf")).flatten().argmax())
    elif worst == "abs":
        flat = int(diff.flatten().argmax())
    else:  # the first failing element
        failing = (~ok).flatten().nonzero()
        flat = int(failing[0]) if len(failing) else 0
    index = tuple(int(i) for i in np.unravel_index(flat, expected)) if expected else ()
    values = (float(analytic[index]), float(numeric[index]))
    if report == "swapped":  # ElementReport(index, numeric, analytic)
        values = values[::-1]
    max_abs = float(diff.sum()) if report == "sum" else float(diff.max())
    relative = ref.relative_error(analytic, numeric)
    passed = bool(ok.all())
    diagnosis = {
        "failures": "" if passed else ref._diagnose(analytic, numeric),
        "always": ref._diagnose(analytic, numeric),  # a guess for passing inputs too
        "never": "",
        "swapped": "" if passed else ref._diagnose(numeric, analytic),
    }[diagnose]
    reported = (numeric.numel(),) if shape == "flat" else expected
    return ref.InputCheck(
        name,
        reported,
        passed,
        max_abs,
        relative,
        ref.ElementReport(index, *values),
        diagnosis,
    )


def _gradcheck_with(
    f,
    inputs,
    grads,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    *,
    use=None,
    record=None,
    warn=True,
    positional_names=False,
    names=None,
    **how,
):
    """The reference's gradcheck with ``_compare_with``; ``use`` replaces the eps, atol or rtol it
    computes with (hard-coded), ``record`` those it reports, ``warn`` decides whether it calls the
    provided precision warning, and ``names`` (a function of i) names the inputs of a list or a single
    tensor."""
    named_inputs = ref._named(inputs, "inputs")
    named_grads = ref._named(grads, "grads")
    is_dict = isinstance(inputs, dict)
    notes = ref._precision_warnings(named_inputs) if warn else ()
    given = {"eps": eps, "atol": atol, "rtol": rtol}
    used = given | (use or {})

    def evaluate(_=None):
        return f(**named_inputs) if is_dict else f(*named_inputs.values())

    def named(i, name):
        if positional_names:
            return f"input {i}"
        return name if is_dict or names is None else names(i)

    checks = tuple(
        _compare_with(
            named(i, name),
            named_grads[name],
            ref.numerical_gradient(evaluate, x, used["eps"]),
            used["atol"],
            used["rtol"],
            **how,
        )
        for i, (name, x) in enumerate(named_inputs.items())
    )
    recorded = given | (record or {})
    return ref.GradcheckResult(
        checks, recorded["eps"], recorded["atol"], recorded["rtol"], tuple(notes)
    )


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
            c.name,
            c.shape,
            c.relative_error < rtol,
            c.max_abs_error,
            c.relative_error,
            c.worst,
            "" if c.relative_error < rtol else c.diagnosis,
        )
        for c in result.checks
    )
    return ref.GradcheckResult(checks, eps, atol, rtol, result.warnings)


def gc_reshapes_gradients(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Reshapes each gradient to its input's shape instead of failing a wrong shape."""
    named_grads = ref._named(grads, "grads")
    named_inputs = ref._named(inputs, "inputs")
    is_dict = isinstance(inputs, dict)
    notes = ref._precision_warnings(named_inputs)

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
    return ref.GradcheckResult(checks, eps, atol, rtol, notes)


def gc_first_input_only(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    result = _gradcheck_with(f, inputs, grads, eps, atol, rtol)
    first = result.checks[0]
    rest = tuple(
        ref.InputCheck(c.name, c.shape, True, 0.0, 0.0, c.worst) for c in result.checks[1:]
    )
    return ref.GradcheckResult((first, *rest), eps, atol, rtol, result.warnings)


def gc_ignores_eps(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Calls numerical_gradient with its default ε, not the eps it is given."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, use={"eps": 1e-6})


def gc_ignores_atol(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, use={"atol": 1e-5})


def gc_ignores_rtol(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, use={"rtol": 1e-3})


def gc_whole_input_max(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """max |a − n| ≤ atol + rtol·max |n|: one tolerance for the whole input."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, rule="max")


def gc_norms(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """‖a − n‖ ≤ atol + rtol·‖n‖: norms instead of elements."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, rule="norms")


def gc_isclose_swapped(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """torch.isclose(numeric, analytic): the tolerance scales with |analytic|, not |numeric|."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, rule="swapped")


def gc_isclose_positional(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """torch.isclose(analytic, numeric, atol, rtol): its third parameter is rtol, its fourth atol."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, rule="positional")


def gc_in_place(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """``analytic.to(float64).sub_(numeric)``: ``.to`` of a float64 tensor is the caller's tensor."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, in_place=True)


def gc_records_defaults(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Reports the default eps, atol and rtol whatever it was called with."""
    defaults = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, record=defaults)


def gc_warnings_not_recorded(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Issues the precision warning but leaves the result's warnings empty."""
    result = ref.gradcheck(f, inputs, grads, eps, atol, rtol)
    return ref.GradcheckResult(result.checks, eps, atol, rtol, ())


def gc_no_precision_warning(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, warn=False)


def gc_positional_names(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Names the inputs "input 0", "input 1" even when they come in a dict."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, positional_names=True)


def gc_shape_worst(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Names a worst element of a gradient of the wrong shape (compared reshaped)."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, shape_worst=True)


def gc_swapped_report(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """ElementReport(index, numeric, analytic): the two values the wrong way round."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, report="swapped")


def gc_max_abs_error_summed(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """max_abs_error as the sum of |a − n|, not its largest element."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, report="sum")


def gc_nan_passes(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """``passed = not (diff > allowed).any()``: a comparison with NaN is False, so a NaN passes."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, rule="outside")


def gc_shape_of_analytic(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Gives a gradient of the wrong shape its own shape, not the input's."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, shape="analytic")


def gc_shape_flattened(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """The shape read after flattening the gradients: (numel,) for every input."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, shape="flat")


def gc_names_from_one(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Names the inputs of a list "input 1", "input 2", … (a dict's keys kept)."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, names=lambda i: f"input {i + 1}")


def gc_names_bare_index(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Names the inputs of a list by their index alone: "0", "1", … (a dict's keys kept)."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, names=str)


def gc_no_diagnosis(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Never calls _diagnose: a failure has no diagnosis (the wrong shape's note kept)."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, diagnose="never")


def gc_diagnose_swapped(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """``_diagnose(numeric, analytic)``: a factor 2 reads as 0.5."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, diagnose="swapped")


def gc_diagnosis_always(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Calls _diagnose for passing inputs too: a gradient 1.3× the true one within rtol = 0.5 passes
    with a diagnosis."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, diagnose="always")


def gc_shape_no_diagnosis(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Fails a gradient of the wrong shape without saying so: its diagnosis is empty."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, shape_note="none")


def gc_shape_note_given_only(f, inputs, grads, eps=1e-6, atol=1e-5, rtol=1e-3):
    """The wrong shape's diagnosis names the gradient's shape, not the one expected."""
    return _gradcheck_with(f, inputs, grads, eps, atol, rtol, shape_note="given")


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
        ng_ignores_eps,
        ng_float64_result,
        ng_item,
        ng_nudges_a_float64_copy,
    ],
    "relative_error": [
        re_max_no_tiny,
        re_sum_no_tiny,
        re_asymmetric,
        re_mean,
        re_norms,
        re_float32,
        re_signed,
        re_tensor_result,
        re_input_dtype,
        re_cast_to_first,
        re_ratio_of_maxes,
        re_floor_1e8,
    ],
    "gradcheck": [
        gc_only_atol,
        gc_only_rtol,
        gc_first_failure,
        gc_largest_difference,
        gc_relative_error_threshold,
        gc_reshapes_gradients,
        gc_first_input_only,
        gc_ignores_eps,
        gc_ignores_atol,
        gc_ignores_rtol,
        gc_whole_input_max,
        gc_norms,
        gc_isclose_swapped,
        gc_isclose_positional,
        gc_in_place,
        gc_records_defaults,
        gc_no_precision_warning,
        gc_positional_names,
        gc_shape_worst,
        gc_swapped_report,
        gc_max_abs_error_summed,
        gc_warnings_not_recorded,
        gc_nan_passes,
        gc_shape_of_analytic,
        gc_shape_flattened,
        gc_names_from_one,
        gc_names_bare_index,
        gc_no_diagnosis,
        gc_diagnose_swapped,
        gc_diagnosis_always,
        gc_shape_no_diagnosis,
        gc_shape_note_given_only,
    ],
}
