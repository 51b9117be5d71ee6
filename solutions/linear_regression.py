"""Homework 1 reference: linear and logistic regression trained by gradient descent.

Notation of lecture 1. ``X: (n, d)`` holds one example per row. After :func:`add_intercept` its first
column is all ones, so the bias is ``w[0]`` and the model is simply ``ŷ = X w``.

    mean squared error      L(w) = 1/n (Xw − y)ᵀ(Xw − y)          ∇L = 2/n Xᵀ(Xw − y)
    closed form             w* = (XᵀX)⁻¹ Xᵀy                       (solved, never inverted)
    gradient descent        w ← w − η ∇L(w)
    logistic regression     p = σ(Xw),  L = −1/n Σ [y log p + (1 − y) log(1 − p)],  ∇L = 1/n Xᵀ(p − y)

Everything is raw tensor arithmetic (no autograd) and follows its inputs: pass CUDA tensors to compute
on the GPU, float64 tensors to compute in double precision. Numpy arrays are accepted and become tensors.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from ._validate import (
    as_float_tensor,
    as_matrix,
    as_targets,
    as_vector,
    check_count,
    check_positive,
    describe,
)

__all__ = [
    "IllConditionedError",
    "LinearRegressionGD",
    "LogisticRegressionGD",
    "add_intercept",
    "gradient_descent",
    "log_loss",
    "log_loss_from_logits",
    "log_loss_gradient",
    "minibatch_sgd",
    "mse",
    "mse_gradient",
    "normal_equation",
    "sigmoid",
]


# --------------------------------------------------------------------------------------------------
# Linear regression: loss, gradient, closed form
# --------------------------------------------------------------------------------------------------


def add_intercept(X) -> Tensor:
    """Prepend a column of ones, so that the bias becomes the weight ``w[0]``.

    X: (n, d)  ->  (n, d + 1), same dtype and device.
    """
    X = as_matrix(X, "X")
    ones = torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)
    return torch.cat([ones, X], dim=1)


def mse(y_pred, y) -> Tensor:
    """Mean squared error ``L = 1/n Σᵢ (ŷᵢ − yᵢ)²``.

    y_pred: (n,), y: (n,)  ->  0-d tensor.
    """
    y_pred = as_float_tensor(y_pred, "y_pred")
    if y_pred.ndim != 1:
        raise ValueError(f"y_pred must be 1-D (n,), got {describe(y_pred)}")
    y = as_vector(y, "y", y_pred.shape[0], like=y_pred, of="y_pred")
    residual = y_pred - y
    return residual @ residual / residual.shape[0]


def _mse_gradient(X: Tensor, y: Tensor, w: Tensor) -> Tensor:
    """``2/n Xᵀ(Xw − y)`` without input checks (the training loops call it once per step)."""
    residual = X @ w - y
    return (2.0 / X.shape[0]) * (X.T @ residual)


def _check_Xyw(X, y, w) -> tuple[Tensor, Tensor, Tensor]:
    X = as_matrix(X, "X")
    y = as_vector(y, "y", X.shape[0], like=X)
    w = as_vector(w, "w", X.shape[1], like=X, of="the columns of X")
    return X, y, w


def mse_gradient(X, y, w) -> Tensor:
    """Gradient of the mean squared error with respect to the weights.

    ``∇L(w) = 2/n Xᵀ(Xw − y)``

    X: (n, d), y: (n,), w: (d,)  ->  (d,).
    """
    X, y, w = _check_Xyw(X, y, w)
    return _mse_gradient(X, y, w)


class IllConditionedError(ValueError):
    """``XᵀX`` is singular, or too close to singular for the closed form to be trusted."""


def normal_equation(X, y) -> Tensor:
    """The closed-form least-squares solution ``w* = (XᵀX)⁻¹ Xᵀy``.

    The inverse is never formed. ``A = XᵀX`` is symmetric positive definite when the columns of X are
    independent, so it factors as ``A = LLᵀ`` (Cholesky, L lower triangular) and ``Aw = Xᵀy`` is solved
    by two triangular solves: ``Lz = Xᵀy``, then ``Lᵀw = z``. That costs n·d² for ``XᵀX`` plus d³/3,
    about half of a QR-based least squares, and is as accurate while XᵀX is well conditioned.

    X: (n, d), y: (n,)  ->  w: (d,).

    Raises :class:`IllConditionedError` (a ``ValueError``) when ``XᵀX`` is singular or its condition
    number is so large that fewer than about two significant digits of ``w`` would survive rounding
    (κ(XᵀX) > 1 / (100 ε), ε the machine epsilon of X's dtype). The usual causes are named in the
    message: fewer rows than columns, a duplicated feature, or a constant feature next to the intercept.
    For such data use ``torch.linalg.lstsq`` (QR/SVD based, copes with rank deficiency) or gradient
    descent, or drop the redundant column.
    """
    X = as_matrix(X, "X")
    y = as_vector(y, "y", X.shape[0], like=X)
    n, d = X.shape
    if n < d:
        raise IllConditionedError(
            f"XᵀX is singular: X has n={n} rows but d={d} columns, so the {d}×{d} matrix XᵀX has rank "
            f"at most {n}; there are infinitely many least-squares solutions "
            "(use torch.linalg.lstsq for the minimum-norm one, or collect more data)"
        )
    A = X.T @ X  # (d, d)
    b = X.T @ y  # (d,)
    L, info = torch.linalg.cholesky_ex(A)
    # κ(A) ≥ (max Lᵢᵢ / min Lᵢᵢ)², a cheap lower bound read off the factor we already have.
    diag = L.diagonal().abs()
    eps = torch.finfo(X.dtype).eps
    if int(info) != 0 or float(diag.min()) == 0.0:
        cond = float("inf")
    else:
        cond = float((diag.max() / diag.min()) ** 2)
    if cond > 1.0 / (100.0 * eps):
        raise IllConditionedError(
            f"XᵀX ({d}×{d}, {str(X.dtype).removeprefix('torch.')}) is "
            + (
                "singular"
                if cond == float("inf")
                else f"ill-conditioned (condition number ≳ {cond:.1e})"
            )
            + ": some columns of X are (nearly) linear combinations of others — a duplicated feature, "
            "or a constant feature next to the intercept column. Drop the redundant column, or use "
            "torch.linalg.lstsq or gradient descent instead of the normal equation"
        )
    z = torch.linalg.solve_triangular(L, b.unsqueeze(1), upper=False)  # L z = Xᵀy
    w = torch.linalg.solve_triangular(L.T, z, upper=True)  # Lᵀ w = z
    return w.squeeze(1)


# --------------------------------------------------------------------------------------------------
# Linear regression: gradient descent and mini-batch SGD
# --------------------------------------------------------------------------------------------------


def _initial_weights(w0, X: Tensor) -> Tensor:
    if w0 is None:
        return torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    return as_vector(w0, "w0", X.shape[1], like=X, of="the columns of X").clone()


def _warn_if_diverged(losses: Tensor, lr: float, X: Tensor, scale: float) -> None:
    """Warn (not raise: a diverging run is a lesson to look at) when the loss ended above where it began.

    For a quadratic loss with Hessian H, gradient descent is stable only for ``lr < 2 / λ_max(H)``.
    ``scale`` turns ``XᵀX/n`` into the Hessian: 2 for the MSE, and 1/4 bounds the log-loss curvature.
    """
    if bool(torch.isfinite(losses[-1])) and not bool(losses[-1] > losses[0]):
        return
    hessian = scale * (X.T @ X) / X.shape[0]
    limit = 2.0 / float(torch.linalg.eigvalsh(hessian)[-1])
    went = f"(loss {float(losses[0]):.3g} → {float(losses[-1]):.3g})"
    if lr >= limit:
        message = (
            f"gradient descent diverged {went}: learning rate {lr:g} exceeds the stability limit "
            f"2/λ_max(H) ≈ {limit:.3g} for this data; lower the learning rate or standardise the "
            "features"
        )
    else:  # below the full-batch limit: the noise of mini-batch gradients, not the step size
        message = (
            f"the loss ended above where it began {went} although the learning rate {lr:g} is "
            f"below the full-batch stability limit 2/λ_max(H) ≈ {limit:.3g}: mini-batch gradients "
            "are noisy; use a smaller learning rate, larger batches or more epochs"
        )
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def gradient_descent(X, y, lr, n_iter, w0=None, tol=None) -> tuple[Tensor, Tensor]:
    """Full-batch gradient descent on the mean squared error.

    ``w_{k+1} = w_k − lr · 2/n Xᵀ(X w_k − y)``, starting from ``w0`` (zeros by default).

    X: (n, d), y: (n,), w0: (d,) or None.
    Returns ``(w, losses)``: ``w: (d,)`` the last iterate and ``losses: (k + 1,)`` with
    ``losses[j] = L(w_j)``, so ``losses[0]`` is the loss at ``w0`` and ``losses[-1]`` the loss at ``w``.
    ``k = n_iter`` unless ``tol`` stops the run early: the loop ends as soon as ``‖∇L(w_k)‖₂ ≤ tol``.
    A run whose loss blows up returns normally with a ``RuntimeWarning`` naming the stable range of ``lr``.
    """
    X = as_matrix(X, "X")
    y = as_vector(y, "y", X.shape[0], like=X)
    lr = check_positive(lr, "lr")
    n_iter = check_count(n_iter, "n_iter", minimum=0)
    if tol is not None:
        tol = check_positive(tol, "tol")
    w = _initial_weights(w0, X)
    n = X.shape[0]
    # Same values, stored column by column (one copy, once). Both products of a step then run as
    # matrix-vector kernels that read memory front to back: a step costs about two passes over X,
    # where row-major X @ w alone costs three (see benchmarks/).
    X = X.T.contiguous().T
    losses = torch.empty(n_iter + 1, dtype=X.dtype, device=X.device)
    for k in range(n_iter):
        residual = X @ w - y  # (n,)
        losses[k] = residual @ residual / n
        grad = (2.0 / n) * (X.T @ residual)  # (d,)
        if tol is not None and float(torch.linalg.vector_norm(grad)) <= tol:
            return w, losses[: k + 1]
        w -= lr * grad
    residual = X @ w - y
    losses[n_iter] = residual @ residual / n
    _warn_if_diverged(losses, lr, X, scale=2.0)
    return w, losses


def _batch_order(n: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
    """A random permutation of ``range(n)``, drawn with ``generator`` (global RNG when None)."""
    gen_device = generator.device if generator is not None else torch.device("cpu")
    return torch.randperm(n, generator=generator, device=gen_device).to(device)


def _sgd_epochs(X, y, w, lr, n_epochs, batch_size, generator, gradient, loss) -> Tensor:
    """The loop shared by the mini-batch trainers: shuffle, then one step per batch, every epoch.

    ``gradient(Xb, yb, w)`` is the mean gradient over a batch; ``loss(X, y, w)`` the full-data loss.
    Updates ``w`` in place and returns ``losses: (n_epochs + 1,)``, the full-data loss after each epoch
    (``losses[0]`` before training). The last batch of an epoch may be smaller than ``batch_size``.
    """
    n = X.shape[0]
    losses = torch.empty(n_epochs + 1, dtype=X.dtype, device=X.device)
    losses[0] = loss(X, y, w)
    for epoch in range(n_epochs):
        order = _batch_order(n, generator, X.device) if batch_size < n else None
        for start in range(0, n, batch_size):
            if order is None:
                Xb, yb = X, y
            else:
                batch = order[start : start + batch_size]
                Xb, yb = X[batch], y[batch]
            w -= lr * gradient(Xb, yb, w)
        losses[epoch + 1] = loss(X, y, w)
    return losses


def _mse_loss(X: Tensor, y: Tensor, w: Tensor) -> Tensor:
    residual = X @ w - y
    return residual @ residual / X.shape[0]


def minibatch_sgd(X, y, lr, n_epochs, batch_size, generator=None) -> tuple[Tensor, Tensor]:
    """Mini-batch stochastic gradient descent on the mean squared error, starting from ``w = 0``.

    Every epoch shuffles the rows (with ``generator``, a ``torch.Generator``, for reproducibility), cuts
    them into batches B of ``batch_size`` rows and takes one step per batch:
    ``w ← w − lr · 2/|B| X_Bᵀ(X_B w − y_B)``.

    X: (n, d), y: (n,).
    Returns ``(w, losses)``: ``w: (d,)`` and ``losses: (n_epochs + 1,)``, the full-data MSE before
    training and after each epoch. With a constant ``lr`` the iterates do not settle exactly on the
    minimum: they hover around it at a distance that shrinks with ``lr`` and grows with the gradient noise.
    """
    X = as_matrix(X, "X")
    y = as_vector(y, "y", X.shape[0], like=X)
    lr = check_positive(lr, "lr")
    n_epochs = check_count(n_epochs, "n_epochs", minimum=0)
    batch_size = check_count(batch_size, "batch_size")
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    losses = _sgd_epochs(X, y, w, lr, n_epochs, batch_size, generator, _mse_gradient, _mse_loss)
    _warn_if_diverged(losses, lr, X, scale=2.0)
    return w, losses


# --------------------------------------------------------------------------------------------------
# Logistic regression
# --------------------------------------------------------------------------------------------------


def sigmoid(z) -> Tensor:
    """The logistic function ``σ(z) = 1 / (1 + e^(−z))``, numerically stable for any z.

    Written as is, ``e^(−z)`` overflows for z ≲ −710 in float64 (−88 in float32). Both branches below
    only ever exponentiate ``−|z| ≤ 0``:  σ(z) = 1 / (1 + e^(−|z|)) for z ≥ 0 and e^(−|z|) / (1 + e^(−|z|))
    for z < 0, which are the same function.

    z: any shape  ->  same shape, values in [0, 1].
    """
    z = as_float_tensor(z, "z")
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _check_labels(y: Tensor, name: str = "y") -> Tensor:
    if bool(((y < 0) | (y > 1)).any()):
        raise ValueError(f"{name} must hold labels (or probabilities) in [0, 1], got {describe(y)}")
    return y


def log_loss(p, y) -> Tensor:
    """Binary cross-entropy (log-loss) ``L = −1/n Σᵢ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)]``.

    ``p`` is clipped to ``[ε, 1 − ε]`` (ε the machine epsilon of its dtype), as scikit-learn does, so a
    confident wrong prediction costs a large finite amount instead of ``inf``. To score logits ``z``
    without any clipping use :func:`log_loss_from_logits`.

    p: (n,) probabilities, y: (n,) labels in {0, 1}  ->  0-d tensor.
    """
    p = as_float_tensor(p, "p")
    if p.ndim != 1:
        raise ValueError(f"p must be 1-D (n,), got {describe(p)}")
    y = _check_labels(as_vector(y, "y", p.shape[0], like=p, of="p"))
    _check_labels(p, "p")
    eps = torch.finfo(p.dtype).eps
    p = p.clamp(eps, 1.0 - eps)
    return -(y * torch.log(p) + (1.0 - y) * torch.log1p(-p)).mean()


def log_loss_from_logits(z, y) -> Tensor:
    """The log-loss of ``p = σ(z)`` computed from the logits ``z``, exact for any z.

    Substituting p = σ(z) gives ``L = 1/n Σᵢ [log(1 + e^(zᵢ)) − yᵢ zᵢ]``, and
    ``log(1 + e^z) = max(z, 0) + log(1 + e^(−|z|))`` never overflows.

    z: (n,), y: (n,)  ->  0-d tensor.
    """
    z = as_float_tensor(z, "z")
    if z.ndim != 1:
        raise ValueError(f"z must be 1-D (n,), got {describe(z)}")
    y = _check_labels(as_vector(y, "y", z.shape[0], like=z, of="z"))
    return _logistic_loss_of_logits(z, y)


def _logistic_loss_of_logits(z: Tensor, y: Tensor) -> Tensor:
    softplus = z.clamp(min=0) + torch.log1p(torch.exp(-z.abs()))
    return (softplus - y * z).mean()


def _log_loss_gradient(X: Tensor, y: Tensor, w: Tensor) -> Tensor:
    """``1/n Xᵀ(σ(Xw) − y)`` without input checks."""
    return (X.T @ (sigmoid(X @ w) - y)) / X.shape[0]


def log_loss_gradient(X, y, w) -> Tensor:
    """Gradient of the log-loss of ``p = σ(Xw)`` with respect to the weights.

    ``∇L(w) = 1/n Xᵀ(σ(Xw) − y)``: the same shape as the MSE gradient, with the prediction error
    ``p − y`` in place of the residual (and no factor 2).

    X: (n, d), y: (n,) labels in {0, 1}, w: (d,)  ->  (d,).
    """
    X, y, w = _check_Xyw(X, y, w)
    return _log_loss_gradient(X, _check_labels(y), w)


def _logistic_loss(X: Tensor, y: Tensor, w: Tensor) -> Tensor:
    return _logistic_loss_of_logits(X @ w, y)


# --------------------------------------------------------------------------------------------------
# Estimators (scikit-learn style: hyper-parameters in __init__, learned state in attributes ending in _)
# --------------------------------------------------------------------------------------------------


class _GDEstimator:
    """What the two estimators share: checking inputs, the intercept, the training loop, ``X @ w``."""

    _gradient = staticmethod(_mse_gradient)
    _loss = staticmethod(_mse_loss)
    _curvature = 2.0  # Hessian = _curvature · XᵀX / n (an upper bound for the log-loss)

    def __init__(
        self,
        learning_rate=0.01,
        max_iter=1000,
        fit_intercept=True,
        batch_size=None,
        random_state=None,
    ):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.batch_size = batch_size
        self.random_state = random_state

    def _prepare_fit(self, X, y) -> tuple[Tensor, Tensor]:
        X = as_matrix(X, "X")
        y = as_targets(y, "y", X.shape[0], like=X)
        check_positive(self.learning_rate, "learning_rate")
        check_count(self.max_iter, "max_iter", minimum=0)
        if self.batch_size is not None:
            check_count(self.batch_size, "batch_size")
        return X, y

    def _fit_weights(self, X: Tensor, y: Tensor) -> None:
        Xa = add_intercept(X) if self.fit_intercept else X
        w = torch.zeros(Xa.shape[1], dtype=X.dtype, device=X.device)
        n = X.shape[0]
        generator = None
        if self.random_state is not None:
            generator = torch.Generator().manual_seed(int(self.random_state))
        batch_size = n if self.batch_size is None else min(self.batch_size, n)
        losses = _sgd_epochs(
            Xa,
            y,
            w,
            self.learning_rate,
            self.max_iter,
            batch_size,
            generator,
            self._gradient,
            self._loss,
        )
        _warn_if_diverged(losses, self.learning_rate, Xa, scale=self._curvature)
        self.n_features_in_ = X.shape[1]
        self.loss_history_ = losses
        if self.fit_intercept:
            self.intercept_, self.coef_ = w[0], w[1:]
        else:
            self.intercept_, self.coef_ = torch.zeros((), dtype=w.dtype, device=w.device), w

    def _decision_function(self, X) -> Tensor:
        if not hasattr(self, "coef_"):
            raise ValueError(
                f"this {type(self).__name__} is not fitted yet: call fit(X, y) before predicting"
            )
        X = as_matrix(X, "X", like=self.coef_)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features ({describe(X)}) but this model was fitted "
                f"on {self.n_features_in_}"
            )
        return X @ self.coef_ + self.intercept_


class LinearRegressionGD(_GDEstimator):
    """Linear regression ``ŷ = Xw + b`` fitted by gradient descent on the mean squared error.

    Parameters
    ----------
    learning_rate : step size η of ``w ← w − η ∇L``.
    max_iter : number of epochs (full passes over the data); with ``batch_size=None`` one epoch is one
        full-batch gradient step.
    fit_intercept : learn the bias b (as the weight of a column of ones); if False, b = 0.
    batch_size : None for full-batch gradient descent, else the mini-batch size of SGD.
    random_state : seed of the shuffling in mini-batch mode.

    Attributes (after ``fit``)
    --------------------------
    coef_ : (d,) weights.   intercept_ : 0-d tensor, the bias.
    loss_history_ : (max_iter + 1,) training MSE before training and after each epoch.
    n_features_in_ : d.

    X: (n, d), y: (n,) or (n, 1); tensors keep their device and dtype, numpy arrays become tensors.
    """

    def fit(self, X, y) -> LinearRegressionGD:
        """Fit on ``X: (n, d)``, ``y: (n,)``; returns ``self``."""
        self._fit_weights(*self._prepare_fit(X, y))
        return self

    def predict(self, X) -> Tensor:
        """``ŷ = X coef_ + intercept_``;  X: (m, d)  ->  (m,)."""
        return self._decision_function(X)


class LogisticRegressionGD(_GDEstimator):
    """Logistic regression ``p(y = 1 | x) = σ(wᵀx + b)`` fitted by gradient descent on the log-loss.

    Same parameters and attributes as :class:`LinearRegressionGD` (``loss_history_`` holds the log-loss),
    with ``learning_rate=0.1`` by default: the log-loss curvature is at most ``XᵀX / 4n``, an eighth of
    the MSE's, so larger steps are stable.

    ``predict_proba`` returns the lecture's ``p(y = 1 | x)`` as an ``(m,)`` tensor; scikit-learn's
    method of that name returns the ``(m, 2)`` matrix ``[1 − p, p]``.
    """

    _gradient = staticmethod(_log_loss_gradient)
    _loss = staticmethod(_logistic_loss)
    _curvature = 0.25

    def __init__(
        self,
        learning_rate=0.1,
        max_iter=1000,
        fit_intercept=True,
        batch_size=None,
        random_state=None,
    ):
        super().__init__(learning_rate, max_iter, fit_intercept, batch_size, random_state)

    def fit(self, X, y) -> LogisticRegressionGD:
        """Fit on ``X: (n, d)`` and labels ``y: (n,)`` in {0, 1}; returns ``self``."""
        X, y = self._prepare_fit(X, y)
        self._fit_weights(X, _check_labels(y))
        return self

    def predict_proba(self, X) -> Tensor:
        """``p = σ(X coef_ + intercept_)``;  X: (m, d)  ->  (m,) probabilities of class 1."""
        return sigmoid(self._decision_function(X))

    def predict(self, X) -> Tensor:
        """Class labels ``1.0`` where ``p ≥ 0.5`` (i.e. ``wᵀx + b ≥ 0``), else ``0.0``;  (m, d) -> (m,)."""
        return (self._decision_function(X) >= 0).to(self.coef_.dtype)
