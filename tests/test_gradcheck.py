"""Homework 4 reference (solutions/gradcheck.py): numerical gradients against torch.autograd, and
gradient checks that pass correct gradients and point at planted bugs."""

import math

import pytest
import torch
from torch.autograd.functional import jacobian

from solutions.gradcheck import (
    GradcheckResult,
    PrecisionWarning,
    check_layer,
    check_loss,
    gradcheck,
    numerical_gradient,
    relative_error,
)
from tests.helpers import randn

FUNCTIONS = {
    "quadratic": lambda x: (x**2).sum(),
    "tanh-mlp-ish": lambda x: torch.tanh(x @ x.T).sum() if x.ndim == 2 else torch.tanh(x).sum(),
    "logsumexp": lambda x: torch.logsumexp(x.flatten(), 0),
    "product": lambda x: torch.prod(x.flatten()[:3]) + torch.sin(x).sum(),
}


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_numerical_gradient_equals_autograd_jacobian(name, shape, device, rng):
    f = FUNCTIONS[name]
    x = randn(*shape, generator=rng, device=device)
    expected = jacobian(f, x)
    got = numerical_gradient(f, x)
    assert got.shape == x.shape and got.dtype == x.dtype and got.device == x.device
    torch.testing.assert_close(got, expected, rtol=1e-7, atol=1e-8)


def test_numerical_gradient_leaves_x_unchanged_bit_for_bit(rng):
    x = randn(4, 5, generator=rng)
    x[0, 0] = (
        0.1  # 0.1 ± 1e-6 − ... round-trips only if the original is written back, not recomputed
    )
    before = x.clone()
    numerical_gradient(lambda t: (t**3).sum(), x)
    assert torch.equal(x, before)


def test_numerical_gradient_restores_x_when_f_raises(rng):
    x = randn(3, generator=rng)
    before = x.clone()

    def explode(t):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(explode, x)
    assert torch.equal(x, before)


def test_numerical_gradient_works_on_non_contiguous_and_leaf_tensors(rng):
    base = randn(4, 6, generator=rng)
    x = base.T  # a non-contiguous view
    assert not x.is_contiguous()
    torch.testing.assert_close(
        numerical_gradient(lambda t: (t**2).sum(), x), 2 * x, rtol=1e-8, atol=1e-9
    )
    leaf = randn(3, generator=rng).requires_grad_(True)
    torch.testing.assert_close(
        numerical_gradient(lambda t: (t**2).sum(), leaf), 2 * leaf.detach(), rtol=1e-8, atol=1e-9
    )
    assert leaf.grad is None


def test_numerical_gradient_needs_a_scalar_function(rng):
    with pytest.raises(ValueError, match=r"scalar.*shape \(3,\)"):
        numerical_gradient(lambda t: t * 2, randn(3, generator=rng))


def test_relative_error_formula():
    a = torch.tensor([1.0, 0.0, -2.0, 1e-300], dtype=torch.float64)
    b = torch.tensor([1.1, 0.0, 2.0, 1e-300], dtype=torch.float64)
    # |1 − 1.1| / 2.1; 0/0 := 0; opposite signs give 1; equal tiny values give 0
    assert relative_error(a, b) == pytest.approx(1.0)
    assert relative_error(a[:2], b[:2]) == pytest.approx(0.1 / 2.1, rel=1e-12)
    assert relative_error(torch.zeros(3), torch.zeros(3)) == 0.0
    # symmetric and scale-free
    x, y = (
        torch.tensor([3.0, -1.0], dtype=torch.float64),
        torch.tensor([2.5, -1.2], dtype=torch.float64),
    )
    assert relative_error(x, y) == relative_error(y, x)
    assert relative_error(1e-8 * x, 1e-8 * y) == pytest.approx(relative_error(x, y), rel=1e-12)
    with pytest.raises(ValueError, match=r"same shape.*\(2,\).*\(3,\)"):
        relative_error(torch.zeros(2), torch.zeros(3))


# --------------------------------------------------------------------------------------------------
# gradcheck: a two-layer network with a hand-written backward, correct and with planted bugs
# --------------------------------------------------------------------------------------------------


def tiny_net_loss(x, W1, W2):
    """L = ½ Σ (tanh(x W1) W2)², x: (n, d), W1: (d, h), W2: (h, k)."""
    return 0.5 * ((torch.tanh(x @ W1) @ W2) ** 2).sum()


def tiny_net_grads(x, W1, W2, bug=None):
    h = torch.tanh(x @ W1)  # (n, h)
    out = h @ W2  # (n, k)
    d_out = out
    d_W2 = h.T @ d_out  # (h, k)
    d_h = d_out @ W2.T  # (n, h)
    d_a = d_h * (1 - h**2)
    d_W1 = x.T @ d_a  # (d, h)
    d_x = d_a @ W1.T
    if bug == "factor 2":
        d_W2 = 2 * d_W2
    elif bug == "sign":
        d_x = -d_x
    elif bug == "transposed (square)":
        d_W1 = d_W1.T
    elif bug == "transposed (shape)":
        d_W2 = d_W2.T
    elif bug == "wrong derivative":
        d_W1 = x.T @ (d_h * (1 - h))  # tanh' written as 1 − h instead of 1 − h²
    return {"x": d_x, "W1": d_W1, "W2": d_W2}


@pytest.fixture
def net(rng):
    return {
        "x": randn(5, 4, generator=rng),
        "W1": randn(4, 4, generator=rng),
        "W2": randn(4, 3, generator=rng),
    }


def test_gradcheck_passes_correct_gradients(net, device):
    inputs = {k: v.to(device) for k, v in net.items()}
    result = gradcheck(tiny_net_loss, inputs, tiny_net_grads(**inputs))
    assert isinstance(result, GradcheckResult) and result and result.passed
    assert [c.name for c in result.checks] == ["x", "W1", "W2"]
    assert all(c.relative_error < 1e-7 for c in result.checks)
    assert "passed" in str(result)


def test_gradcheck_agrees_with_autograd_grads(net):
    params = {k: v.clone().requires_grad_(True) for k, v in net.items()}
    tiny_net_loss(**params).backward()
    assert gradcheck(tiny_net_loss, net, {k: p.grad for k, p in params.items()})


@pytest.mark.parametrize(
    "bug, culprit, words",
    [
        ("factor 2", "W2", "2× the numerical one"),
        ("sign", "x", "sign error"),
        ("transposed (square)", "W1", "transposed"),
        ("transposed (shape)", "W2", "shape (3, 4), expected (4, 3) (transposed?)"),
        ("wrong derivative", "W1", "worst element W1["),
    ],
)
def test_gradcheck_points_at_planted_bugs(net, bug, culprit, words):
    result = gradcheck(tiny_net_loss, net, tiny_net_grads(**net, bug=bug))
    assert not result
    assert [c.name for c in result.failures] == [culprit]
    assert result.worst.name == culprit
    report = str(result)
    assert f"FAIL {culprit}" in report and words in report
    if result.worst.worst is not None:  # the reported element really is wrong
        w = result.worst.worst
        assert abs(w.analytic - w.numeric) > 1e-5 + 1e-3 * abs(w.numeric)


def test_gradcheck_accepts_positional_inputs(net):
    grads = tiny_net_grads(**net)
    result = gradcheck(tiny_net_loss, list(net.values()), list(grads.values()))
    assert result and [c.name for c in result.checks] == ["input 0", "input 1", "input 2"]
    single = gradcheck(lambda t: (t**2).sum(), net["x"], 2 * net["x"])
    assert single


def test_gradcheck_rejects_mismatched_structures(net):
    with pytest.raises(ValueError, match="one to one"):
        gradcheck(tiny_net_loss, net, [net["x"]])
    with pytest.raises(ValueError, match="floating-point"):
        gradcheck(lambda t: t.sum(), torch.arange(3), torch.ones(3))


# --------------------------------------------------------------------------------------------------
# Why float64: the same check in float32 is not trustworthy
# --------------------------------------------------------------------------------------------------


def test_float32_central_differences_are_too_coarse(rng):
    x64 = randn(50, generator=rng)
    f = lambda t: (torch.sin(t) * 3 + t**2).sum()  # noqa: E731
    exact = 3 * torch.cos(x64) + 2 * x64
    error64 = relative_error(numerical_gradient(f, x64), exact)
    error32 = relative_error(numerical_gradient(f, x64.float()), exact)
    assert error64 < 1e-8
    assert error32 > 1e-3  # rounding u·|f|/eps dwarfs the O(eps²) truncation
    assert error32 > 1e5 * error64


def test_float32_step_can_vanish_entirely():
    # above 32 the float32 grid is coarser than 2e-6: x + 1e-6 rounds back to x, the difference is 0
    x = torch.tensor([40.0], dtype=torch.float32)
    assert numerical_gradient(lambda t: (t**2).sum(), x).item() == 0.0
    assert numerical_gradient(lambda t: (t**2).sum(), x.double()).item() == pytest.approx(80.0)


def test_gradcheck_warns_outside_float64_and_says_why(net):
    inputs = {k: v.float() for k, v in net.items()}
    with pytest.warns(PrecisionWarning, match="use float64.*round-off") as record:
        result = gradcheck(tiny_net_loss, inputs, tiny_net_grads(**inputs))
    assert "x (float32)" in str(record[0].message)
    assert "use float64" in str(result) and len(result.warnings) == 1
    assert math.isfinite(result.worst.relative_error)


# --------------------------------------------------------------------------------------------------
# check_layer / check_loss: homework 2's layer interface
# --------------------------------------------------------------------------------------------------


class AffineLayer:
    """y = x W + b with a hand-written backward, and switches to plant bugs."""

    def __init__(self, W, b, bug=None):
        self.W, self.b, self.bug = W, b, bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad_output):
        self.dW = self.x.T @ grad_output
        self.db = grad_output.sum(0) if self.bug != "bias mean" else grad_output.mean(0)
        dx = grad_output @ self.W.T
        return -dx if self.bug == "sign" else dx

    def parameters(self):
        return [self.W, self.b]

    def gradients(self):
        return [self.dW, self.db]


class TanhLayer:
    def forward(self, x):
        self.out = torch.tanh(x)
        return self.out

    def backward(self, grad_output):
        return grad_output * (1 - self.out**2)


class SoftmaxCrossEntropy:
    """Mean cross-entropy of logits with integer labels; ``bug`` forgets to divide by the batch."""

    def __init__(self, bug=False):
        self.bug = bug

    def forward(self, logits, target):
        self.logits, self.target = logits, target
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        return -log_p[torch.arange(len(target)), target].mean()

    def backward(self):
        p = torch.softmax(self.logits, dim=1)
        p[torch.arange(len(self.target)), self.target] -= 1
        return p if self.bug else p / len(self.target)


def test_check_layer_passes_correct_layers_and_restores_parameters(rng):
    W, b, x = randn(4, 3, generator=rng), randn(3, generator=rng), randn(6, 4, generator=rng)
    before = (W.clone(), b.clone(), x.clone())
    result = check_layer(AffineLayer(W, b), x)
    assert result, str(result)
    assert [c.name for c in result.checks] == ["x", "parameters[0]", "parameters[1]"]
    assert all(torch.equal(t, t0) for t, t0 in zip((W, b, x), before, strict=True))
    assert check_layer(TanhLayer(), x)  # a layer without parameters


@pytest.mark.parametrize("bug, culprit", [("sign", "x"), ("bias mean", "parameters[1]")])
def test_check_layer_finds_bugs(rng, bug, culprit):
    W, b, x = randn(4, 3, generator=rng), randn(3, generator=rng), randn(6, 4, generator=rng)
    result = check_layer(AffineLayer(W, b, bug=bug), x)
    assert [c.name for c in result.failures] == [culprit]


def test_check_loss(rng):
    logits = randn(5, 4, generator=rng)
    target = torch.tensor([0, 3, 1, 1, 2])
    assert check_loss(SoftmaxCrossEntropy(), logits, target)
    result = check_loss(SoftmaxCrossEntropy(bug=True), logits, target)
    assert not result and "5× the numerical one" in str(result)
