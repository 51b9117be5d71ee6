"""Homework 2 reference (solutions/mlp.py, and its ungraded extras in solutions/mlp_extras.py): every
layer, loss and training step against torch.autograd, torch.nn and torch.optim in float64, numerical
gradient checks, real-data scores and input errors."""

import functools
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from solutions import mlp, mlp_extras
from solutions.datasets import load_diabetes, load_digits, make_regression
from solutions.device import default_device
from solutions.gradcheck import check_layer, check_loss
from tests.helpers import randn

F64 = torch.float64
TIGHT = {"rtol": 1e-12, "atol": 1e-12}  # one formula against another: only rounding may differ
SHAPES = [(1, 1), (1, 6), (5, 3), (64, 17)]


def autograd_vjp(fn, x: torch.Tensor, grad_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(fn(x), (∂fn/∂x)ᵀ grad_out)`` by torch.autograd (``.backward``, so that the parameters of a
    torch.nn module ``fn`` get their ``.grad`` too)."""
    x = x.detach().clone().requires_grad_(True)
    out = fn(x)
    out.backward(grad_out)
    return out.detach(), x.grad


# (our layer, the torch.nn twin): torch's modules are the yardstick for values and subgradients.
ACTIVATIONS = {
    "relu": (mlp.ReLU, nn.ReLU),
    "leaky_relu": (mlp_extras.LeakyReLU, nn.LeakyReLU),
    "leaky_relu(0.2)": (lambda: mlp_extras.LeakyReLU(0.2), lambda: nn.LeakyReLU(0.2)),
    "sigmoid": (mlp.Sigmoid, nn.Sigmoid),
    "tanh": (mlp.Tanh, nn.Tanh),
    "elu": (mlp_extras.ELU, nn.ELU),
    "elu(2.5)": (lambda: mlp_extras.ELU(2.5), lambda: nn.ELU(2.5)),
    "softplus": (mlp_extras.Softplus, nn.Softplus),
    "softplus(2, 5)": (lambda: mlp_extras.Softplus(2.0, 5.0), lambda: nn.Softplus(2.0, 5.0)),
    "softsign": (mlp_extras.Softsign, nn.Softsign),
    "gelu": (mlp_extras.GELU, nn.GELU),
    "identity": (mlp.Identity, nn.Identity),
}

# Large inputs, the kinks at 0 (both signed zeros) and the edges of softplus's threshold.
EXTREMES = [
    -1e4,
    -800.0,
    -50.0,
    -20.0,
    -1e-8,
    -0.0,
    0.0,
    1e-8,
    2.5,
    10.0,
    20.0,
    20.5,
    50.0,
    800.0,
    1e4,
]


# --------------------------------------------------------------------------------------------------
# Activations against torch.nn (autograd) in float64
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_equals_autograd(name, shape, device, rng):
    ours, theirs = ACTIVATIONS[name][0](), ACTIVATIONS[name][1]()
    x = 3 * randn(*shape, generator=rng, device=device)
    g = randn(*shape, generator=rng, device=device)
    expected_out, expected_grad = autograd_vjp(theirs, x, g)
    out = ours.forward(x)
    grad = ours.backward(g.clone())
    assert out.shape == x.shape and out.dtype == F64 and out.device == x.device
    torch.testing.assert_close(out, expected_out, **TIGHT)
    torch.testing.assert_close(grad, expected_grad, **TIGHT)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_equals_autograd_at_extremes_and_zero(name, device):
    ours, theirs = ACTIVATIONS[name][0](), ACTIVATIONS[name][1]()
    x = torch.tensor([EXTREMES, [-v for v in EXTREMES]], dtype=F64).to(device)
    g = torch.linspace(0.5, 2.0, x.numel(), dtype=F64).reshape(x.shape).to(device)
    expected_out, expected_grad = autograd_vjp(theirs, x, g)
    out, grad = ours.forward(x), ours.backward(g.clone())
    assert torch.isfinite(out).all() and torch.isfinite(grad).all()
    torch.testing.assert_close(out, expected_out, **TIGHT)
    torch.testing.assert_close(grad, expected_grad, **TIGHT)


# f'(0) as documented in each class, which is PyTorch's choice at the kinks.
DERIVATIVE_AT_ZERO = {
    "relu": 0.0,
    "leaky_relu": 0.01,
    "leaky_relu(0.2)": 0.2,
    "sigmoid": 0.25,
    "tanh": 1.0,
    "elu": 1.0,
    "elu(2.5)": 2.5,
    "softplus": 0.5,
    "softplus(2, 5)": 0.5,
    "softsign": 1.0,
    "gelu": 0.5,
    "identity": 1.0,
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_subgradient_at_exactly_zero_is_pytorchs(name, device):
    ours, theirs = ACTIVATIONS[name][0](), ACTIVATIONS[name][1]()
    x = torch.tensor([[0.0, -0.0]], dtype=F64, device=device)
    ones = torch.ones_like(x)
    _, expected = autograd_vjp(theirs, x, ones)
    ours.forward(x)
    got = ours.backward(ones.clone())
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    torch.testing.assert_close(got, torch.full_like(x, DERIVATIVE_AT_ZERO[name]), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_backward_from_the_output_leaves_grad_output_and_is_float32_accurate(name):
    # The derivative from the stored output y, as the lecture writes it: σ' = y(1 − y),
    # tanh' = 1 − y². In float32 each is within a few rounding errors of the same formula in
    # float64 from the same y, relative to the gradient's scale (where tanh saturates, 1 − y·y
    # cancels: its relative error grows, its absolute error stays ~eps).
    layer = ACTIVATIONS[name][0]()
    x = torch.linspace(-9.0, 9.0, 20_001, dtype=torch.float32)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float32)
    y = layer.forward(x).double()
    exact = g.double() * ((1 - y) * (1 + y) if name == "tanh" else y * (1 - y))
    buffer = g.clone()
    got = layer.backward(buffer)
    assert torch.equal(buffer, g), "backward leaves grad_output as it is"
    eps = torch.finfo(torch.float32).eps
    torch.testing.assert_close(
        got.double(), exact, rtol=4 * eps, atol=4 * eps * float(g.abs().max())
    )


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu", "elu", "softplus"])
def test_activations_keep_float32(name, rng):
    layer = ACTIVATIONS[name][0]()
    x = randn(4, 3, generator=rng, dtype=torch.float32)
    assert layer.forward(x).dtype == torch.float32
    assert layer.backward(torch.ones_like(x)).dtype == torch.float32


# --------------------------------------------------------------------------------------------------
# Linear against autograd and torch.nn.Linear
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("n,d_in,d_out", [(1, 1, 1), (1, 5, 3), (7, 4, 6), (64, 20, 10)])
def test_linear_equals_autograd(n, d_in, d_out, bias, device, rng):
    layer = mlp.Linear(d_in, d_out, bias=bias, init="he", generator=rng, device=device, dtype=F64)
    x, g = (
        randn(n, d_in, generator=rng, device=device),
        randn(n, d_out, generator=rng, device=device),
    )
    twin = nn.Linear(d_in, d_out, bias=bias, device=device, dtype=F64)
    with torch.no_grad():
        twin.weight.copy_(layer.W.T)  # torch.nn.Linear stores (out, in) = Wᵀ
        if bias:
            twin.bias.copy_(layer.b)
    expected_out, expected_dx = autograd_vjp(twin, x, g)
    out = layer.forward(x)
    dx = layer.backward(g.clone())
    torch.testing.assert_close(out, expected_out, **TIGHT)
    torch.testing.assert_close(dx, expected_dx, **TIGHT)
    torch.testing.assert_close(layer.dW, twin.weight.grad.T, **TIGHT)
    if bias:
        torch.testing.assert_close(layer.db, twin.bias.grad, **TIGHT)
    assert [p.shape for p in layer.parameters()] == [g.shape for g in layer.gradients()]
    assert len(layer.parameters()) == (2 if bias else 1)


def test_linear_backward_overwrites_and_zero_grad_zeroes(rng):
    layer = mlp.Linear(4, 3, generator=rng, device="cpu", dtype=F64)
    x, g = randn(5, 4, generator=rng), randn(5, 3, generator=rng)
    grads = layer.gradients()
    layer.forward(x)
    layer.backward(g.clone())
    first = [t.clone() for t in grads]
    layer.forward(x)
    layer.backward(g.clone())
    assert all(torch.equal(a, b) for a, b in zip(first, layer.gradients(), strict=True))  # not 2×
    assert all(a is b for a, b in zip(grads, layer.gradients(), strict=True))  # same tensors
    assert layer.backward(g, need_input_grad=False) is None
    layer.zero_grad()
    assert all(bool((t == 0).all()) for t in layer.gradients())


# --------------------------------------------------------------------------------------------------
# Losses against torch.nn.functional (autograd)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1,), (1, 1), (9, 1), (6, 4)])
def test_mse_loss_equals_autograd(shape, device, rng):
    pred, target = (
        randn(*shape, generator=rng, device=device),
        randn(*shape, generator=rng, device=device),
    )
    expected, expected_grad = autograd_vjp(
        lambda p: F.mse_loss(p, target), pred, torch.tensor(1.0, dtype=F64, device=device)
    )
    loss = mlp.MSELoss()
    value = loss.forward(pred, target)
    assert value.shape == ()
    torch.testing.assert_close(value, expected, **TIGHT)
    torch.testing.assert_close(loss.backward(), expected_grad, **TIGHT)


def _binary_targets(shape, rng, device):
    """Labels 0/1 in the first half of the elements, probabilities in (0, 1) in the rest."""
    t = torch.rand(*shape, generator=rng, dtype=F64).flatten()
    t[: t.numel() // 2 + 1] = t[: t.numel() // 2 + 1].round()
    return t.reshape(shape).to(device)


@pytest.mark.parametrize("shape", [(1,), (1, 1), (9, 1), (6, 4)])
@pytest.mark.parametrize("scale", [3.0, 1e4])
def test_bce_with_logits_equals_autograd(shape, scale, device, rng):
    z = scale * randn(*shape, generator=rng, device=device)
    target = _binary_targets(shape, rng, device)
    one = torch.tensor(1.0, dtype=F64, device=device)
    expected, expected_grad = autograd_vjp(
        lambda p: F.binary_cross_entropy_with_logits(p, target), z, one
    )
    loss = mlp_extras.BCEWithLogitsLoss()
    value = loss.forward(z, target)
    grad = loss.backward()
    assert torch.isfinite(value) and torch.isfinite(grad).all()
    torch.testing.assert_close(value, expected, **TIGHT)
    torch.testing.assert_close(grad, expected_grad, **TIGHT)


@pytest.mark.parametrize("n,k", [(1, 1), (1, 4), (8, 3), (64, 10)])
@pytest.mark.parametrize("scale", [3.0, 1e4])
def test_cross_entropy_equals_autograd(n, k, scale, device, rng):
    logits = scale * randn(n, k, generator=rng, device=device)
    labels = torch.randint(k, (n,), generator=rng).to(device)
    one = torch.tensor(1.0, dtype=F64, device=device)
    expected, expected_grad = autograd_vjp(lambda z: F.cross_entropy(z, labels), logits, one)
    loss = mlp_extras.CrossEntropyLoss()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    assert torch.isfinite(value) and torch.isfinite(grad).all()
    torch.testing.assert_close(value, expected, **TIGHT)
    torch.testing.assert_close(grad, expected_grad, **TIGHT)


def test_losses_at_plus_minus_1e4_are_exact(device):
    """A confident right answer costs 0, a confident wrong one costs 1e4, as in exact arithmetic."""
    z = torch.tensor([[1e4, -1e4], [-1e4, 1e4]], dtype=F64, device=device)
    labels = torch.tensor([0, 0], device=device)
    ce = mlp_extras.CrossEntropyLoss()
    assert float(ce.forward(z, labels)) == pytest.approx(1e4)  # (0 + 2e4) / 2
    torch.testing.assert_close(
        ce.backward(), torch.tensor([[0.0, 0.0], [-0.5, 0.5]], dtype=F64, device=device)
    )
    bce = mlp_extras.BCEWithLogitsLoss()
    value = bce.forward(z[:, 0], torch.tensor([1.0, 1.0], dtype=F64, device=device))
    assert float(value) == pytest.approx(5e3)  # (0 + 1e4) / 2


# --------------------------------------------------------------------------------------------------
# Numerical gradient checks (homework 4's check_layer / check_loss)
# --------------------------------------------------------------------------------------------------


def _away_from_kinks(x: torch.Tensor) -> torch.Tensor:
    """Move entries out of (−0.05, 0.05): central differences across a kink are not derivatives."""
    return x + 0.1 * x.sign()


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_check_layer_passes_every_activation(name, rng):
    x = _away_from_kinks(2 * randn(4, 3, generator=rng))
    result = check_layer(ACTIVATIONS[name][0](), x)
    assert result, str(result)


@pytest.mark.parametrize("init", mlp.INITS)
@pytest.mark.parametrize("bias", [True, False])
def test_check_layer_passes_linear(init, bias, rng):
    layer = mlp.Linear(5, 3, bias=bias, init=init, generator=rng, device="cpu", dtype=F64)
    result = check_layer(layer, randn(4, 5, generator=rng))
    assert result, str(result)
    assert len(result.checks) == (3 if bias else 2)


def test_check_layer_passes_a_whole_network(rng):
    net = mlp.Sequential(
        mlp.Linear(4, 6, init="xavier", generator=rng, device="cpu", dtype=F64),
        mlp.Tanh(),
        mlp.Linear(6, 5, init="xavier", generator=rng, device="cpu", dtype=F64),
        mlp_extras.GELU(),
        mlp.Linear(5, 2, init="xavier", generator=rng, device="cpu", dtype=F64),
    )
    result = check_layer(net, randn(3, 4, generator=rng))
    assert result, str(result)
    assert len(result.checks) == 1 + 6  # x and W1, b1, W2, b2, W3, b3


def test_check_loss_passes_every_loss(rng):
    pred = randn(5, 3, generator=rng)
    assert check_loss(mlp.MSELoss(), pred, randn(5, 3, generator=rng))
    assert check_loss(mlp_extras.BCEWithLogitsLoss(), pred, _binary_targets((5, 3), rng, "cpu"))
    assert check_loss(mlp_extras.CrossEntropyLoss(), pred, torch.tensor([0, 2, 1, 1, 0]))


# --------------------------------------------------------------------------------------------------
# A whole network against an equivalent torch.nn model with copied weights
# --------------------------------------------------------------------------------------------------


def torch_twin(net: mlp.Sequential) -> nn.Sequential:
    """The same network as torch.nn modules, with the weights copied (nn.Linear.weight = Wᵀ)."""
    modules = []
    for layer in net:
        if isinstance(layer, mlp.Linear):
            W = layer.W
            twin = nn.Linear(*W.shape, bias=layer.b is not None, device=W.device, dtype=W.dtype)
            with torch.no_grad():
                twin.weight.copy_(W.T)
                if layer.b is not None:
                    twin.bias.copy_(layer.b)
            modules.append(twin)
        else:
            name = next(k for k, (ours, _) in ACTIVATIONS.items() if ours is type(layer))
            modules.append(ACTIVATIONS[name][1]())
    return nn.Sequential(*modules)


def torch_grads_in_our_order(model: nn.Sequential) -> list[torch.Tensor]:
    grads = []
    for module in model:
        if isinstance(module, nn.Linear):
            grads.append(module.weight.grad.T)
            if module.bias is not None:
                grads.append(module.bias.grad)
    return grads


def make_net(sizes, activation, generator, device, init="xavier") -> mlp.Sequential:
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        if i > 0:
            layers.append(ACTIVATIONS[activation][0]())
        layers.append(mlp.Linear(a, b, init=init, generator=generator, device=device, dtype=F64))
    return mlp.Sequential(*layers)


@pytest.mark.parametrize("n", [1, 16])
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "elu", "softplus", "leaky_relu"])
@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy", "bce"])
def test_sequential_gradients_equal_torch_nn(activation, loss_name, n, device, rng):
    sizes = (7, 12, 9, 3)
    net = make_net(sizes, activation, rng, device)
    model = torch_twin(net)
    X = randn(n, sizes[0], generator=rng, device=device)
    if loss_name == "cross_entropy":
        target = torch.randint(sizes[-1], (n,), generator=rng).to(device)
        ours, theirs = mlp_extras.CrossEntropyLoss(), F.cross_entropy
    elif loss_name == "bce":
        target = _binary_targets((n, sizes[-1]), rng, device)
        ours, theirs = mlp_extras.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits
    else:
        target = randn(n, sizes[-1], generator=rng, device=device)
        ours, theirs = mlp.MSELoss(), F.mse_loss
    expected_loss = theirs(model(X), target)
    expected_loss.backward()
    loss = ours.forward(net.forward(X), target)
    assert net.backward(ours.backward(), need_input_grad=False) is None
    torch.testing.assert_close(loss, expected_loss.detach(), **TIGHT)
    assert len(net.gradients()) == len(net.parameters()) == 6
    for got, expected in zip(net.gradients(), torch_grads_in_our_order(model), strict=True):
        torch.testing.assert_close(got, expected, **TIGHT)


def test_sequential_input_gradient_equals_autograd(device, rng):
    net = make_net((5, 8, 4), "tanh", rng, device)
    x, g = randn(3, 5, generator=rng, device=device), randn(3, 4, generator=rng, device=device)
    _, expected = autograd_vjp(torch_twin(net), x, g)
    net.forward(x)
    torch.testing.assert_close(net.backward(g.clone()), expected, **TIGHT)


# --------------------------------------------------------------------------------------------------
# Training: k steps of MLPRegressor / MLPClassifier = k steps of the torch.nn twin under torch.optim
# --------------------------------------------------------------------------------------------------


def initial_network(n_in, hidden, n_out, activation, init, seed, device):
    """``(network, generator)``: the network the estimators start from with ``random_state=seed``,
    built as their docstring says (one CPU generator, the Linear layers drawn in order), and that
    generator, ready to draw the epochs' permutations."""
    g = torch.Generator().manual_seed(seed)
    return make_net((n_in, *hidden, n_out), activation, g, device, init=init), g


def run_torch(model, X, target, loss_fn, optimizer, epochs, batch_size, generator) -> list[float]:
    """Train the torch twin as the estimators do; return the loss before each full-batch step."""
    n, losses = X.shape[0], []
    for _ in range(epochs):
        if batch_size is None:
            batches = [slice(None)]
        else:
            order = torch.randperm(n, generator=generator).to(X.device)
            batches = [order[s : s + batch_size] for s in range(0, n, batch_size)]
        for batch in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(X[batch]), target[batch])
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
    return losses


def torch_params_in_our_order(model: nn.Sequential) -> list[torch.Tensor]:
    out = []
    for module in model:
        if isinstance(module, nn.Linear):
            out += [module.weight.detach().T, module.bias.detach()]
    return out


# id: (what the estimator gets, the torch.optim twin). None is the estimator's own p ← p − lr·g.
OPTIMIZERS = {
    "none-vs-SGD": (None, torch.optim.SGD),
    "Adam": (torch.optim.Adam, torch.optim.Adam),
    "partial-SGD-nesterov": (
        functools.partial(torch.optim.SGD, momentum=0.9, nesterov=True),
        functools.partial(torch.optim.SGD, momentum=0.9, nesterov=True),
    ),
}


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("opt_name", OPTIMIZERS)
def test_regressor_steps_equal_torch(opt_name, batch_size, device):
    X, y, _, _ = make_regression(50, 4, noise=0.5, seed=3, device=device)
    ours_opt, torch_opt = OPTIMIZERS[opt_name]
    lr, epochs, seed = 0.01, 6, 7
    net, g = initial_network(4, (10, 8), 1, "relu", "he", seed, device)
    model = torch_twin(net)
    expected = run_torch(
        model,
        X,
        y[:, None],
        F.mse_loss,
        torch_opt(model.parameters(), lr=lr),
        epochs,
        batch_size,
        g,
    )

    est = mlp.MLPRegressor((10, 8), lr, epochs, "relu", batch_size, ours_opt, seed, init="he")
    assert est.train(X, y) is est
    for got, want in zip(est.parameters(), torch_params_in_our_order(model), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    assert est.loss_history_.shape == (epochs + 1,)
    if batch_size is None:  # loss_history_[k] is the loss before step k
        torch.testing.assert_close(
            est.loss_history_[:-1].cpu(), torch.tensor(expected, dtype=F64), rtol=1e-10, atol=0
        )
    final = F.mse_loss(model(X), y[:, None])
    torch.testing.assert_close(est.loss_history_[-1], final.detach(), rtol=1e-10, atol=0)


@pytest.mark.parametrize("batch_size", [None, 8])
def test_classifier_steps_equal_torch(batch_size, device, rng):
    X = randn(40, 5, generator=rng, device=device)
    labels = torch.randint(3, (40,), generator=rng).to(device)
    lr, epochs, seed = 0.1, 5, 11
    net, g = initial_network(5, (12,), 3, "tanh", "xavier", seed, device)
    model = torch_twin(net)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    run_torch(model, X, labels, F.cross_entropy, opt, epochs, batch_size, g)
    est = mlp_extras.MLPClassifier(
        (12,),
        lr,
        epochs,
        "tanh",
        batch_size,
        functools.partial(torch.optim.SGD, momentum=0.5),
        seed,
    ).train(X, labels)
    for got, want in zip(est.parameters(), torch_params_in_our_order(model), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(
        est.predict_proba(X), torch.softmax(model(X), dim=1).detach(), **TIGHT
    )


def test_initial_weights_follow_the_documented_seeding(device):
    X, y, _, _ = make_regression(20, 3, seed=0, device=device)
    est = mlp.MLPRegressor((6, 5), max_iter=0, random_state=4, activation="tanh").train(X, y)
    net, _ = initial_network(3, (6, 5), 1, "tanh", "xavier", 4, device)  # "auto" = xavier for tanh
    for got, want in zip(est.parameters(), net.parameters(), strict=True):
        assert torch.equal(got, want)
    relu = mlp.MLPRegressor((6,), max_iter=0, random_state=4).train(X, y)  # "auto" = he for relu
    net, _ = initial_network(3, (6,), 1, "relu", "he", 4, device)
    assert torch.equal(relu.parameters()[0], net.parameters()[0])


def test_seeded_runs_are_deterministic(device):
    X, y, _, _ = make_regression(60, 4, seed=1, device=device)

    def run(seed):
        return mlp.MLPRegressor((8,), 0.01, 5, batch_size=7, random_state=seed).train(X, y)

    a, b, c = run(3), run(3), run(4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert torch.equal(a.loss_history_, b.loss_history_)
    assert not torch.equal(a.parameters()[0], c.parameters()[0])


def test_linear_same_seed_same_weights_on_every_device(device):
    a = mlp.Linear(
        30, 20, init="xavier", generator=torch.Generator().manual_seed(5), device="cpu", dtype=F64
    )
    b = mlp.Linear(
        30, 20, init="xavier", generator=torch.Generator().manual_seed(5), device=device, dtype=F64
    )
    assert b.W.device.type == device.type
    assert torch.equal(a.W, b.W.cpu())


def test_linear_defaults_follow_torch_conventions():
    layer = mlp.Linear(3, 2)
    assert layer.W.dtype == torch.get_default_dtype()
    assert layer.W.device.type == default_device().type
    assert layer.b is not None and bool((layer.b == 0).all())


# --------------------------------------------------------------------------------------------------
# Initial weight distributions (statistical checks on a large layer, loose tolerances)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "init, std",
    [
        ("normal", 0.1),
        ("he", math.sqrt(2.0 / 400)),
        ("xavier", math.sqrt(6.0 / (400 + 600)) / math.sqrt(3.0)),  # U(−a, a) has std a/√3
    ],
)
def test_init_has_the_documented_distribution(init, std):
    layer = mlp.Linear(
        400, 600, init=init, generator=torch.Generator().manual_seed(0), device="cpu", dtype=F64
    )
    W = layer.W
    assert W.shape == (400, 600) and bool((layer.b == 0).all())
    # 240 000 samples: the sample std is within ~0.3 % of the true one, the mean within ~0.002 std.
    assert float(W.std()) == pytest.approx(std, rel=0.02)
    assert abs(float(W.mean())) < 0.01 * std
    if init == "xavier":
        a = math.sqrt(6.0 / 1000)
        assert float(W.abs().max()) <= a and float(W.abs().max()) > 0.99 * a
    else:  # normal: about 0.27 % of the samples beyond 3 std
        assert float((W.abs() > 3 * std).double().mean()) == pytest.approx(0.0027, abs=0.001)


# --------------------------------------------------------------------------------------------------
# Real data: stated test scores
# --------------------------------------------------------------------------------------------------


def r2_score(y, y_pred) -> float:
    return float(1 - ((y - y_pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def test_regressor_on_diabetes(device):
    """100 ReLU units (He init), full-batch gradient descent, lr = 0.001, 100 epochs, random_state=0.

    Measured: test R² = 0.462 (train 0.580); seeds 1 and 2 give 0.454 and 0.464. The closed-form
    linear regression gets 0.482 on this split: with 354 training rows an MLP has little to add, and
    longer training overfits (1000 epochs: test 0.41, train 0.70).
    """
    X_train, X_test, y_train, y_test = load_diabetes(device=device)
    est = mlp.MLPRegressor((100,), learning_rate=0.001, max_iter=100, random_state=0).fit(
        X_train, y_train
    )
    pred = est.predict(X_test)
    assert pred.shape == y_test.shape and pred.device == X_test.device
    assert r2_score(y_test, pred) >= 0.44
    losses = est.loss_history_
    assert float(losses[-1]) < 0.2 * float(losses[0])


def test_classifier_on_digits(device):
    """100 ReLU units (He init), torch.optim.Adam, lr = 0.01, mini-batches of 64, 10 epochs,
    random_state=0.

    Measured: test accuracy 0.983 (train 0.985); seeds 1..4 give 0.983, 0.989, 0.992, 0.989.
    Full-batch gradient descent (lr = 0.5, 200 epochs) reaches 0.986 too, with 20× more passes
    over the data.
    """
    X_train, X_test, y_train, y_test = load_digits(device=device)
    est = mlp_extras.MLPClassifier(
        (100,),
        learning_rate=0.01,
        max_iter=10,
        batch_size=64,
        optimizer=torch.optim.Adam,
        random_state=0,
    ).train(X_train, y_train)
    labels = est.predict(X_test)
    assert labels.dtype == torch.int64 and labels.shape == y_test.shape
    assert float((labels == y_test).double().mean()) >= 0.97
    proba = est.predict_proba(X_test)
    assert proba.shape == (len(y_test), 10)
    torch.testing.assert_close(proba.sum(dim=1), torch.ones(len(y_test), dtype=F64, device=device))
    assert torch.equal(est.classes_, torch.arange(10, device=device))


def test_classifier_maps_arbitrary_labels(rng):
    X = randn(30, 2, generator=rng)
    y = torch.where(X[:, 0] > 0, 5, -1)  # labels −1 and 5, separable
    est = mlp_extras.MLPClassifier((8,), learning_rate=0.5, max_iter=100, random_state=0).train(
        X, y
    )
    assert est.classes_.tolist() == [-1, 5]
    assert torch.equal(est.predict(X), y)
    assert est.predict_proba(X).shape == (30, 2)


def test_numpy_inputs_and_column_targets():
    X, y, _, _ = make_regression(30, 3, seed=2, device="cpu")
    a = mlp.MLPRegressor((5,), 0.01, 3, random_state=0, device="cpu").train(
        X.numpy(), y.numpy()[:, None]
    )
    b = mlp.MLPRegressor((5,), 0.01, 3, random_state=0).train(X, y)
    assert torch.equal(a.predict(X.numpy()), b.predict(X))
    assert a.predict(X).shape == (30,)


def test_hidden_layer_sizes_variants():
    X, y, _, _ = make_regression(20, 3, seed=2, device="cpu")
    linear = mlp.MLPRegressor((), 0.01, 2, random_state=0).train(X, y)
    assert [tuple(p.shape) for p in linear.parameters()] == [(3, 1), (1,)]
    deep = mlp.MLPRegressor(7, 0.01, 2, random_state=0).train(X, y)  # an int means (7,)
    assert [tuple(p.shape) for p in deep.parameters()] == [(3, 7), (7,), (7, 1), (1,)]


def test_divergence_warns():
    X, y, _, _ = make_regression(40, 3, seed=0, device="cpu")
    with pytest.warns(RuntimeWarning, match="diverged.*learning_rate"):
        mlp.MLPRegressor((10,), learning_rate=10.0, max_iter=20, random_state=0).train(X, 100 * y)


# --------------------------------------------------------------------------------------------------
# Bad input: ValueError naming the argument (and its shape)
# --------------------------------------------------------------------------------------------------


def test_linear_rejects_bad_input(rng):
    layer = mlp.Linear(4, 3, device="cpu", dtype=F64)
    with pytest.raises(ValueError, match=r"backward called before forward"):
        layer.backward(torch.ones(2, 3, dtype=F64))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 4\).*got shape \(5, 3\)"):
        layer.forward(torch.ones(5, 3, dtype=F64))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 4\).*got shape \(4,\)"):
        layer.forward(torch.ones(4, dtype=F64))
    with pytest.raises(ValueError, match=r"x \(shape \(5, 4\), float32.*float64"):
        layer.forward(torch.ones(5, 4))
    with pytest.raises(ValueError, match=r"x must be a torch.Tensor"):
        layer.forward(np.ones((5, 4)))
    layer.forward(torch.ones(5, 4, dtype=F64))
    with pytest.raises(
        ValueError, match=r"grad_output must have shape \(5, 3\).*got shape \(5, 4\)"
    ):
        layer.backward(torch.ones(5, 4, dtype=F64))
    with pytest.raises(
        ValueError, match=r"init must be one of 'normal', 'xavier', 'he'; got 'glorot'"
    ):
        mlp.Linear(4, 3, init="glorot")
    with pytest.raises(ValueError, match=r"out_features must be an integer >= 1, got 0"):
        mlp.Linear(4, 0)
    with pytest.raises(ValueError, match=r"dtype must be a floating torch dtype"):
        mlp.Linear(4, 3, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"Tanh.backward called before forward"):
        mlp.Tanh().backward(torch.ones(2))


def test_losses_reject_bad_input():
    pred = torch.zeros(5, 1, dtype=F64)
    with pytest.raises(
        ValueError, match=r"target must have the shape of pred \(5, 1\), got shape \(5,\).*reshape"
    ):
        mlp.MSELoss().forward(pred, torch.zeros(5, dtype=F64))
    with pytest.raises(
        ValueError, match=r"target \(shape \(5, 1\), float32.*dtype and device of pred"
    ):
        mlp_extras.BCEWithLogitsLoss().forward(pred, torch.zeros(5, 1))
    with pytest.raises(ValueError, match=r"MSELoss.backward called before forward"):
        mlp.MSELoss().backward()
    ce = mlp_extras.CrossEntropyLoss()
    logits = torch.zeros(4, 3, dtype=F64)
    with pytest.raises(
        ValueError, match=r"target must be an integer tensor of class labels.*float64"
    ):
        ce.forward(logits, torch.zeros(4, dtype=F64))
    with pytest.raises(ValueError, match=r"target must hold class labels in 0..2"):
        ce.forward(logits, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"target must have shape \(4,\).*got shape \(4, 1\)"):
        ce.forward(logits, torch.zeros(4, 1, dtype=torch.int64))
    with pytest.raises(
        ValueError, match=r"pred must be a floating-point \(n, k\) tensor.*shape \(3,\)"
    ):
        ce.forward(torch.zeros(3, dtype=F64), torch.tensor([0, 1, 2]))


def test_estimators_reject_bad_input():
    X, y, _, _ = make_regression(10, 3, seed=0, device="cpu")
    reg = mlp.MLPRegressor((4,), random_state=0)
    with pytest.raises(ValueError, match=r"not trained yet: call train\(X, y\) first"):
        reg.predict(X)
    with pytest.raises(ValueError, match=r"not trained yet"):
        reg.parameters()
    with pytest.raises(ValueError, match=r"X must be 2-D.*shape \(10,\)"):
        reg.train(X[:, 0], y)
    X_nan = X.clone()
    X_nan[2, 1] = float("nan")
    with pytest.raises(ValueError, match=r"X \(shape \(10, 3\).*1 NaN.*index \(2, 1\)"):
        reg.train(X_nan, y)
    with pytest.raises(ValueError, match=r"y must have shape \(10,\) to match X, got shape \(9,\)"):
        reg.train(X, y[:9])
    with pytest.raises(ValueError, match=r"y must have shape \(10,\).*got shape \(10, 2\)"):
        reg.train(X, torch.stack([y, y], dim=1))
    y_nan = y.clone()
    y_nan[0] = float("inf")
    with pytest.raises(ValueError, match=r"y \(shape \(10,\).*infinite"):
        reg.train(X, y_nan)
    with pytest.raises(ValueError, match=r"X must be real"):
        reg.train(X.to(torch.complex128), y)
    reg.train(X, y)
    with pytest.raises(ValueError, match=r"X has 2 features \(shape \(10, 2\).*trained on 3"):
        reg.predict(X[:, :2])
    with pytest.raises(ValueError, match=r"X \(shape \(1, 3\).*NaN"):
        reg.predict(X_nan[2:3])

    clf = mlp_extras.MLPClassifier((4,), random_state=0)
    with pytest.raises(
        ValueError, match=r"y must hold integer class labels, got shape \(10,\), float64"
    ):
        clf.train(X, (y > 0).double())
    with pytest.raises(ValueError, match=r"at least two classes"):
        clf.train(X, torch.zeros(10, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"y must have shape \(10,\) to match X, got shape \(8,\)"):
        clf.train(X, torch.zeros(8, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"not trained yet"):
        clf.predict_proba(X)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"activation": "swish"}, r"activation must be one of 'relu', .*got 'swish'"),
        ({"learning_rate": -0.1}, r"learning_rate must be a positive finite number, got -0.1"),
        ({"learning_rate": 0}, r"learning_rate must be a positive finite number, got 0"),
        (
            {"hidden_layer_sizes": (10, 0)},
            r"hidden_layer_sizes\[1\] must be an integer >= 1, got 0",
        ),
        ({"hidden_layer_sizes": "100"}, r"hidden_layer_sizes must be a tuple"),
        ({"max_iter": -1}, r"max_iter must be an integer >= 0, got -1"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"random_state": 1.5}, r"random_state must be an integer >= 0"),
        ({"init": "zeros"}, r"init must be 'auto' or one of"),
        ({"optimizer": "adam"}, r"optimizer must be an optimizer class"),
        ({"device": "tpu:0:1"}, r"device must be a torch.device"),
    ],
)
def test_estimators_reject_bad_hyper_parameters(kwargs, message):
    X, y, _, _ = make_regression(10, 3, seed=0, device="cpu")
    with pytest.raises(ValueError, match=message):
        mlp.MLPRegressor(**kwargs).train(X, y)


def test_optimizer_object_instead_of_class_is_refused():
    X, y, _, _ = make_regression(10, 3, seed=0, device="cpu")
    instance = torch.optim.SGD([torch.zeros(1)], lr=0.1)
    with pytest.raises(ValueError, match=r"not an optimizer object"):
        mlp.MLPRegressor(optimizer=instance).train(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a second device")
def test_tensor_on_another_device_is_refused():
    X, y, _, _ = make_regression(10, 3, seed=0, device="cpu")
    with pytest.raises(ValueError, match=r"X is on cpu but this model was asked to run on cuda"):
        mlp.MLPRegressor(device="cuda").train(X, y)
    est = mlp.MLPRegressor((4,), max_iter=1).train(X.cuda(), y.cuda())
    with pytest.raises(ValueError, match=r"X is on cpu but the data is on cuda"):
        est.predict(X)
