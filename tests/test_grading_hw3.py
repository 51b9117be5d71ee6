"""The hidden checks of homework 3: what is particular to them (their messages, their probes).

The proofs every homework owes (reference passes 100 seeds, every mutant fails, garbage fails with a
message, plain arrays only) run in ``tests/test_grading.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.homeworks.hw3_optimizers import mutants as mutants
from autograder.homeworks.hw3_optimizers.checks import CHECKS, run_check, verdict
from solutions import optim as ref
from tests import grading

OPTIMIZERS = ("SGD", "Adagrad", "RMSprop", "Adam")


def test_messages_say_what_is_wrong_without_the_inputs():
    messages = {
        ("SGD", mutants.sgd_lecture_momentum): "the lr changed before this step",
        ("SGD", mutants.sgd_dampening_at_first_step): "b₁ = g₁ at the first step",
        ("SGD", mutants.sgd_nesterov_old_buffer): "Nesterov in PyTorch's form",
        ("SGD", mutants.sgd_weight_decay_in_place): "p.grad was changed in place",
        ("SGD", mutants.sgd_not_in_place): "the parameters have not moved",
        ("SGD", mutants.sgd_subclasses_torch): "subclasses torch.optim.SGD",
        ("SGD", mutants.sgd_autograd_weight_decay): "uses torch.autograd",
        ("SGD", mutants.sgd_float32_buffer): "float32",
        ("Adagrad", mutants.adagrad_eps_inside_root): "ε inside the root",
        ("Adagrad", mutants.adagrad_lr_decay_off_by_one): "(1 + (t − 1)η)",
        ("Adagrad", mutants.adagrad_ignores_initial_value): "initial_accumulator_value",
        ("RMSprop", mutants.rmsprop_alpha_swapped): "α weighs the old average",
        ("RMSprop", mutants.rmsprop_centered_plus): "√(v − g_ave²)",
        ("Adam", mutants.adam_no_bias_correction): "bias correction",
        ("Adam", mutants.adam_amsgrad_on_corrected): "on the raw v",
        ("Adam", mutants.adam_decoupled_decay_after_step): "θ ← θ − γλθ first",
        ("Adam", mutants.adam_delegates_to_torch): "uses torch.optim's optimizers",
        ("step_decay", mutants.sd_round): "floor",
        ("step_decay", mutants.sd_tensor): "expected a float",
        ("linear_warmup", mutants.lw_no_zero_warmup): "raised ZeroDivisionError",
        (
            "cosine_annealing",
            mutants.ca_rises_after_t_max,
        ): "η_min (an absolute rate) from t = T on",
        ("clip_grad_norm_", mutants.clip_returns_nothing): "return the total norm before clipping",
        ("clip_grad_norm_", mutants.clip_per_tensor): "one factor for all",
        ("clip_grad_norm_", mutants.clip_returns_clipped_norm): "before clipping",
        ("clip_grad_norm_", mutants.clip_ignores_nonfinite): "expected a RuntimeError",
        ("clip_grad_norm_", mutants.clip_delegates_to_torch): "uses torch.nn.utils' clipping",
    }
    for (task, mutant), text in messages.items():
        message = verdict(task, mutant).message
        assert message.startswith(f"{task}: ") and text in message, (mutant.__name__, message)
    grading.assert_messages_hide_the_inputs(CHECKS, lambda name: grading.GARBAGE["NaN"])
    grading.assert_messages_hide_the_inputs(CHECKS, lambda name: mutants.MUTANTS[name][0])


def test_run_check_raises_assertion_error_with_the_message():
    run_check("Adam", ref.Adam)
    with pytest.raises(AssertionError, match="SGD: raised RuntimeError: student bug"):
        run_check("SGD", grading.GARBAGE["raises"])
    with pytest.raises(AssertionError, match="gave a NoneType, expected an optimizer"):
        run_check("Adagrad", grading.GARBAGE["None"])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_cases_exercise_what_they_claim(name):
    """Over the default seeds: several shapes (0-d included), several groups, an lr change, a
    parameter without a gradient, tiny, huge and zero gradients; and the runs really move."""
    check = CHECKS[name]
    seen = set()
    for seed in check.seeds:
        inputs = check.make_inputs(seed)
        shapes = {inputs[k].shape for k in inputs if k[0] == "p" and k[1:].isdigit()}
        seen |= {("0-d",)} if () in shapes else set()
        seen |= {("groups",)} if "group1.params" in inputs else set()
        seen |= {("lr change",)} if len(np.unique(inputs["lr"][:, 0])) > 1 else set()
        seen |= {("no grad",)} if not inputs["has_grad"].all() else set()
        scale = np.abs(inputs["g0"]).max()
        seen |= {("tiny",)} if scale < 1e-6 else {("huge",)} if scale > 1e6 else set()
        seen |= (
            {("zeros",)}
            if (inputs["g0"] == 0).all(axis=tuple(range(1, inputs["g0"].ndim))).any()
            else set()
        )
        outputs = check.apply(getattr(ref, name), inputs)
        assert not np.array_equal(outputs["trajectory0"][-1], inputs["p0"]), (name, seed)
    assert seen == {
        (s,) for s in ("0-d", "groups", "lr change", "no grad", "tiny", "huge", "zeros")
    }


def test_lecture_momentum_passes_while_the_lr_is_constant():
    """The lecture's form is PyTorch's for a constant rate (to rounding): only the lr change and
    dampening catch it, so the check's tolerance is not what kills it."""
    check = CHECKS["SGD"]
    for seed in (0, 4):  # constant lr, no dampening, no Nesterov
        inputs = check.make_inputs(seed)
        outputs = check.apply(mutants.sgd_lecture_momentum, inputs)
        assert check.judge(inputs, outputs).passed, seed
    inputs = check.make_inputs(1)  # the lr drops half-way
    assert not check.judge(inputs, check.apply(mutants.sgd_lecture_momentum, inputs)).passed


def test_the_grad_handed_to_the_optimizer_is_watched():
    """The probe hands back the gradients as they are after the run; the judge compares them."""
    check = CHECKS["SGD"]
    inputs = check.make_inputs(4)  # weight decay
    assert check.judge(inputs, check.apply(ref.SGD, inputs)).passed
    outputs = check.apply(mutants.sgd_weight_decay_in_place, inputs)
    assert not np.array_equal(outputs["grads_after0"], inputs["g0"])
    assert "p.grad was changed in place" in check.judge(inputs, outputs).message


def test_a_subclass_of_the_optimizer_base_is_allowed_and_of_a_builtin_is_not():
    class Mine(torch.optim.Optimizer):
        pass

    class Theirs(torch.optim.RMSprop):
        pass

    assert "subclasses" not in CHECKS["RMSprop"].apply(Mine, CHECKS["RMSprop"].make_inputs(0))
    message = verdict("RMSprop", Theirs).message
    assert "subclasses torch.optim.RMSprop" in message


# ---------------------------------------------------------------------------------------------------
# The contracts (issue 14, item 3): each class of mistake gets the message that names it
# ---------------------------------------------------------------------------------------------------

CONTRACT_MESSAGES = {
    # a hyper-parameter hard-coded to its default: the run parts from torch.optim's
    ("SGD", mutants.sgd_ignores_dampening): "(momentum=0.9, dampening=0.5)",
    ("Adagrad", mutants.adagrad_ignores_eps): "eps=0.001",
    ("RMSprop", mutants.rmsprop_ignores_eps): "eps=0.001",
    ("Adam", mutants.adam_ignores_beta2): "betas=(0.8, 0.9)",
    # the hyper-parameters of another group, or the defaults
    ("Adagrad", mutants.adagrad_first_group): "lr_decay=0.5",
    ("RMSprop", mutants.rmsprop_reads_defaults): "alpha=0.7",
    # the group's hyper-parameters written
    ("Adagrad", mutants.adagrad_decays_group_lr): "step 2 changed the group's 'lr'",
    # a state that is p.grad itself
    ("SGD", mutants.sgd_buffer_is_grad): "the state holds p.grad itself (b = grad), not a copy",
    ("SGD", mutants.sgd_buffer_is_grad_out_of_place): "overwrites in place between steps",
    # t counted per group; a parameter without a gradient at its first step
    ("Adam", mutants.adam_group_step_counter): "bias correction",
    # a float32 parameter turned float64
    ("SGD", mutants.sgd_upcasts_param): "dtype",
    # clipping
    ("clip_grad_norm_", mutants.clip_rebinds_grad): "was replaced by a new tensor",
    ("clip_grad_norm_", mutants.clip_raises_without_flag): "error_if_nonfinite=False it raised",
    ("clip_grad_norm_", mutants.clip_crashes_without_any_grad): "with no gradient at all",
    ("clip_grad_norm_", mutants.clip_float64_norm): "dtype float64, expected float32",
    ("clip_grad_norm_", mutants.clip_default_norm_inf): "the total norm returned",
    # schedules
    ("step_decay", mutants.sd_default_gamma): "expected 0.05",
    ("linear_warmup", mutants.lw_multiplier_only): "expected 0.025",
    ("cosine_annealing", mutants.ca_float32): "float32 arithmetic somewhere",
    ("linear_warmup", mutants.lw_float32): "of base_lr (tolerance 1e-12)",
}


@pytest.mark.parametrize(
    ("task", "mutant"), list(CONTRACT_MESSAGES), ids=lambda v: getattr(v, "__name__", v)
)
def test_each_contract_mutant_gets_its_message(task, mutant):
    message = verdict(task, mutant).message
    assert message.startswith(f"{task}: ") and CONTRACT_MESSAGES[task, mutant] in message, message
    assert len(message) < 400


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_cases_cover_the_contracts(name):
    """float32 parameters, a parameter without a gradient at its first step, several groups with
    different hyper-parameters, and every hyper-parameter off its default somewhere."""
    check = CHECKS[name]
    inputs = [check.make_inputs(seed) for seed in check.seeds]
    assert any(bool(i["float32"]) for i in inputs)
    assert any(not i["has_grad"][0, 0] for i in inputs)
    assert any("group1.params" in i for i in inputs)
    defaults = {
        key: value
        for key, value in ref.__dict__[name]([torch.zeros(1)]).defaults.items()
        if key not in ("lr", "initial_accumulator_value")
    }
    for key, default in defaults.items():
        seen = {
            str(i[k].tolist())
            for i in inputs
            for k in i
            if k.startswith("group") and k.endswith(f".{key}")
        }
        assert seen - {str(list(default) if isinstance(default, tuple) else default)}, key


def test_float32_parameters_are_run_and_judged_in_float32():
    check = CHECKS["Adam"]
    seed = next(s for s in check.seeds if bool(check.make_inputs(s)["float32"]))
    inputs = check.make_inputs(seed)
    outputs = check.apply(ref.Adam, inputs)
    assert str(outputs["final0.dtype"]) == "float32"
    assert check.judge(inputs, outputs).passed
    outputs["final0.dtype"] = np.array("float64")
    assert "has dtype float64, expected float32" in check.judge(inputs, outputs).message


def test_the_tolerance_is_per_element():
    """One element off by 1e-6 of its own travel fails, though it is 1e-12 of the tensor's."""
    check = CHECKS["SGD"]
    inputs = check.make_inputs(0)
    outputs = check.apply(ref.SGD, inputs)
    assert check.judge(inputs, outputs).passed
    trajectory = outputs["trajectory0"].copy()
    start = inputs["p0"]
    travelled = np.abs(trajectory[0] - start)
    k = int(np.argmin(travelled))
    inputs["g0"][:, k] *= 1e-6  # the element k barely moves; its travel is tiny next to the others'
    outputs = check.apply(ref.SGD, inputs)
    assert check.judge(inputs, outputs).passed
    outputs["trajectory0"][0, k] += 1e-6 * abs(outputs["trajectory0"][0, k] - start[k])
    message = check.judge(inputs, outputs).message
    assert "differs from torch.optim.SGD by 1e-06 of the distance it travelled" in message


def test_schedule_tolerance_is_relative_to_base_lr():
    """cos²(π/2) is 3.7e-33, not 0: a rate of exactly 0 written as η + (b − η)cos² passes."""
    from autograder.homeworks.hw3_optimizers import variants as variants

    assert verdict("cosine_annealing", variants.ca_cos_squared, range(20)).passed


def test_the_second_run_overwrites_the_gradients_in_place():
    """A buffer that is p.grad but never written passes the run with a new gradient per step; the
    run with one gradient tensor overwritten in place between steps is what catches it."""
    check = CHECKS["SGD"]
    inputs = check.make_inputs(1)  # momentum, no weight decay
    outputs = check.apply(mutants.sgd_buffer_is_grad_out_of_place, inputs)
    fresh = {key: value for key, value in outputs.items() if not key.startswith("reused.")}
    reference = check.apply(ref.SGD, inputs)
    fresh |= {key: value for key, value in reference.items() if key.startswith("reused.")}
    assert check.judge(inputs, fresh).passed
    assert not np.allclose(outputs["reused.trajectory0"], reference["reused.trajectory0"])
    assert "overwrites in place between steps" in check.judge(inputs, outputs).message
