"""Plausible wrong answers to homework 1, task by task: every one must fail its task's check."""

from __future__ import annotations

import torch

__all__ = ["MUTANTS"]


def _ones(X):
    return torch.ones(X.shape[0], 1, dtype=X.dtype)


# --- add_intercept ---------------------------------------------------------------------------------


def intercept_ones_last(X):
    return torch.cat([X, _ones(X)], dim=1)


def intercept_zeros(X):
    return torch.cat([torch.zeros_like(_ones(X)), X], dim=1)


def intercept_missing(X):
    return X


def intercept_float64_ones(X):
    return torch.cat([torch.ones(X.shape[0], 1, dtype=torch.float64), X], dim=1)


def intercept_in_place(X):
    X[:, 0] = 1.0
    return torch.cat([_ones(X), X], dim=1)


def intercept_numpy(X):
    return torch.cat([_ones(X), X], dim=1).numpy()


# --- mse -------------------------------------------------------------------------------------------


def mse_sum(y_pred, y):
    return ((y_pred - y) ** 2).sum()


def mse_half(y_pred, y):
    return ((y_pred - y) ** 2).mean() / 2


def mse_absolute(y_pred, y):
    return (y_pred - y).abs().mean()


def mse_square_of_mean(y_pred, y):
    return (y_pred - y).mean() ** 2


def mse_python_float(y_pred, y):
    return float(((y_pred - y) ** 2).mean())


def mse_shape_one(y_pred, y):
    return ((y_pred - y) ** 2).mean().reshape(1)


def mse_in_place(y_pred, y):
    y_pred -= y  # the caller's predictions become the residuals
    return (y_pred**2).mean()


def mse_float64_result(y_pred, y):
    return ((y_pred.double() - y.double()) ** 2).mean()


# --- mse_gradient ----------------------------------------------------------------------------------


def grad_no_two(X, y, w):
    return X.T @ (X @ w - y) / X.shape[0]


def grad_no_n(X, y, w):
    return 2 * X.T @ (X @ w - y)


def grad_sign(X, y, w):
    return 2 / X.shape[0] * X.T @ (y - X @ w)


def grad_wrong_axis(X, y, w):
    return 2 * (X @ w - y).mean() * X.mean(dim=0)


def grad_column_y(X, y, w):
    return (2 / X.shape[0] * X.T @ (X @ w - y.reshape(-1, 1))).sum(dim=1)


def grad_divide_by_d(X, y, w):
    return 2 / X.shape[1] * X.T @ (X @ w - y)


def grad_float64_result(X, y, w):
    X, y, w = X.double(), y.double(), w.double()
    return 2 / X.shape[0] * X.T @ (X @ w - y)


def grad_float32_inside(X, y, w):
    X32, y32, w32 = X.float(), y.float(), w.float()
    return (2 / X.shape[0] * X32.T @ (X32 @ w32 - y32)).to(X.dtype)


# --- normal_equation -------------------------------------------------------------------------------


def normal_first_rows(X, y):
    d = X.shape[1]
    return torch.linalg.solve(X[:d], y[:d])


def normal_wrong_rhs(X, y):
    return torch.linalg.solve(X.T @ X, X.sum(dim=0) * y.mean())


def normal_ridge(X, y):
    return torch.linalg.solve(X.T @ X + torch.eye(X.shape[1], dtype=X.dtype), X.T @ y)


def normal_float32(X, y):
    return torch.linalg.solve((X.T @ X).float(), (X.T @ y).float())


def normal_pinv_of_gram(X, y):
    return torch.linalg.pinv(X.T @ X) @ X.sum(dim=0)


def normal_float64_result(X, y):
    X, y = X.double(), y.double()
    return torch.linalg.solve(X.T @ X, X.T @ y)


def normal_scales_in_place(X, y):
    scale = X.norm(dim=0)
    X /= scale  # right numbers, but the caller's X is now scaled
    return torch.linalg.solve(X.T @ X, X.T @ y) / scale


# --- gradient_descent ------------------------------------------------------------------------------


def _gd(X, y, lr, n_iter, w0=None, tol=None, *, sign=1.0, factor=2.0, record_after=False,
        in_place=False, stop_after=False, alias=False, norm=2):  # fmt: skip
    n = X.shape[0]
    if w0 is None:
        w = torch.zeros(X.shape[1], dtype=X.dtype)
    else:
        w = w0 if in_place or alias else w0.clone()
    losses = []
    for _ in range(n_iter):
        residual = X @ w - y
        if not record_after:
            losses.append(residual @ residual / n)
        grad = factor / n * (X.T @ residual)
        size = (
            float(grad @ grad) if norm == "squared" else float(torch.linalg.vector_norm(grad, norm))
        )
        if tol is not None and not stop_after and size <= tol:
            return w, torch.stack(losses)
        if alias:  # out of place: w0 is safe, but returned as is when no step is taken
            w = w - sign * lr * grad
        else:
            w -= sign * lr * grad
        if record_after:
            losses.append(((X @ w - y) ** 2).mean())
        if tol is not None and stop_after and size <= tol:
            return w, torch.stack(losses)
    residual = X @ w - y
    if not record_after:
        losses.append(residual @ residual / n)
    if not losses:
        losses.append(residual @ residual / n)
    return w, torch.stack(losses)


def gd_plus(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, tol, sign=-1.0)


def gd_no_two(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, tol, factor=1.0)


def gd_losses_after_steps(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, tol, record_after=True)


def gd_modifies_w0(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, tol, in_place=True)


def gd_ignores_w0(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, None, tol)


def gd_ignores_tol(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, None)


def gd_list_of_losses(X, y, lr, n_iter, w0=None, tol=None):
    w, losses = _gd(X, y, lr, n_iter, w0, tol)
    return w, [float(v) for v in losses]


def gd_returns_w0_itself(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, tol, alias=True)


def gd_float64_losses(X, y, lr, n_iter, w0=None, tol=None):
    w, losses = _gd(X, y, lr, n_iter, w0, tol)
    return w, losses.to(torch.float64)


def gd_default_lr(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, 0.01, n_iter, w0, tol)


def gd_one_step_short(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, max(n_iter - 1, 0), w0, tol)


def gd_tol_after_step(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, tol, stop_after=True)


def gd_tol_squared_norm(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, tol, norm="squared")


def gd_tol_max_norm(X, y, lr, n_iter, w0=None, tol=None):
    return _gd(X, y, lr, n_iter, w0, tol, norm=float("inf"))


def gd_tol_ignores_n_iter(X, y, lr, n_iter, w0=None, tol=None):
    """With tol, steps until ‖∇L‖ ≤ tol however many that takes: n_iter no longer caps the run."""
    return _gd(X, y, lr, n_iter if tol is None else 100 * n_iter + 1000, w0, tol)


def gd_tol_on_loss_change(X, y, lr, n_iter, w0=None, tol=None):
    w, losses = _gd(X, y, lr, n_iter, w0)
    if tol is None:
        return w, losses
    changes = (losses[:-1] - losses[1:]).abs()
    stop = (
        int(torch.nonzero(changes <= tol)[0]) + 1 if bool((changes <= tol).any()) else len(losses)
    )
    w, _ = _gd(X, y, lr, stop - 1, w0)
    return w, losses[:stop]


# --- minibatch_sgd ---------------------------------------------------------------------------------


def _sgd(X, y, lr, n_epochs, batch_size, generator=None, *, shuffle="epoch", drop_last=False,
         factor=2.0, batch_mean=True, divisor=None, losses_of="all", in_place=False):  # fmt: skip
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    losses = [((X @ w - y) ** 2).mean()]
    seed = generator.initial_seed() if generator is not None else 0
    order = torch.randperm(n, generator=generator) if shuffle == "once" and batch_size < n else None
    for _ in range(n_epochs):
        if shuffle == "epoch" and batch_size < n:
            order = torch.randperm(n, generator=generator)
        elif shuffle == "global" and batch_size < n:
            order = torch.randperm(n)
        elif shuffle == "same" and batch_size < n:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        if in_place and order is not None:
            X[:], y[:] = X[order], y[order]  # the caller's rows shuffled, then taken in turn
            order = None
        stop = n - n % batch_size if drop_last and n > batch_size else n
        batch_losses = []
        for start in range(0, stop, batch_size):
            rows = (
                slice(start, start + batch_size)
                if order is None
                else order[start : start + batch_size]
            )
            Xb, yb = X[rows], y[rows]
            count = divisor or (Xb.shape[0] if batch_mean else n)
            w = w - lr * factor / count * (Xb.T @ (Xb @ w - yb))
            batch_losses.append(((Xb @ w - yb) ** 2).mean())
        if losses_of == "batches":  # the mean of the epoch's batch losses, not the full-data MSE
            losses.append(torch.stack(batch_losses).mean())
        elif losses_of == "sum":
            losses.append(((X @ w - y) ** 2).sum())
        else:
            losses.append(((X @ w - y) ** 2).mean())
    return w, torch.stack(losses)


def sgd_chunk(X, y, lr, n_epochs, batch_size, generator=None):
    """Batches from torch.chunk(order, ⌈n/b⌉): equal pieces (4, 4, 4 for n = 12, b = 5), not b rows."""
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    losses = [((X @ w - y) ** 2).mean()]
    for _ in range(n_epochs):
        order = torch.randperm(n, generator=generator) if batch_size < n else torch.arange(n)
        for rows in torch.chunk(order, -(-n // batch_size)):
            Xb, yb = X[rows], y[rows]
            w = w - lr * 2 / len(rows) * (Xb.T @ (Xb @ w - yb))
        losses.append(((X @ w - y) ** 2).mean())
    return w, torch.stack(losses)


def sgd_no_shuffle(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, shuffle="none")


def sgd_shuffle_once(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, shuffle="once")


def sgd_drop_last(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, drop_last=True)


def sgd_no_two(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, factor=1.0)


def sgd_divides_by_n(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, batch_mean=False)


def sgd_ignores_generator(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, shuffle="global")


def sgd_no_initial_loss(X, y, lr, n_epochs, batch_size, generator=None):
    w, losses = _sgd(X, y, lr, n_epochs, batch_size, generator)
    return w, losses[1:]


def sgd_divides_by_batch_size(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, divisor=batch_size)


def sgd_losses_mean_of_batches(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, losses_of="batches")


def sgd_losses_summed(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, losses_of="sum")


def sgd_same_order_every_epoch(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, shuffle="same")


def sgd_shuffles_in_place(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, batch_size, generator, in_place=True)


def sgd_full_batch(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, lr, n_epochs, X.shape[0], generator)


def sgd_default_lr(X, y, lr, n_epochs, batch_size, generator=None):
    return _sgd(X, y, 0.01, n_epochs, batch_size, generator)


def sgd_float64_results(X, y, lr, n_epochs, batch_size, generator=None):
    w, losses = _sgd(X.double(), y.double(), lr, n_epochs, batch_size, generator)
    return w, losses


# --- sigmoid ---------------------------------------------------------------------------------------


def sigmoid_overflow(z):
    return torch.exp(z) / (1 + torch.exp(z))


def sigmoid_sign(z):
    return 1 / (1 + torch.exp(z))


def sigmoid_tanh(z):
    return torch.tanh(z)


def sigmoid_half_tanh(z):
    return 0.5 * (1 + torch.tanh(z))


def sigmoid_float32(z):
    return torch.sigmoid(z.float())


def sigmoid_clamped(z):
    return 1 / (1 + torch.exp(-z.clamp(-30, 30)))


def sigmoid_in_place(z):
    return torch.sigmoid_(z)


def sigmoid_float64_result(z):
    z = z.double()
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_threshold_30(z):
    # "σ is 0 or 1 past |z| = 30": off by up to 9e-14, more than the stated 1e-14
    return torch.where(z.abs() > 30, (z > 0).to(z.dtype), 1 / (1 + torch.exp(-z.clamp(-30, 30))))


# --- log_loss_gradient -----------------------------------------------------------------------------


def _stable_sigmoid(z):
    return torch.sigmoid(z)


def llg_two_over_n(X, y, w):
    return 2 / X.shape[0] * X.T @ (_stable_sigmoid(X @ w) - y)


def llg_sign(X, y, w):
    return X.T @ (y - _stable_sigmoid(X @ w)) / X.shape[0]


def llg_linear_residual(X, y, w):
    return X.T @ (X @ w - y) / X.shape[0]


def llg_no_n(X, y, w):
    return X.T @ (_stable_sigmoid(X @ w) - y)


def llg_overflowing_sigmoid(X, y, w):
    z = X @ w
    return X.T @ (torch.exp(z) / (1 + torch.exp(z)) - y) / X.shape[0]


def llg_times_sigmoid_derivative(X, y, w):
    p = _stable_sigmoid(X @ w)
    return X.T @ ((p - y) * p * (1 - p)) / X.shape[0]


def llg_float64_result(X, y, w):
    X, y, w = X.double(), y.double(), w.double()
    return X.T @ (_stable_sigmoid(X @ w) - y) / X.shape[0]


def llg_float32_inside(X, y, w):
    X32 = X.float()
    return (X32.T @ (_stable_sigmoid(X32 @ w.float()) - y.float()) / X.shape[0]).to(X.dtype)


MUTANTS = {
    "add_intercept": [
        intercept_ones_last,
        intercept_zeros,
        intercept_missing,
        intercept_float64_ones,
        intercept_in_place,
        intercept_numpy,
    ],
    "mse": [
        mse_sum,
        mse_half,
        mse_absolute,
        mse_square_of_mean,
        mse_python_float,
        mse_shape_one,
        mse_in_place,
        mse_float64_result,
    ],
    "mse_gradient": [
        grad_no_two,
        grad_no_n,
        grad_sign,
        grad_wrong_axis,
        grad_column_y,
        grad_divide_by_d,
        grad_float64_result,
        grad_float32_inside,
    ],
    "normal_equation": [
        normal_first_rows,
        normal_wrong_rhs,
        normal_ridge,
        normal_float32,
        normal_pinv_of_gram,
        normal_float64_result,
        normal_scales_in_place,
    ],
    "gradient_descent": [
        gd_plus,
        gd_no_two,
        gd_losses_after_steps,
        gd_modifies_w0,
        gd_ignores_w0,
        gd_ignores_tol,
        gd_list_of_losses,
        gd_returns_w0_itself,
        gd_float64_losses,
        gd_default_lr,
        gd_one_step_short,
        gd_tol_after_step,
        gd_tol_squared_norm,
        gd_tol_max_norm,
        gd_tol_on_loss_change,
        gd_tol_ignores_n_iter,
    ],
    "minibatch_sgd": [
        sgd_no_shuffle,
        sgd_shuffle_once,
        sgd_drop_last,
        sgd_no_two,
        sgd_divides_by_n,
        sgd_ignores_generator,
        sgd_no_initial_loss,
        sgd_divides_by_batch_size,
        sgd_losses_mean_of_batches,
        sgd_losses_summed,
        sgd_same_order_every_epoch,
        sgd_shuffles_in_place,
        sgd_full_batch,
        sgd_default_lr,
        sgd_float64_results,
        sgd_chunk,
    ],
    "sigmoid": [
        sigmoid_overflow,
        sigmoid_sign,
        sigmoid_tanh,
        sigmoid_half_tanh,
        sigmoid_float32,
        sigmoid_clamped,
        sigmoid_in_place,
        sigmoid_float64_result,
        sigmoid_threshold_30,
    ],
    "log_loss_gradient": [
        llg_two_over_n,
        llg_sign,
        llg_linear_residual,
        llg_no_n,
        llg_overflowing_sigmoid,
        llg_times_sigmoid_derivative,
        llg_float64_result,
        llg_float32_inside,
    ],
}
