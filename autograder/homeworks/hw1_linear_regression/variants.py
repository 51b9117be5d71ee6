"""Correct answers to homework 1 written differently from the reference: every one must pass its check.

Written as different students would: loops instead of matrix products, numpy inside and back to torch
(same dtype and device), float64 inside then cast back to the input's dtype, other valid formulas (a
sigmoid as ½(1 + tanh(z/2)) or e^(−log(1 + e^(−z)))), another order of operations (the normal
equations' XᵀXw − Xᵀy as the gradient), in-place or out-of-place updates. They never reach a release.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["VARIANTS"]


def _back(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """A numpy result back as a tensor with ``like``'s dtype and device."""
    return torch.from_numpy(np.asarray(array)).to(dtype=like.dtype, device=like.device)


# --- add_intercept ---------------------------------------------------------------------------------


def intercept_hstack(X):
    return torch.hstack((torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device), X))


def intercept_fill_empty(X):
    n, d = X.shape
    out = torch.empty(n, d + 1, dtype=X.dtype, device=X.device)
    out[:, 0] = 1.0
    out[:, 1:] = X
    return out


def intercept_numpy(X):
    Xn = X.cpu().numpy()
    return _back(np.concatenate([np.ones((Xn.shape[0], 1), dtype=Xn.dtype), Xn], axis=1), X)


def intercept_column_stack(X):
    return torch.column_stack([torch.ones_like(X[:, 0]), X])


# --- mse -------------------------------------------------------------------------------------------


def mse_loop(y_pred, y):
    total = torch.zeros((), dtype=y_pred.dtype, device=y_pred.device)
    for i in range(len(y)):
        total = total + (y_pred[i] - y[i]) ** 2
    return total / len(y)


def mse_sum_over_len(y_pred, y):
    return torch.sum((y_pred - y) ** 2) / y.numel()


def mse_float64_inside(y_pred, y):
    r = y_pred.double() - y.double()
    return (r @ r / r.shape[0]).to(y_pred.dtype)


def mse_numpy(y_pred, y):
    a, b = y_pred.cpu().numpy(), y.cpu().numpy()
    return _back(np.mean((a - b) ** 2), y_pred)


def mse_expanded(y_pred, y):
    # (ŷ − y)² = ŷ² − 2ŷy + y², summed term by term
    return (y_pred @ y_pred - 2 * (y_pred @ y) + y @ y) / y.shape[0]


# --- mse_gradient ----------------------------------------------------------------------------------


def grad_row_loop(X, y, w):
    n = X.shape[0]
    g = torch.zeros_like(w)
    for i in range(n):
        g += 2 * (X[i] @ w - y[i]) * X[i]
    return g / n


def grad_normal_form(X, y, w):
    return 2.0 / X.shape[0] * (X.T @ X @ w - X.T @ y)


def grad_float64_inside(X, y, w):
    X64, y64, w64 = X.double(), y.double(), w.double()
    return (2 * X64.T @ (X64 @ w64 - y64) / X.shape[0]).to(X.dtype)


def grad_numpy(X, y, w):
    Xn, yn, wn = (t.cpu().numpy() for t in (X, y, w))
    return _back(2.0 / Xn.shape[0] * Xn.T.dot(Xn.dot(wn) - yn), X)


def grad_mean_of_rows(X, y, w):
    residual = X @ w - y
    return (2 * residual[:, None] * X).mean(dim=0)


def grad_einsum(X, y, w):
    return torch.einsum("ij,i->j", X, X @ w - y) * (2 / len(y))


# --- normal_equation -------------------------------------------------------------------------------


def normal_solve(X, y):
    return torch.linalg.solve(X.T @ X, X.T @ y)


def normal_lstsq(X, y):
    return torch.linalg.lstsq(X, y.unsqueeze(1)).solution.squeeze(1)


def normal_numpy_float64(X, y):
    Xn, yn = X.cpu().numpy().astype(np.float64), y.cpu().numpy().astype(np.float64)
    return _back(np.linalg.solve(Xn.T @ Xn, Xn.T @ yn), X)


def normal_inverse(X, y):
    return torch.linalg.inv(X.T @ X) @ (X.T @ y)


def normal_cholesky(X, y):
    L = torch.linalg.cholesky(X.T @ X)
    return torch.cholesky_solve((X.T @ y).unsqueeze(1), L).squeeze(1)


def normal_pinv(X, y):
    return torch.linalg.pinv(X) @ y


# --- gradient_descent ------------------------------------------------------------------------------


def gd_list_loop(X, y, lr, n_iter, w0=None, tol=None):
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device) if w0 is None else w0.clone()
    losses = []
    for _ in range(n_iter):
        residual = X @ w - y
        losses.append((residual**2).mean())
        grad = 2 / n * X.T @ residual
        if tol is not None and torch.sqrt(grad @ grad) <= tol:
            return w, torch.stack(losses)
        w = w - lr * grad
    losses.append(((X @ w - y) ** 2).mean())
    return w, torch.stack(losses)


def gd_preallocated_in_place(X, y, lr, n_iter, w0=None, tol=None):
    w = X.new_zeros(X.shape[1]) if w0 is None else w0.detach().clone()
    losses = torch.empty(n_iter + 1, dtype=X.dtype, device=X.device)
    for k in range(n_iter + 1):
        residual = X @ w - y
        losses[k] = residual @ residual / len(y)
        if k == n_iter:
            break
        grad = X.T @ residual * (2.0 / len(y))
        if tol is not None and torch.linalg.norm(grad) <= tol:
            return w, losses[: k + 1].clone()
        w.sub_(lr * grad)
    return w, losses


def gd_numpy(X, y, lr, n_iter, w0=None, tol=None):
    Xn, yn = X.cpu().numpy(), y.cpu().numpy()
    w = np.zeros(Xn.shape[1], dtype=Xn.dtype) if w0 is None else w0.cpu().numpy().copy()
    losses = []
    for _ in range(n_iter):
        r = Xn @ w - yn
        losses.append(np.mean(r**2))
        g = 2.0 / len(yn) * Xn.T @ r
        if tol is not None and np.linalg.norm(g) <= tol:
            break
        w = w - lr * g
    else:
        losses.append(np.mean((Xn @ w - yn) ** 2))
    return _back(w, X), _back(np.array(losses), X)


def gd_float64_gram(X, y, lr, n_iter, w0=None, tol=None):
    # in float64, with XᵀX and Xᵀy formed once: ∇L = 2/n (XᵀXw − Xᵀy), L = (wᵀXᵀXw − 2wᵀXᵀy + yᵀy)/n
    X64, y64 = X.double(), y.double()
    n = X64.shape[0]
    A, b, c = X64.T @ X64, X64.T @ y64, y64 @ y64
    w = torch.zeros(X.shape[1], dtype=torch.float64)
    if w0 is not None:
        w = w0.to(torch.float64, copy=True)  # a copy even when w0 is float64 already
    losses = []
    for _ in range(n_iter):
        losses.append((w @ A @ w - 2 * w @ b + c) / n)
        grad = 2 / n * (A @ w - b)
        if tol is not None and float(grad.norm()) <= tol:
            break
        w = w - lr * grad
    else:
        losses.append((w @ A @ w - 2 * w @ b + c) / n)
    return w.to(X.dtype), torch.stack(losses).to(X.dtype)


# --- minibatch_sgd ---------------------------------------------------------------------------------


def sgd_index_loop(X, y, lr, n_epochs, batch_size, generator=None):
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    losses = [((X @ w - y) ** 2).mean()]
    for _ in range(n_epochs):
        order = torch.randperm(n, generator=generator) if batch_size < n else torch.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            Xb, yb = X[idx], y[idx]
            w = w - lr * 2 / len(idx) * Xb.T @ (Xb @ w - yb)
        losses.append(((X @ w - y) ** 2).mean())
    return w, torch.stack(losses)


def sgd_split_in_place(X, y, lr, n_epochs, batch_size, generator=None):
    n = len(y)
    w = X.new_zeros(X.shape[1])
    losses = X.new_empty(n_epochs + 1)
    losses[0] = (X @ w - y) @ (X @ w - y) / n
    for epoch in range(1, n_epochs + 1):
        if batch_size < n:
            Xs, ys = X, y
            perm = torch.randperm(n, generator=generator)
            batches = zip(Xs[perm].split(batch_size), ys[perm].split(batch_size), strict=True)
        else:
            batches = [(X, y)]
        for Xb, yb in batches:
            w.sub_(lr * (2.0 / yb.shape[0]) * (Xb.T @ (Xb @ w - yb)))
        residual = X @ w - y
        losses[epoch] = residual @ residual / n
    return w, losses


def sgd_per_example_sum(X, y, lr, n_epochs, batch_size, generator=None):
    n, d = X.shape
    w = torch.zeros(d, dtype=X.dtype)
    losses = [torch.mean((X @ w - y) ** 2)]
    for _ in range(n_epochs):
        order = torch.randperm(n, generator=generator).tolist() if batch_size < n else range(n)
        order = list(order)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            g = torch.zeros(d, dtype=X.dtype)
            for i in batch:
                g += 2 * (X[i] @ w - y[i]) * X[i]
            w = w - lr * g / len(batch)
        losses.append(torch.mean((X @ w - y) ** 2))
    return w, torch.stack(losses)


def sgd_float64_numpy(X, y, lr, n_epochs, batch_size, generator=None):
    Xn, yn = X.cpu().numpy().astype(np.float64), y.cpu().numpy().astype(np.float64)
    n = len(yn)
    w = np.zeros(Xn.shape[1])
    losses = [np.mean((Xn @ w - yn) ** 2)]
    for _ in range(n_epochs):
        order = np.arange(n)
        if batch_size < n:
            order = torch.randperm(n, generator=generator).numpy()
        for batch in np.array_split(order, range(batch_size, n, batch_size)):
            r = Xn[batch] @ w - yn[batch]
            w = w - lr * 2 * Xn[batch].T @ r / len(batch)
        losses.append(np.mean((Xn @ w - yn) ** 2))
    return _back(w, X), _back(np.array(losses), X)


# --- sigmoid ---------------------------------------------------------------------------------------


def sigmoid_half_tanh(z):
    return 0.5 * (1 + torch.tanh(z / 2))


def sigmoid_logaddexp(z):
    return torch.exp(-torch.logaddexp(torch.zeros_like(z), -z))


def sigmoid_where_both_forms(z):
    return torch.where(z >= 0, 1 / (1 + torch.exp(-z)), torch.exp(z) / (1 + torch.exp(z)))


def sigmoid_math_loop(z):
    def one(x):
        if x >= 0:
            return 1 / (1 + math.exp(-x))
        e = math.exp(x)
        return e / (1 + e)

    values = [one(x) for x in z.reshape(-1).tolist()]
    return torch.tensor(values, dtype=z.dtype, device=z.device).reshape(z.shape)


def sigmoid_float64_numpy(z):
    zn = z.cpu().numpy().astype(np.float64)
    e = np.exp(-np.abs(zn))
    return _back(np.where(zn >= 0, 1 / (1 + e), e / (1 + e)), z)


def sigmoid_one_minus(z):
    # σ(z) = 1 − σ(−z): for z < 0 the subtraction loses the tail's digits, but not more than 1e-16
    positive = 1 / (1 + torch.exp(-z.abs()))
    return torch.where(z >= 0, positive, 1 - positive)


def sigmoid_clamped_exponent(z):
    # e^(−z) with z clamped to [−700, 700] never overflows, and σ(±700) rounds to 1 and 0 already
    return 1 / (1 + torch.exp(-z.clamp(-700, 700)))


# --- log_loss_gradient -----------------------------------------------------------------------------


def llg_tanh(X, y, w):
    p = 0.5 * (1 + torch.tanh(X @ w / 2))
    return X.T @ (p - y) / X.shape[0]


def llg_row_loop(X, y, w):
    g = torch.zeros_like(w)
    for i in range(X.shape[0]):
        z = float(X[i] @ w)
        p = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
        g += (p - float(y[i])) * X[i]
    return g / X.shape[0]


def llg_float64_inside(X, y, w):
    X64, y64 = X.double(), y.double()
    z = X64 @ w.double()
    e = torch.exp(-z.abs())
    p = torch.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return (X64.T @ (p - y64) / len(y)).to(X.dtype)


def llg_numpy_logaddexp(X, y, w):
    Xn, yn, wn = (t.cpu().numpy() for t in (X, y, w))
    p = np.exp(-np.logaddexp(0, -(Xn @ wn)))
    return _back(Xn.T @ (p - yn) / len(yn), X)


def llg_mean_of_rows(X, y, w):
    p = torch.where(X @ w >= 0, 1 / (1 + torch.exp(-(X @ w).abs())), 0.0)
    p = torch.where(X @ w < 0, torch.exp(X @ w) / (1 + torch.exp(X @ w)), p)
    return ((p - y)[:, None] * X).mean(dim=0)


VARIANTS: dict[str, list] = {
    "add_intercept": [
        intercept_hstack,
        intercept_fill_empty,
        intercept_numpy,
        intercept_column_stack,
    ],
    "mse": [mse_loop, mse_sum_over_len, mse_float64_inside, mse_numpy, mse_expanded],
    "mse_gradient": [
        grad_row_loop,
        grad_normal_form,
        grad_float64_inside,
        grad_numpy,
        grad_mean_of_rows,
        grad_einsum,
    ],
    "normal_equation": [
        normal_solve,
        normal_lstsq,
        normal_numpy_float64,
        normal_inverse,
        normal_cholesky,
        normal_pinv,
    ],
    "gradient_descent": [gd_list_loop, gd_preallocated_in_place, gd_numpy, gd_float64_gram],
    "minibatch_sgd": [
        sgd_index_loop,
        sgd_split_in_place,
        sgd_per_example_sum,
        sgd_float64_numpy,
    ],
    "sigmoid": [
        sigmoid_half_tanh,
        sigmoid_logaddexp,
        sigmoid_where_both_forms,
        sigmoid_math_loop,
        sigmoid_float64_numpy,
        sigmoid_clamped_exponent,
        sigmoid_one_minus,
    ],
    "log_loss_gradient": [
        llg_tanh,
        llg_row_loop,
        llg_float64_inside,
        llg_numpy_logaddexp,
        llg_mean_of_rows,
    ],
}
