"""Homework 2's ungraded extras: more activations, the classification losses, ``MLPClassifier``.

:mod:`solutions.mlp` holds what homework 2 grades (``Linear``, ``ReLU``, ``Sigmoid``, ``Tanh``,
``MSELoss``, ``Sequential``, ``MLPRegressor``) and the helpers its notebook provides. This module adds,
on the same ``Layer`` interface (``forward`` / ``backward``, checked against ``torch.autograd`` by
``tests/test_mlp.py``):

- the rest of lecture 1's activation table: :class:`LeakyReLU`, :class:`ELU`, :class:`Softplus`,
  :class:`Softsign`, :class:`GELU`, and :data:`ACTIVATIONS`, every activation by name (the graded ones
  included), for building a :class:`~solutions.mlp.Sequential` by hand;
- classification: :class:`BCEWithLogitsLoss`, :func:`softmax`, :class:`CrossEntropyLoss`, and
  :class:`MLPClassifier`, the regressor's network and training loop on the cross-entropy.

The estimators (``MLPRegressor`` and ``MLPClassifier``) take their ``activation`` from
:data:`solutions.mlp.ACTIVATIONS`, the graded ones: ``"relu"``, ``"sigmoid"`` / ``"logistic"``,
``"tanh"``, ``"identity"``.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

from . import mlp
from ._validate import describe
from .linear_regression import sigmoid
from .mlp import _MLP, Layer, _check_pair, _stored

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "LeakyReLU",
    "MLPClassifier",
    "Softplus",
    "Softsign",
    "softmax",
]


# --------------------------------------------------------------------------------------------------
# More activations (lecture 1's table). f acts elementwise; backward multiplies by f'(x).
# --------------------------------------------------------------------------------------------------


class LeakyReLU(Layer):
    """Leaky ReLU ``f(x) = x`` for x > 0, ``a·x`` otherwise (``a = negative_slope``, PyTorch's 0.01).

    ``f'(x) = 1`` for x > 0 and ``a`` for x ≤ 0 (PyTorch takes ``a`` at x = 0).
    """

    def __init__(self, negative_slope: float = 0.01):
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real):
            raise ValueError(f"negative_slope must be a number, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        self.x = x
        return torch.where(x > 0, x, x * self.negative_slope)

    def backward(self, grad_output: Tensor) -> Tensor:
        x = _stored(self, "x")
        return torch.where(x > 0, grad_output, grad_output * self.negative_slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class ELU(Layer):
    """Exponential linear unit ``f(x) = x`` for x > 0, ``α(eˣ − 1)`` otherwise.

    ``f'(x) = 1`` for x > 0 and ``α eˣ`` (= f(x) + α) for x ≤ 0; PyTorch takes the second branch at 0,
    so ``f'(0) = α``.
    """

    def __init__(self, alpha: float = 1.0):
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise ValueError(f"alpha must be a number, got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x: Tensor) -> Tensor:
        self.x = x
        # expm1(x) = eˣ − 1 without the cancellation of exp(x) − 1 near 0; clamp keeps e^x finite in
        # the branch that torch.where throws away.
        return torch.where(x > 0, x, self.alpha * torch.expm1(x.clamp(max=0)))

    def backward(self, grad_output: Tensor) -> Tensor:
        x = _stored(self, "x")
        return torch.where(
            x > 0, grad_output, grad_output * (self.alpha * torch.exp(x.clamp(max=0)))
        )

    def __repr__(self) -> str:
        return f"ELU(alpha={self.alpha})"


class Softplus(Layer):
    """Softplus ``f(x) = 1/β · log(1 + e^(βx))``, a smooth ReLU;  ``f'(x) = σ(βx)``.

    As in PyTorch (β = 1, threshold = 20 by default): where ``βx > threshold``, f(x) = x and f'(x) = 1
    (there ``log(1 + e^(βx))/β`` differs from x by less than ``e^(−20)/β ≈ 2e−9/β``, and ``e^(βx)``
    would overflow for βx > 709 in float64, 88 in float32).
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        for name, value in (("beta", beta), ("threshold", threshold)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{name} must be a number, got {value!r}")
        if not beta > 0:
            raise ValueError(f"beta must be positive, got {beta!r}")
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x: Tensor) -> Tensor:
        self.x = x
        bx = x * self.beta
        smooth = torch.log1p(torch.exp(bx.clamp(max=self.threshold))) / self.beta
        return torch.where(bx > self.threshold, x, smooth)

    def backward(self, grad_output: Tensor) -> Tensor:
        bx = _stored(self, "x") * self.beta
        return torch.where(bx > self.threshold, grad_output, grad_output * sigmoid(bx))

    def __repr__(self) -> str:
        return f"Softplus(beta={self.beta}, threshold={self.threshold})"


class Softsign(Layer):
    """Softsign ``f(x) = x / (1 + |x|)``,  ``f'(x) = 1 / (1 + |x|)²``."""

    def forward(self, x: Tensor) -> Tensor:
        self.x = x
        return x / (1 + x.abs())

    def backward(self, grad_output: Tensor) -> Tensor:
        return grad_output / (1 + _stored(self, "x").abs()) ** 2


class GELU(Layer):
    """Gaussian error linear unit (exact form) ``f(x) = x·Φ(x)``, Φ the standard normal CDF.

    ``Φ(x) = ½(1 + erf(x/√2))``, and ``f'(x) = Φ(x) + x·φ(x)`` with the density
    ``φ(x) = e^(−x²/2) / √(2π)``. This is ``torch.nn.GELU()`` (``approximate="none"``), not the tanh
    approximation.
    """

    def forward(self, x: Tensor) -> Tensor:
        self.x = x
        self.cdf = 0.5 * (1 + torch.erf(x * (1 / math.sqrt(2))))  # Φ(x), kept for backward
        return x * self.cdf

    def backward(self, grad_output: Tensor) -> Tensor:
        x = _stored(self, "x")
        pdf = torch.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))  # φ(x)
        return grad_output * (self.cdf + x * pdf)


# Every activation by name: the graded ones (solutions.mlp.ACTIVATIONS), then the extras.
ACTIVATIONS: dict[str, type[Layer]] = {
    **mlp.ACTIVATIONS,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "softplus": Softplus,
    "softsign": Softsign,
    "gelu": GELU,
}


# --------------------------------------------------------------------------------------------------
# Classification losses: forward(pred, target) -> 0-d tensor, backward() -> ∂L/∂pred
# --------------------------------------------------------------------------------------------------


class BCEWithLogitsLoss:
    """Binary cross-entropy of logits z with targets y ∈ [0, 1], mean over all N elements.

    With p = σ(z): ``L = −1/N Σ [y log p + (1 − y) log(1 − p)] = 1/N Σ [softplus(z) − y·z]``, and
    ``∂L/∂z = (σ(z) − y) / N``. ``softplus(z) = log(1 + e^z)`` is computed as
    ``max(z, 0) + log1p(e^(−|z|))``, which never overflows, so logits of ±1e4 give exact finite losses
    (log p itself would be −inf there). pred (the logits) and target: the same shape.
    """

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        _check_pair(pred, target, "BCEWithLogitsLoss")
        self.z, self.y = pred, target
        softplus = pred.clamp(min=0) + torch.log1p(torch.exp(-pred.abs()))
        return (softplus - target * pred).mean()

    def backward(self) -> Tensor:
        z = _stored(self, "z")
        return (sigmoid(z) - self.y) / z.numel()

    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        return self.forward(pred, target)


def softmax(logits: Tensor) -> Tensor:
    """Row-wise softmax ``pᵢⱼ = e^(zᵢⱼ) / Σₖ e^(zᵢₖ)`` of ``(n, k)`` logits, stable for any values.

    Subtracting each row's maximum changes nothing (it cancels between numerator and denominator) and
    makes every exponent ≤ 0, so ``exp`` never overflows and the largest term is exactly 1.
    """
    e = torch.exp(logits - logits.amax(dim=1, keepdim=True))
    return e.div_(e.sum(dim=1, keepdim=True))


class CrossEntropyLoss:
    """Softmax cross-entropy of logits ``z: (n, k)`` with integer labels ``y: (n,)`` in ``0..k−1``.

    ``L = −1/n Σᵢ log pᵢ,yᵢ`` with ``p = softmax(z)``, i.e. ``Lᵢ = log Σⱼ e^(zᵢⱼ) − zᵢ,yᵢ``
    (log-sum-exp computed after subtracting the row maximum, so logits of ±1e4 are fine), and

        ∂L/∂z = (p − onehot(y)) / n.

    This is ``torch.nn.CrossEntropyLoss()`` (mean over the batch, no label smoothing, no weights).
    """

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        if not isinstance(pred, Tensor) or not pred.is_floating_point() or pred.ndim != 2:
            got = describe(pred) if isinstance(pred, Tensor) else type(pred).__name__
            raise ValueError(f"pred must be a floating-point (n, k) tensor of logits, got {got}")
        n, k = pred.shape
        if n == 0 or k == 0:
            raise ValueError(f"pred must have at least one row and one class, got {describe(pred)}")
        if (
            not isinstance(target, Tensor)
            or target.is_floating_point()
            or target.dtype == torch.bool
        ):
            got = describe(target) if isinstance(target, Tensor) else type(target).__name__
            raise ValueError(f"target must be an integer tensor of class labels (n,), got {got}")
        if target.shape != (n,) or target.device != pred.device:
            raise ValueError(
                f"target must have shape ({n},) on {pred.device} to match pred {tuple(pred.shape)}, "
                f"got {describe(target)}"
            )
        low, high = torch.aminmax(target)  # one pass over the labels
        if low.item() < 0 or high.item() >= k:  # .item(): plain ints, compared in Python
            raise ValueError(f"target must hold class labels in 0..{k - 1}, got {describe(target)}")
        shifted = pred - pred.amax(dim=1, keepdim=True)  # every entry ≤ 0: exp cannot overflow
        exp = torch.exp(shifted)
        sum_exp = exp.sum(dim=1, keepdim=True)  # ≥ 1: the row maximum contributes e⁰
        # The softmax, kept for backward; divided in place, since exp is not needed again.
        self.probs = exp.div_(sum_exp)
        self.index = target.reshape(n, 1)
        picked = shifted.gather(1, self.index)  # shifted zᵢ,yᵢ, (n, 1)
        return torch.log(sum_exp).sub_(picked).mean()  # the mean over the batch of Lᵢ

    def backward(self) -> Tensor:
        probs = _stored(self, "probs")
        n = probs.shape[0]
        grad = probs / n
        # Subtract 1/n at each row's label: grad[i, yᵢ] += −1/n. (`grad[torch.arange(n), y] -= 1 / n`
        # says the same; scatter_ with reduce="add" does it in one operation instead of three.)
        return grad.scatter_(1, self.index, -1.0 / n, reduce="add")

    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        return self.forward(pred, target)


# --------------------------------------------------------------------------------------------------
# MLPClassifier
# --------------------------------------------------------------------------------------------------


class MLPClassifier(_MLP):
    """A multi-layer perceptron for k-class classification, trained on the softmax cross-entropy.

    Same network, parameters and attributes as :class:`solutions.mlp.MLPRegressor` (``activation`` a
    key of :data:`solutions.mlp.ACTIVATIONS`), with k outputs (logits) and the loss of
    :class:`CrossEntropyLoss`: ``L = −1/n Σᵢ log softmax(zᵢ)[yᵢ]``. Two classes also get two outputs
    (a softmax over two logits), where scikit-learn uses one logistic output.

    ``y`` holds integer labels of any values (e.g. 0..9, or −1 and 1); ``classes_`` is their sorted
    set, ``predict`` returns labels from it (int64) and column j of ``predict_proba`` is the
    probability of ``classes_[j]``. Float labels are refused (a regression target by mistake?).
    ``loss_history_`` holds the training cross-entropy. At least two classes are needed.
    """

    _Loss = CrossEntropyLoss

    def train(self, X, y) -> MLPClassifier:
        """Train on ``X: (n, d)`` and integer labels ``y: (n,)`` (or ``(n, 1)``); returns ``self``."""
        self._check_hyper_parameters()
        X = self._check_X(X, fitting=True)
        y = _as_labels(y, X)
        classes = torch.unique(y)  # sorted
        if classes.numel() < 2:
            raise ValueError(
                f"y must hold at least two classes to classify, got only {classes.tolist()}"
            )
        self.classes_ = classes
        self._train(X, torch.searchsorted(classes, y), n_out=classes.numel())
        return self

    def predict_proba(self, X) -> Tensor:
        """Class probabilities ``softmax(z)`` for ``X: (m, d)``  ->  ``(m, k)``, rows summing to 1."""
        self._check_trained()
        return softmax(self.network_.forward(self._check_X(X, fitting=False)))

    def predict(self, X) -> Tensor:
        """The most probable class for each row of ``X: (m, d)``  ->  ``(m,)`` int64 labels."""
        self._check_trained()
        logits = self.network_.forward(self._check_X(X, fitting=False))
        return self.classes_[logits.argmax(dim=1)]  # argmax of the logits = argmax of softmax


def _as_labels(y, X: Tensor) -> Tensor:
    """Integer class labels ``(n,)`` (an ``(n, 1)`` column is flattened) on X's device, int64."""
    if isinstance(y, Tensor):
        t = y
    else:
        try:
            t = torch.as_tensor(y)
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"y could not be turned into a tensor: {err}") from None
        t = t.to(X.device)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ValueError(
            f"y must hold integer class labels, got {describe(t)}; convert with y.long() "
            "if the values are whole numbers"
        )
    if t.device != X.device:
        raise ValueError(f"y is on {t.device} but X is on {X.device}; move it with .to()")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t.reshape(-1)
    n = X.shape[0]
    if t.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {describe(t)}")
    return t.to(torch.int64)
