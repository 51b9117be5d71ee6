"""The hidden checks of homework 2: what is particular to them (their messages, their probes, autograd).

The proofs every homework owes (reference passes 100 seeds, every mutant fails, garbage fails with a
message, plain arrays only) run in ``tests/test_grading.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.checks import Catalogue
from autograder.homeworks.hw2_mlp_backprop import mutants as mutants
from autograder.homeworks.hw2_mlp_backprop.checks import CHECKS, run_check, verdict
from solutions import mlp
from tests import grading


def test_messages_say_what_is_wrong_without_the_inputs():
    messages = {
        (
            "Linear",
            mutants.LinearTransposedGradW,
        ): "the gradient of W has shape (4, 3), expected (3, 4)",
        ("Linear", mutants.LinearMeanGradB): "∂L/∂b = Σᵢ gᵢ, the sum",
        ("Linear", mutants.LinearAccumulates): "overwrite dW and db each time",
        ("Linear", mutants.LinearSkipsGradWithoutInputGrad): "with need_input_grad=False",
        ("Linear", mutants.LinearInFloat64): "dtype float64, expected float32",
        ("ReLU", mutants.ReLUGradAtZero): "at x = 0 the derivative is 0",
        ("ReLU", mutants.ReLUInPlace): "forward changed its input x in place",
        ("Sigmoid", mutants.SigmoidDerivativeIsSigma): "σ'(x) = σ(x)(1 − σ(x)), not σ(x)",
        ("Sigmoid", mutants.SigmoidNaive): "for large |x|",
        ("Tanh", mutants.TanhNoSquare): "the square is missing",
        ("MSELoss", mutants.MSEGradNoMean): "divide by N",
        ("MSELoss", mutants.MSEGradNoTwo): "the factor 2",
        ("MSELoss", mutants.MSEGradPerRow): "not by the N = n·k elements",
        ("MSELoss", mutants.MSENoShapeCheck): "raise a ValueError",
        ("Sequential", mutants.SequentialBackwardForwardOrder): "last to first",
        ("Sequential", mutants.SequentialStopsEarly): "with need_input_grad=False",
        ("MLPRegressor", mutants.MLPBiasesFrozen): "b of layer 1 was never updated",
        ("MLPRegressor", mutants.MLPAscent): "up the gradient",
        ("MLPRegressor", mutants.MLPIgnoresLearningRate): "× the right step",
        ("MLPRegressor", mutants.MLPNoReshape): "reshape the target",
        ("MLPRegressor", mutants.MLPNoActivation): "the loss before training",
        ("MLPRegressor", mutants.MLPLectureInit): "the initial W of layer 1 is not the reference's",
        ("MLPRegressor", mutants.MLPPredictColumn): "predict(X) has shape (9, 1), expected (9,)",
        ("MLPRegressor", mutants.MLPReturnsNothing): "train must return self",
    }
    for (task, mutant), text in messages.items():
        message = verdict(task, mutant).message
        assert message.startswith(f"{task}: ") and text in message, (mutant.__name__, message)
    grading.assert_messages_hide_the_inputs(CHECKS, lambda name: grading.GARBAGE["NaN"])
    for name, check in CHECKS.items():  # each mutant's message on the first case it fails
        for mutant in mutants.MUTANTS[name]:
            seed = next(s for s in check.seeds if not verdict(name, mutant, [s]).passed)
            message = verdict(name, mutant, [seed]).message
            _assert_hides(message, check.make_inputs(seed))


def _assert_hides(message: str, inputs: dict[str, np.ndarray]) -> None:
    """No input number that is not a whole number appears in the message (4 significant digits)."""
    for value in inputs.values():
        if value.dtype.kind == "f":
            shown = {f"{v:.4g}" for v in value.flat if np.isfinite(v) and v != round(v)}
            assert not any(text in message for text in shown), message


def test_run_check_raises_assertion_error_with_the_message():
    run_check("Linear", mlp.Linear)
    with pytest.raises(AssertionError, match=r"Sequential: raised RuntimeError: student bug"):
        run_check("Sequential", grading.GARBAGE["raises"])


@pytest.mark.parametrize(
    ("task", "mutant", "how"),
    [
        ("Linear", mutants.LinearAutograd, "requires_grad_ on line 2 of LinearAutograd.backward"),
        ("MLPRegressor", mutants.MLPAutogradLayers, "made a tensor that requires grad"),
    ],
)
def test_autograd_scores_zero_though_its_numbers_are_right(task, mutant, how):
    """Without the rule the autograd mutants pass: the rule, by scan or by watch, is what fails them."""
    message = verdict(task, mutant).message
    assert message.startswith(f"{task}: uses torch.autograd") and how in message
    assert "scores 0" in message
    check = CHECKS[task]
    unguarded = Catalogue([type(check)(check.name, check.make_inputs, check.apply, check.judge)])
    assert unguarded.verdict(task, mutant).passed


def test_every_check_forbids_autograd():
    for check in CHECKS.values():
        assert [rule.name for rule in check.forbid] == ["torch.autograd"]


def test_sequential_probes_record_the_order_of_the_calls():
    check = CHECKS["Sequential"]
    for seed in check.seeds:
        inputs = check.make_inputs(seed)
        outputs = check.apply(mlp.Sequential, inputs)
        n = len(outputs["forward_order"])
        assert outputs["forward_order"].tolist() == list(range(n))
        assert outputs["backward_order"].tolist() == list(range(n))[::-1]
    inputs = check.make_inputs(0)  # Linear, ReLU, Linear
    outputs = check.apply(mutants.SequentialBackwardForwardOrder, inputs)
    assert outputs["backward_order"].tolist() == [0]  # the first Linear refused the gradient


def test_mlp_check_trains_the_reference_from_the_students_own_weights():
    """A student whose network draws other initial weights still gets the training judged from them:
    the training passes, and only the last verdict, on the initial weights, fails."""

    class OtherInit(mlp.MLPRegressor):
        def _build_network(self, n_in, n_out, X, generator):
            net = super()._build_network(n_in, n_out, X, generator)
            for W in net.parameters()[::2]:
                W.mul_(0.5)
            return net

    check = CHECKS["MLPRegressor"]
    for seed in check.seeds:
        message = check.verdict(OtherInit, [seed]).message
        assert "the initial W of layer 1 is not the reference's" in message, (seed, message)


def test_mlp_cases_train_and_stay_finite():
    """Every case moves the weights and keeps the losses finite: the comparison means something."""
    check = CHECKS["MLPRegressor"]
    for seed in range(len(check.seeds)):
        outputs = check.apply(mlp.MLPRegressor, check.make_inputs(seed))
        assert np.all(np.isfinite(outputs["history"]))
        assert not np.array_equal(outputs["initial.0"], outputs["trained.0"])


def test_mse_mismatch_case_expects_a_value_error():
    check = CHECKS["MSELoss"]
    seeds = [s for s in check.seeds if check.make_inputs(s)["target"].ndim == 1]
    inputs = [check.make_inputs(s) for s in seeds]
    assert any(i["pred"].shape != i["target"].shape for i in inputs)
    assert check.verdict(mlp.MSELoss, seeds).passed
    assert not check.verdict(mutants.MSENoShapeCheck, seeds).passed


@pytest.mark.parametrize(
    ("task", "mutant", "text"),
    [
        # what backward returns when ∂L/∂x is not needed: None, as the docstrings say
        (
            "Linear",
            mutants.LinearIgnoresNeedInputGrad,
            "with need_input_grad=False backward returned a Tensor; it returns None",
        ),
        (
            "Sequential",
            mutants.SequentialIgnoresNeedInputGrad,
            "with need_input_grad=False backward returned a Tensor; it returns None",
        ),
        # backward must leave the output forward returned alone (the layer above holds it)
        ("ReLU", mutants.ReLUSignInPlace, "backward changed the output y that forward returned"),
        (
            "Sigmoid",
            mutants.SigmoidBackwardOverwritesOutput,
            "backward changed the output y that forward returned",
        ),
        (
            "Tanh",
            mutants.TanhBackwardOverwritesOutput,
            "backward changed the output y that forward returned",
        ),
        # a new tensor out of forward, never x itself
        ("ReLU", mutants.ReLUAliasesInput, "forward returned x itself or a view of it"),
        # float32 in, float32 out
        ("MSELoss", mutants.MSEInFloat64, "the loss has dtype float64, expected float32"),
        # predict of one row is (1,)
        (
            "MLPRegressor",
            mutants.MLPPredictSqueeze,
            "predict(X) for one row has shape (), expected (1,)",
        ),
        # every hyper-parameter used: init, the activation's name, three hidden layers
        (
            "MLPRegressor",
            mutants.MLPIgnoresInit,
            "the initial W of layer 1 is not the reference's",
        ),
        ("MLPRegressor", mutants.MLPOwnActivationTable, "ACTIVATIONS[activation]"),
        (
            "MLPRegressor",
            mutants.MLPAtMostTwoHidden,
            "parameters() before training holds 6 tensors, expected 8",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and " " not in value else None,
)
def test_contract_mutants_get_their_message(task, mutant, text):
    message = verdict(task, mutant).message
    assert message.startswith(f"{task}: ") and text in message, message


def test_contract_mutants_pass_where_the_contract_is_not_looked_at():
    """Each contract mutant has the right numbers: only the new contract fails it. Without the
    one-row prediction, the None return, the float32 case or the three-layer case, they pass."""
    check = CHECKS["MLPRegressor"]
    inputs = check.make_inputs(0)
    squeeze = check.run_apply(mutants.MLPPredictSqueeze, inputs)
    assert not check.run_judge(inputs, squeeze).passed
    right = check.run_apply(mlp.MLPRegressor, inputs)  # the same weights: random_state is fixed
    squeeze |= {key: value for key, value in right.items() if key.startswith("pred_one")}
    assert check.run_judge(inputs, squeeze).passed
    linear = CHECKS["Linear"]
    outputs = linear.run_apply(mutants.LinearIgnoresNeedInputGrad, linear.make_inputs(1))
    assert said_type(outputs, "grad_x_only") == "Tensor"
    assert not linear.run_judge(linear.make_inputs(1), outputs).passed
    outputs |= {"grad_x_only.type": np.array("NoneType")}
    assert linear.run_judge(linear.make_inputs(1), outputs).passed
    mse = CHECKS["MSELoss"]
    float64_seeds = [s for s in mse.seeds if not mse.make_inputs(s)["float32"]]
    assert mse.verdict(mutants.MSEInFloat64, float64_seeds).passed
    assert not mse.verdict(mutants.MSEInFloat64).passed
    mlp_check = CHECKS["MLPRegressor"]
    shallow = [
        s for s in mlp_check.seeds if len(mlp_check.make_inputs(s)["hidden_layer_sizes"]) < 3
    ]
    assert mlp_check.verdict(mutants.MLPAtMostTwoHidden, shallow).passed


def said_type(outputs: dict, key: str) -> str:
    return str(outputs.get(f"{key}.type", ""))


def test_alias_probe_ignores_a_patched_fill(monkeypatch):
    """The probe overwrites x with a fill bound at import: an answer cell that makes
    ``Tensor.fill_`` do nothing cannot hide an output that is x itself."""
    monkeypatch.setattr(torch.Tensor, "fill_", lambda self, value: self)
    check = CHECKS["ReLU"]
    seed = next(s for s in check.seeds if not check.make_inputs(s)["x"].any())
    message = check.verdict(mutants.ReLUAliasesInput, [seed]).message
    assert "forward returned x itself" in message, message


def test_in_place_backward_on_grad_output_is_allowed():
    """The notebook lets backward overwrite grad_output and return it; only x and forward's output
    are the caller's."""

    class InPlace(mlp.Tanh):
        def backward(self, grad_output):
            return grad_output.mul_(1 - self.out * self.out)

    assert verdict("Tanh", InPlace, range(16)).passed


def test_mlp_cases_exercise_every_hyper_parameter():
    """Every keyword of MLPRegressor takes a value other than its default in some case; init takes
    values that "auto" would not pick; there are 0, 1, 2 and 3 hidden layers; "logistic" and
    "identity" are there besides the three activations written in the notebook."""
    from autograder.homeworks.hw2_mlp_backprop.probes import mlp_kwargs

    check = CHECKS["MLPRegressor"]
    cases = [
        mlp_kwargs(check.make_inputs(s), int(check.make_inputs(s)["max_iter"])) for s in check.seeds
    ]
    defaults = mlp.MLPRegressor().__dict__
    for key in defaults:
        assert any(c[key] != defaults[key] for c in cases), key
    assert {len(c["hidden_layer_sizes"]) for c in cases} >= {0, 1, 2, 3}
    assert {c["activation"] for c in cases} >= {"relu", "sigmoid", "logistic", "tanh", "identity"}
    # init values that "auto" would not have picked for the case's activation: ignoring init shows
    not_auto = {
        c["init"] for c in cases if c["init"] != mlp._DEFAULT_INIT.get(c["activation"], "xavier")
    }
    assert {"normal", "he", "xavier"} <= not_auto and any(c["init"] == "auto" for c in cases)


def test_float32_cases_keep_float32():
    layer = mlp.Linear(3, 2, device="cpu", dtype=torch.float32)
    assert layer.forward(torch.ones(4, 3)).dtype == torch.float32
    for name, check in CHECKS.items():  # every task has a float32 case among its default seeds
        assert any(bool(check.make_inputs(s)["float32"]) for s in check.seeds), name
