"""Homework 1 reference (solutions/linear_regression.py) against torch.autograd and the closed form."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from solutions import linear_regression as lr
from tests.helpers import randn

SHAPES = [(1, 1), (2, 3), (17, 5), (200, 1), (64, 12)]


def autograd_gradient(loss_fn, w: torch.Tensor) -> torch.Tensor:
    w = w.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_fn(w), w)
    return grad


# --------------------------------------------------------------------------------------------------
# Formulas against autograd (float64, several shapes, every device)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,d", SHAPES)
def test_mse_gradient_equals_autograd(n, d, device, rng):
    X, y, w = (
        randn(n, d, generator=rng, device=device),
        randn(n, generator=rng, device=device),
        randn(d, generator=rng, device=device),
    )
    expected = autograd_gradient(lambda w: F.mse_loss(X @ w, y), w)
    got = lr.mse_gradient(X, y, w)
    assert got.shape == (d,) and got.device == X.device and got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n,d", SHAPES)
def test_log_loss_gradient_equals_autograd(n, d, device, rng):
    X, w = randn(n, d, generator=rng, device=device), randn(d, generator=rng, device=device)
    y = (torch.rand(n, generator=rng, dtype=torch.float64) < 0.5).to(torch.float64).to(device)
    expected = autograd_gradient(lambda w: F.binary_cross_entropy_with_logits(X @ w, y), w)
    torch.testing.assert_close(lr.log_loss_gradient(X, y, w), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n,d", SHAPES)
def test_losses_equal_torch(n, d, device, rng):
    y_pred, y = randn(n, generator=rng, device=device), randn(n, generator=rng, device=device)
    torch.testing.assert_close(lr.mse(y_pred, y), F.mse_loss(y_pred, y), rtol=1e-14, atol=0)
    z = 3 * randn(n, generator=rng, device=device)
    labels = (z > 0.3).to(torch.float64)
    p = torch.sigmoid(z)
    torch.testing.assert_close(lr.log_loss(p, labels), F.binary_cross_entropy(p, labels))
    torch.testing.assert_close(
        lr.log_loss_from_logits(z, labels), F.binary_cross_entropy_with_logits(z, labels)
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sigmoid_is_stable_at_extremes(dtype, device):
    z = torch.tensor([-1e4, -800.0, -100.0, -1.0, 0.0, 1.0, 100.0, 800.0, 1e4], dtype=dtype).to(
        device
    )
    got = lr.sigmoid(z)
    assert torch.isfinite(got).all()
    rtol = 1e-6 if dtype == torch.float32 else 1e-15
    # atol: torch may flush σ(−100) ≈ 4e-44 to zero in float32 (a subnormal)
    torch.testing.assert_close(got, torch.sigmoid(z), rtol=rtol, atol=torch.finfo(dtype).tiny)
    assert got[0] == 0 and got[-1] == 1 and got[4] == 0.5


def test_log_loss_from_logits_is_exact_where_probabilities_saturate():
    z = torch.tensor([-1e4, 1e4, -40.0, 40.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    # each term is log(1 + e^|z|) ≈ |z|: a confident wrong answer costs its full margin, never inf
    torch.testing.assert_close(lr.log_loss_from_logits(z, y), z.abs().mean())
    torch.testing.assert_close(
        lr.log_loss_from_logits(z, y), F.binary_cross_entropy_with_logits(z, y), rtol=1e-15, atol=0
    )
    # with probabilities the same mistake is clipped at -log(eps) instead of becoming inf
    assert torch.isfinite(lr.log_loss(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0])))


def test_add_intercept(device):
    X = torch.arange(6, dtype=torch.float32, device=device).reshape(3, 2)
    Xa = lr.add_intercept(X)
    assert Xa.shape == (3, 3) and Xa.dtype == torch.float32 and Xa.device == X.device
    assert torch.equal(Xa[:, 0], torch.ones(3, device=device))
    assert torch.equal(Xa[:, 1:], X)


# --------------------------------------------------------------------------------------------------
# The lecture's worked example, exactly
# --------------------------------------------------------------------------------------------------


def test_lecture_worked_example():
    # y = w x + b with w = 1, b = 0, one sample x = 3, y = 7, η = 0.01, L = (y − ŷ)²
    X = lr.add_intercept(torch.tensor([[3.0]], dtype=torch.float64))  # row [1, 3]: w[0] is b
    y = torch.tensor([7.0], dtype=torch.float64)
    w0 = torch.tensor([0.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(
        lr.mse_gradient(X, y, w0), torch.tensor([-8.0, -24.0], dtype=torch.float64)
    )
    w, losses = lr.gradient_descent(X, y, lr=0.01, n_iter=1, w0=w0)
    torch.testing.assert_close(
        w, torch.tensor([0.08, 1.24], dtype=torch.float64), rtol=0, atol=1e-15
    )
    torch.testing.assert_close(
        losses, torch.tensor([16.0, 10.24], dtype=torch.float64), rtol=0, atol=1e-13
    )
    torch.testing.assert_close(X @ w, torch.tensor([3.8], dtype=torch.float64), rtol=0, atol=1e-15)
    assert torch.equal(w0, torch.tensor([0.0, 1.0], dtype=torch.float64)), "w0 must not be modified"


# --------------------------------------------------------------------------------------------------
# Closed form
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,d", [(5, 1), (30, 4), (500, 20)])
def test_normal_equation_equals_lstsq(n, d, device, rng):
    X = randn(n, d, generator=rng, device=device)
    y = randn(n, generator=rng, device=device)
    expected = torch.linalg.lstsq(X.cpu(), y.cpu().unsqueeze(1)).solution.squeeze(1).to(device)
    torch.testing.assert_close(lr.normal_equation(X, y), expected, rtol=1e-10, atol=1e-12)


def test_normal_equation_gradient_vanishes_at_solution(rng):
    X = lr.add_intercept(randn(100, 6, generator=rng))
    y = randn(100, generator=rng)
    w = lr.normal_equation(X, y)
    assert torch.linalg.vector_norm(lr.mse_gradient(X, y, w)) < 1e-12


@pytest.mark.parametrize(
    "make_X, cause",
    [
        (lambda X: torch.cat([X, X[:, :1]], dim=1), "singular"),  # duplicated feature
        (lambda X: lr.add_intercept(torch.cat([X, torch.full_like(X[:, :1], 5.0)], 1)), "singular"),
        (lambda X: torch.cat([X, X[:, :1] + 1e-8 * X[:, 1:2] ** 2], dim=1), "ill-conditioned"),
        (lambda X: X[:2], "rank"),  # fewer rows than columns
    ],
    ids=["duplicate column", "constant column + intercept", "near duplicate", "n < d"],
)
def test_normal_equation_names_the_cause(make_X, cause, rng):
    X = make_X(randn(50, 3, generator=rng))
    y = randn(X.shape[0], generator=rng)
    with pytest.raises(lr.IllConditionedError, match=cause) as info:
        lr.normal_equation(X, y)
    assert isinstance(info.value, ValueError)
    assert "lstsq" in str(info.value)


# --------------------------------------------------------------------------------------------------
# Gradient descent and SGD on the diabetes data
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def diabetes():
    from solutions.datasets import load_diabetes

    split = load_diabetes(device="cpu")
    X = lr.add_intercept(split.X_train)
    y = split.y_train
    w_star = lr.normal_equation(X, y)
    return X, y, w_star, lr.mse(X @ w_star, y)


def test_gradient_descent_reaches_closed_form_on_diabetes(diabetes):
    # Stated tolerance: 5000 steps of lr = 0.2 bring the training MSE within 1e-9 (relative) of the
    # closed-form optimum and every weight within 1e-3 of it (features standardised, MSE of order 3e3).
    X, y, w_star, best = diabetes
    w, losses = lr.gradient_descent(X, y, lr=0.2, n_iter=5000)
    assert losses.shape == (5001,)
    assert (losses[1:] <= losses[:-1] + 1e-9).all(), "GD on a convex quadratic must not go uphill"
    assert (losses[-1] - best) / best < 1e-9
    torch.testing.assert_close(w, w_star, rtol=0, atol=1e-3)


def test_gradient_descent_tol_stops_early(diabetes):
    X, y, w_star, _ = diabetes
    w, losses = lr.gradient_descent(X, y, lr=0.2, n_iter=100_000, tol=1e-6)
    assert len(losses) < 100_001
    assert torch.linalg.vector_norm(lr.mse_gradient(X, y, w)) <= 1e-6 * 1.0001
    torch.testing.assert_close(w, w_star, rtol=0, atol=1e-4)


def test_minibatch_sgd_reaches_closed_form_on_diabetes(diabetes):
    # Stated tolerance: 300 epochs of batch 32 at lr = 0.01 end within 1% of the optimal training MSE.
    X, y, _, best = diabetes
    gen = torch.Generator().manual_seed(0)
    _, losses = lr.minibatch_sgd(X, y, lr=0.01, n_epochs=300, batch_size=32, generator=gen)
    assert losses.shape == (301,)
    assert losses[-1] < 1.01 * best < 0.2 * losses[0]


def test_constant_rate_sgd_levels_off_where_gd_converges(diabetes):
    # Homework 1's written answer (b): with a constant rate, mini-batch SGD bounces at a noise floor
    # above the optimum (over its last 50 epochs it never gets within 0.1 of it and swings by more
    # than 10x), while full-batch GD at 0.95 of its stability limit converges to round-off.
    X, y, _, best = diabetes
    gen = torch.Generator().manual_seed(0)
    _, losses = lr.minibatch_sgd(X, y, lr=0.05, n_epochs=300, batch_size=32, generator=gen)
    tail = losses[-50:] - best
    assert tail.min() > 0.1 and tail.max() > 10 * tail.min()
    lr_max = 2 / float(torch.linalg.eigvalsh(2 * X.T @ X / X.shape[0])[-1])
    _, gd = lr.gradient_descent(X, y, lr=0.95 * lr_max, n_iter=4000)
    assert gd[-1] - best < 1e-9 * best


def test_minibatch_sgd_is_seeded(rng):
    X, y = randn(40, 3, generator=rng), randn(40, generator=rng)

    def run(seed):
        return lr.minibatch_sgd(X, y, 0.05, 3, 8, generator=torch.Generator().manual_seed(seed))[0]

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_minibatch_sgd_with_one_batch_is_gradient_descent(rng):
    X, y = randn(30, 4, generator=rng), randn(30, generator=rng)
    w_sgd, losses_sgd = lr.minibatch_sgd(X, y, 0.1, 7, batch_size=30)
    w_gd, losses_gd = lr.gradient_descent(X, y, 0.1, 7)
    torch.testing.assert_close(w_sgd, w_gd, rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(losses_sgd, losses_gd, rtol=1e-14, atol=1e-15)


def test_minibatch_step_uses_the_batch_mean(rng):
    # one epoch with batch_size=1 over a single row is exactly one GD step on that row
    X, y = randn(1, 3, generator=rng), randn(1, generator=rng)
    w, _ = lr.minibatch_sgd(X, y, 0.1, 1, batch_size=1)
    torch.testing.assert_close(w, -0.1 * lr.mse_gradient(X, y, torch.zeros(3, dtype=torch.float64)))


def test_divergence_warns_with_the_stable_range(rng):
    X, y = randn(50, 3, generator=rng), randn(50, generator=rng)
    with pytest.warns(RuntimeWarning, match="stability limit"):
        _, losses = lr.gradient_descent(X, y, lr=10.0, n_iter=50)
    assert losses[-1] > losses[0]


def test_noisy_sgd_below_the_limit_is_not_blamed_on_the_learning_rate():
    # y is nearly 0, so w = 0 starts almost at the optimum and batch-1 noise can only raise the
    # loss: the warning must say so, not that lr (half the full-batch limit) is too large
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 1.0, 5.0])
    y = 0.01 * torch.randn(40, generator=g, dtype=torch.float64)
    limit = 2 / float(torch.linalg.eigvalsh(2 * X.T @ X / 40)[-1])
    with pytest.warns(RuntimeWarning, match="mini-batch gradients are noisy") as record:
        _, losses = lr.minibatch_sgd(X, y, 0.5 * limit, 3, 1, torch.Generator().manual_seed(1))
    assert losses[-1] > losses[0]
    assert "exceeds" not in str(record[0].message)


def test_training_follows_device_and_dtype(device, rng):
    X = randn(20, 3, generator=rng, device=device, dtype=torch.float32)
    y = randn(20, generator=rng, device=device, dtype=torch.float32)
    for w, losses in [lr.gradient_descent(X, y, 0.1, 5), lr.minibatch_sgd(X, y, 0.1, 2, 4)]:
        assert w.device == X.device and losses.device == X.device
        assert w.dtype == losses.dtype == torch.float32


# --------------------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------------------


def test_linear_regression_recovers_noiseless_weights(device):
    from solutions.datasets import make_regression

    X, y, w_true, b_true = make_regression(200, 4, noise=0.0, seed=3, device=device)
    model = lr.LinearRegressionGD(learning_rate=0.1, max_iter=2000).fit(X, y)
    assert model.fit(X, y) is model
    torch.testing.assert_close(model.coef_, w_true, rtol=0, atol=1e-8)
    torch.testing.assert_close(
        model.intercept_, torch.as_tensor(b_true, dtype=X.dtype, device=device), rtol=0, atol=1e-8
    )
    assert model.loss_history_.shape == (2001,) and model.n_features_in_ == 4
    torch.testing.assert_close(model.predict(X), y, rtol=0, atol=1e-7)


def test_linear_regression_accepts_numpy_and_columns():
    gen = np.random.default_rng(0)
    X = gen.normal(size=(50, 2))
    y = X @ np.array([1.5, -2.0]) + 0.5
    a = lr.LinearRegressionGD(learning_rate=0.1, max_iter=500).fit(X, y)
    b = lr.LinearRegressionGD(learning_rate=0.1, max_iter=500).fit(X, y.reshape(-1, 1))
    assert torch.equal(a.coef_, b.coef_)
    assert a.predict(X).shape == (50,)
    torch.testing.assert_close(
        a.coef_, torch.tensor([1.5, -2.0], dtype=torch.float64), atol=1e-6, rtol=0
    )


def test_linear_regression_without_intercept():
    X = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
    y = torch.tensor([2.0, 4.0, 6.0], dtype=torch.float64) + 10.0
    model = lr.LinearRegressionGD(learning_rate=0.05, max_iter=1000, fit_intercept=False).fit(X, y)
    assert float(model.intercept_) == 0.0
    torch.testing.assert_close(model.coef_, lr.normal_equation(X, y))


def test_linear_regression_minibatch_is_seeded_and_converges():
    from solutions.datasets import make_regression

    X, y, w_true, _ = make_regression(300, 3, noise=0.01, seed=1)
    fit = lr.LinearRegressionGD(learning_rate=0.05, max_iter=40, batch_size=16, random_state=7).fit
    a, b = fit(X, y), fit(X, y)
    assert torch.equal(a.coef_, b.coef_)
    torch.testing.assert_close(a.coef_, w_true, rtol=0, atol=0.02)


def test_logistic_regression_on_breast_cancer():
    # Stated score: 2000 full-batch steps at lr = 0.5 on standardised features classify at least 95%
    # of the held-out 20% correctly (the linear boundary of lecture 1 is enough for this data).
    from solutions.datasets import load_breast_cancer

    data = load_breast_cancer(device="cpu")
    model = lr.LogisticRegressionGD(learning_rate=0.5, max_iter=2000).fit(
        data.X_train, data.y_train
    )
    accuracy = float((model.predict(data.X_test) == data.y_test).double().mean())
    assert accuracy >= 0.95
    p = model.predict_proba(data.X_test)
    assert p.shape == data.y_test.shape and bool(((p >= 0) & (p <= 1)).all())
    assert torch.equal(model.predict(data.X_test), (p >= 0.5).double())
    losses = model.loss_history_
    assert losses[0] == pytest.approx(np.log(2)) and losses[-1] < 0.1


def test_logistic_regression_matches_its_gradient_at_the_end(device):
    from solutions.datasets import make_classification

    X, y = make_classification(200, 2, separation=1.0, seed=0, device=device)
    model = lr.LogisticRegressionGD(learning_rate=1.0, max_iter=3000).fit(X, y)
    w = torch.cat([model.intercept_.reshape(1), model.coef_])
    assert torch.linalg.vector_norm(lr.log_loss_gradient(lr.add_intercept(X), y, w)) < 1e-6


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------


def test_bad_inputs_raise_value_errors_that_name_the_problem(rng):
    X, y, w = randn(10, 3, generator=rng), randn(10, generator=rng), randn(3, generator=rng)
    X_nan = X.clone()
    X_nan[4, 1] = float("nan")
    y_inf = y.clone()
    y_inf[2] = float("inf")
    cases = [
        (lambda: lr.mse_gradient(X_nan, y, w), r"X .*NaN.*\(4, 1\)"),
        (lambda: lr.gradient_descent(X, y_inf, 0.1, 10), r"y .*infinite"),
        (lambda: lr.gradient_descent(X, y, 0.0, 10), r"lr must be a positive"),
        (lambda: lr.gradient_descent(X, y, -1, 10), r"lr must be a positive"),
        (lambda: lr.gradient_descent(X, y, 0.1, -1), r"n_iter"),
        (lambda: lr.minibatch_sgd(X, y, 0.1, 1, 0), r"batch_size"),
        (lambda: lr.mse_gradient(X, y[:9], w), r"y must have shape \(10,\).*\(9,\)"),
        (lambda: lr.mse_gradient(X, y, w[:2]), r"w must have shape \(3,\).*columns of X"),
        (lambda: lr.mse_gradient(X[0], y, w), r"X must be 2-D.*\(3,\).*reshape"),
        (lambda: lr.normal_equation(X, y.reshape(-1, 1)), r"\(10, 1\).*broadcast"),
        (lambda: lr.mse(y, y[:3]), r"y must have shape \(10,\)"),
        (lambda: lr.log_loss_gradient(X, y, w), r"labels .* in \[0, 1\]"),
        (lambda: lr.add_intercept("not data"), r"X must be a torch.Tensor or a numpy array"),
        (lambda: lr.LinearRegressionGD(learning_rate=0).fit(X, y), r"learning_rate"),
        (lambda: lr.LinearRegressionGD().predict(X), r"not fitted yet"),
        (lambda: lr.LinearRegressionGD(max_iter=2).fit(X, y).predict(X[:, :2]), r"2 features.*3"),
        (lambda: lr.LogisticRegressionGD().fit(X, y), r"labels"),
    ]
    for call, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_mixed_devices_are_refused(rng):
    X, y = randn(10, 3, generator=rng, device="cuda"), randn(10, generator=rng)
    with pytest.raises(ValueError, match="y is on cpu but the data is on cuda"):
        lr.gradient_descent(X, y, 0.1, 3)
