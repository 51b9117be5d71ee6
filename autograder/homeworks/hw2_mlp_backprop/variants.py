"""Correct answers to homework 2 written differently from the reference: every one must pass its check.

Every task is a class, so every variant is a class: the reference with the methods a student writes
overridden the way another student might write them right (loops, ``einsum``, numpy inside and back
to torch in the input's dtype, float64 inside and cast back, other formulas of the same function,
in place where the notebook allows it). None uses autograd: homework 2 forbids it.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import torch

from solutions import mlp as ref

__all__ = ["VARIANTS"]


def _from_numpy(array, like: torch.Tensor) -> torch.Tensor:
    """A numpy result back to torch, on ``like``'s device and in its dtype (0-d results too)."""
    return torch.from_numpy(np.asarray(array)).to(device=like.device, dtype=like.dtype)


def _init(model: ref.MLPRegressor) -> str:
    return model.init if model.init != "auto" else ref._DEFAULT_INIT.get(model.activation, "xavier")


# --- Linear ----------------------------------------------------------------------------------------


class LinearEinsum(ref.Linear):
    """einsum everywhere; the gradients rebind dW and db to new tensors."""

    def forward(self, x):
        ref._check_layer_input(x, self.W, "x", self.in_features, "Linear")
        self.x = x
        y = torch.einsum("ni,io->no", x, self.W)
        return y if self.b is None else y + self.b

    def backward(self, grad_output, need_input_grad=True):
        x = ref._stored(self, "x")
        self.dW = torch.einsum("ni,no->io", x, grad_output)
        if self.b is not None:
            self.db = torch.einsum("no->o", grad_output)
        if not need_input_grad:
            return None
        return torch.einsum("no,io->ni", grad_output, self.W)


class LinearLoops(ref.Linear):
    """One row at a time: y_i = x_i W + b, dW = Σᵢ x_iᵀ g_i, db = Σᵢ g_i, (∂L/∂x)_i = W g_i."""

    def forward(self, x):
        self.x = x
        y = torch.stack([x[i] @ self.W for i in range(x.shape[0])])
        if self.b is not None:
            y = y + self.b
        return y

    def backward(self, grad_output, need_input_grad=True):
        x, g = self.x, grad_output
        dW = torch.zeros_like(self.W)
        for i in range(x.shape[0]):
            dW += torch.outer(x[i], g[i])
        self.dW.copy_(dW)
        if self.db is not None:
            db = torch.zeros_like(self.db)
            for i in range(g.shape[0]):
                db += g[i]
            self.db.copy_(db)
        if not need_input_grad:
            return None
        grad_x = torch.empty_like(x)
        for i in range(x.shape[0]):
            grad_x[i] = self.W @ g[i]
        return grad_x


class LinearNumpy(ref.Linear):
    """numpy inside, back to torch in the layer's dtype and on its device."""

    def forward(self, x):
        self.x = x
        y = x.cpu().numpy() @ self.W.cpu().numpy()
        if self.b is not None:
            y = y + self.b.cpu().numpy()
        return _from_numpy(y, x)

    def backward(self, grad_output, need_input_grad=True):
        x, g = self.x.cpu().numpy(), grad_output.cpu().numpy()
        self.dW.copy_(_from_numpy(x.T @ g, self.W))
        if self.db is not None:
            self.db.copy_(_from_numpy(g.sum(axis=0), self.db))
        if not need_input_grad:
            return None
        return _from_numpy(g @ self.W.cpu().numpy().T, grad_output)


class LinearFloat64Inside(ref.Linear):
    """Every product in float64, cast back to the layer's dtype."""

    def forward(self, x):
        self.x = x
        y = x.double() @ self.W.double()
        if self.b is not None:
            y = y + self.b.double()
        return y.to(x.dtype)

    def backward(self, grad_output, need_input_grad=True):
        x, g = self.x.double(), grad_output.double()
        self.dW.copy_(x.T @ g)
        if self.db is not None:
            self.db.copy_(g.sum(dim=0))
        return (g @ self.W.double().T).to(grad_output.dtype) if need_input_grad else None


class LinearAddmm(ref.Linear):
    """addmm for the forward pass, the gradients written into dW and db with out=."""

    def forward(self, x):
        self.x = x
        return torch.mm(x, self.W) if self.b is None else torch.addmm(self.b, x, self.W)

    def backward(self, grad_output, need_input_grad=True):
        torch.mm(self.x.t(), grad_output, out=self.dW)
        if self.db is not None:
            torch.sum(grad_output, dim=0, out=self.db)
        return torch.mm(grad_output, self.W.t()) if need_input_grad else None


# --- ReLU ------------------------------------------------------------------------------------------


class ReLUWhere(ref.ReLU):
    """torch.where in both passes, with the input x stored."""

    def forward(self, x):
        self.x = x
        return torch.where(x > 0, x, torch.zeros_like(x))

    def backward(self, grad_output):
        return torch.where(self.x > 0, grad_output, torch.zeros_like(grad_output))


class ReLUMask(ref.ReLU):
    """x · (x > 0) and the float mask (x > 0).to(dtype)."""

    def forward(self, x):
        self.mask = (x > 0).to(x.dtype)
        return x * self.mask

    def backward(self, grad_output):
        return grad_output * self.mask


class ReLUInPlaceBackward(ref.ReLU):
    """torch.maximum forward; backward zeroes grad_output where x ≤ 0 in place and returns it."""

    def forward(self, x):
        self.out = torch.maximum(x, torch.zeros_like(x))
        return self.out

    def backward(self, grad_output):
        return grad_output.masked_fill_(self.out <= 0, 0.0)


class ReLUAbsHeaviside(ref.ReLU):
    """(x + |x|) / 2, and f' as the Heaviside step with the value 0 at 0."""

    def forward(self, x):
        self.x = x
        return (x + x.abs()) / 2

    def backward(self, grad_output):
        return grad_output * torch.heaviside(self.x, torch.zeros_like(self.x))


class ReLUNumpy(ref.ReLU):
    """numpy inside, back to torch in the input's dtype."""

    def forward(self, x):
        self.x = x.cpu().numpy().copy()
        return _from_numpy(np.maximum(self.x, 0), x)

    def backward(self, grad_output):
        g = grad_output.cpu().numpy()
        return _from_numpy(np.where(self.x > 0, g, 0), grad_output)


# --- Sigmoid ---------------------------------------------------------------------------------------


class SigmoidTanh(ref.Sigmoid):
    """σ(x) = ½(1 + tanh(x/2)): exactly 0 where σ(x) < 1e-17 or so, within the stated atol."""

    def forward(self, x):
        self.y = 0.5 * (1 + torch.tanh(x / 2))
        return self.y

    def backward(self, grad_output):
        return grad_output * self.y * (1 - self.y)


class SigmoidLogaddexp(ref.Sigmoid):
    """σ(x) = exp(−log(1 + e^(−x))); σ'(x) = e^(−|x|) / (1 + e^(−|x|))², from the stored x."""

    def forward(self, x):
        self.x = x
        return torch.exp(-torch.logaddexp(torch.zeros_like(x), -x))

    def backward(self, grad_output):
        e = torch.exp(-self.x.abs())
        return grad_output * e / (1 + e) ** 2


class SigmoidNumpy(ref.Sigmoid):
    """numpy inside, the two stable branches."""

    def forward(self, x):
        z = x.cpu().numpy()
        e = np.exp(-np.abs(z))
        self.y = np.asarray(np.where(z >= 0, 1 / (1 + e), e / (1 + e)), dtype=z.dtype)
        return _from_numpy(self.y, x)

    def backward(self, grad_output):
        g = grad_output.cpu().numpy()
        return _from_numpy(g * self.y * (1 - self.y), grad_output)


class SigmoidFloat64Inside(ref.Sigmoid):
    """torch.sigmoid in float64, cast back; backward in float64 too."""

    def forward(self, x):
        self.y64 = torch.sigmoid(x.double())
        return self.y64.to(x.dtype)

    def backward(self, grad_output):
        y = self.y64
        return (grad_output.double() * (y - y * y)).to(grad_output.dtype)


# --- Tanh ------------------------------------------------------------------------------------------


class TanhExp(ref.Tanh):
    """tanh(x) = 1 − 2/(e^(2x) + 1) (e^(2x) = inf gives 1, 0 gives −1); tanh' = (1 − y)(1 + y)."""

    def forward(self, x):
        self.y = 1 - 2 / (torch.exp(2 * x) + 1)
        return self.y

    def backward(self, grad_output):
        return grad_output * (1 - self.y) * (1 + self.y)


class TanhNumpyCosh(ref.Tanh):
    """numpy's tanh; tanh'(x) = 1 / cosh²(x) from the stored x (cosh = inf gives 0)."""

    def forward(self, x):
        self.x = x.cpu().numpy().copy()
        return _from_numpy(np.tanh(self.x), x)

    def backward(self, grad_output):
        g = grad_output.cpu().numpy()
        return _from_numpy(g / np.cosh(self.x) ** 2, grad_output)


class TanhViaSigmoid(ref.Tanh):
    """tanh(x) = 2σ(2x) − 1 with the provided stable sigmoid; backward in place on grad_output."""

    def forward(self, x):
        self.out = 2 * ref.sigmoid(2 * x) - 1
        return self.out

    def backward(self, grad_output):
        return grad_output.mul_(1 - self.out * self.out)


class TanhFloat64Inside(ref.Tanh):
    """torch.tanh in float64, cast back to the input's dtype."""

    def forward(self, x):
        self.y64 = torch.tanh(x.double())
        return self.y64.to(x.dtype)

    def backward(self, grad_output):
        return (grad_output.double() * (1 - self.y64**2)).to(grad_output.dtype)


# --- MSELoss ---------------------------------------------------------------------------------------


class MSESumOverNumel(ref.MSELoss):
    """Σ (p − t)² / N, and backward from the stored pred and target."""

    def forward(self, pred, target):
        ref._check_pair(pred, target, "MSELoss")
        self.pred, self.target = pred, target
        return ((pred - target) ** 2).sum() / pred.numel()

    def backward(self):
        return 2 * (self.pred - self.target) / self.pred.numel()


class MSENumpy(ref.MSELoss):
    """Its own shape check, numpy inside, back to torch in pred's dtype."""

    def forward(self, pred, target):
        if pred.shape != target.shape:
            raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
        self.like = pred
        self.d = pred.cpu().numpy() - target.cpu().numpy()
        return torch.tensor(np.mean(self.d * self.d), dtype=pred.dtype, device=pred.device)

    def backward(self):
        return _from_numpy(2 * self.d / self.d.size, self.like)


class MSELoop(ref.MSELoss):
    """A Python loop over the elements for the loss; the gradient as (p − t) · (2/N)."""

    def forward(self, pred, target):
        ref._check_pair(pred, target, "MSELoss")
        self.diff = pred - target
        total = 0.0
        for v in self.diff.reshape(-1).tolist():
            total += v * v
        return torch.tensor(total / self.diff.numel(), dtype=pred.dtype, device=pred.device)

    def backward(self):
        return self.diff * (2.0 / self.diff.numel())


class MSEFloat64Inside(ref.MSELoss):
    """Everything in float64, cast back to pred's dtype; the loss as a dot product."""

    def forward(self, pred, target):
        ref._check_pair(pred, target, "MSELoss")
        self.dtype = pred.dtype
        self.d = (pred.double() - target.double()).reshape(-1)
        self.shape = pred.shape
        return (self.d @ self.d / self.d.numel()).to(pred.dtype)

    def backward(self):
        return (2 / self.d.numel() * self.d).reshape(self.shape).to(self.dtype)


# --- Sequential ------------------------------------------------------------------------------------


class SequentialIndexLoop(ref.Sequential):
    """Index loops; the first layer skips ∂L/∂x when it can take need_input_grad."""

    def forward(self, x):
        for i in range(len(self.layers)):
            x = self.layers[i].forward(x)
        return x

    def backward(self, grad_output, need_input_grad=True):
        for i in range(len(self.layers) - 1, 0, -1):
            grad_output = self.layers[i].backward(grad_output)
        first = self.layers[0]
        if isinstance(first, (ref.Linear, ref.Sequential)):
            return first.backward(grad_output, need_input_grad=need_input_grad)
        grad_x = first.backward(grad_output)
        return grad_x if need_input_grad else None


class SequentialAlwaysFull(ref.Sequential):
    """Backpropagates through every layer, the first too, and drops ∂L/∂x when not needed."""

    def backward(self, grad_output, need_input_grad=True):
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output if need_input_grad else None


class SequentialTryKeyword(ref.Sequential):
    """Offers need_input_grad to the first layer, and calls it without when it takes no keyword."""

    def backward(self, grad_output, need_input_grad=True):
        for layer in self.layers[:0:-1]:
            grad_output = layer.backward(grad_output)
        try:
            grad_x = self.layers[0].backward(grad_output, need_input_grad=need_input_grad)
        except TypeError:
            grad_x = self.layers[0].backward(grad_output)
        return grad_x if need_input_grad else None


class SequentialReduce(ref.Sequential):
    """functools.reduce over the layers, forwards and backwards."""

    def forward(self, x):
        return functools.reduce(lambda h, layer: layer.forward(h), self.layers, x)

    def backward(self, grad_output, need_input_grad=True):
        grad_x = functools.reduce(
            lambda g, layer: layer.backward(g), self.layers[::-1], grad_output
        )
        return grad_x if need_input_grad else None


# --- MLPRegressor ----------------------------------------------------------------------------------


class _Chain:
    """The layers in a plain list: what the training loop and parameters() need of a network."""

    def __init__(self, layers: list):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def parameters(self) -> list:
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self) -> list:
        return [g for layer in self.layers for g in layer.gradients()]


class MLPListOfLayers(ref.MLPRegressor):
    """Layers in a list, not a Sequential; _step walks them by hand and updates layer by layer."""

    def _build_network(self, n_in, n_out, X, generator):
        sizes = [n_in, *self._hidden_sizes(), n_out]
        layers = []
        for k in range(len(sizes) - 1):
            layers.append(
                ref.Linear(
                    sizes[k],
                    sizes[k + 1],
                    init=_init(self),
                    generator=generator,
                    device=X.device,
                    dtype=X.dtype,
                )
            )
            if k < len(sizes) - 2:
                layers.append(ref.ACTIVATIONS[self.activation]())
        return _Chain(layers)

    def _step(self, net, loss_fn, X, T, optimizer):
        h = X
        for layer in net.layers:
            h = layer.forward(h)
        loss = loss_fn.forward(h, T)
        g = loss_fn.backward()
        for layer in net.layers[:0:-1]:
            g = layer.backward(g)
        net.layers[0].backward(g, need_input_grad=False)
        for layer in net.layers:
            for p, dp in zip(layer.parameters(), layer.gradients(), strict=True):
                if optimizer is None:
                    p.sub_(self.learning_rate * dp)
                else:
                    p.grad = dp
        if optimizer is not None:
            optimizer.step()
        return loss

    def train(self, X, y):
        self._check_hyper_parameters()
        X = self._check_X(X, fitting=True)
        T = torch.as_tensor(y, dtype=X.dtype, device=X.device).reshape(-1, 1)
        self._train(X, T, n_out=1)
        return self

    def predict(self, X):
        return self.network_.forward(self._check_X(X, fitting=False))[:, 0]


class MLPAddAlpha(ref.MLPRegressor):
    """p.add_(g, alpha=−η); copies of the gradients for the optimizer; y.reshape(len(y), 1)."""

    def _build_network(self, n_in, n_out, X, generator):
        widths = (n_in, *self._hidden_sizes(), n_out)
        layers = []
        for fan_in, fan_out in itertools.pairwise(widths):
            if layers:
                layers.append(ref.ACTIVATIONS[self.activation]())
            layers.append(
                ref.Linear(
                    fan_in,
                    fan_out,
                    init=_init(self),
                    generator=generator,
                    device=X.device,
                    dtype=X.dtype,
                )
            )
        return ref.Sequential(*layers)

    def _step(self, net, loss_fn, X, T, optimizer):
        pred = net.forward(X)
        loss = loss_fn.forward(pred, T)
        net.backward(loss_fn.backward(), need_input_grad=False)
        for p, g in zip(net.parameters(), net.gradients(), strict=True):
            if optimizer is None:
                p.add_(g, alpha=-self.learning_rate)
            else:
                p.grad = g.clone()
        if optimizer is not None:
            optimizer.step()
        return loss

    def train(self, X, y):
        X = self._check_X(X, fitting=True)
        y = ref.as_targets(y, "y", X.shape[0], like=X)
        self._check_hyper_parameters()
        self._train(X, y.reshape(len(y), 1), n_out=1)
        return self

    def predict(self, X):
        return self.network_.forward(self._check_X(X, fitting=False)).flatten()


class MLPFullBackward(ref.MLPRegressor):
    """Backpropagates to the data too (need_input_grad left True), p.copy_(p − η g), view(-1)."""

    def _build_network(self, n_in, n_out, X, generator):
        hidden = list(self._hidden_sizes())
        fan_ins, fan_outs = [n_in, *hidden], [*hidden, n_out]
        layers = []
        for i, (a, b) in enumerate(zip(fan_ins, fan_outs, strict=True)):
            linear = ref.Linear(
                a, b, init=_init(self), generator=generator, device=X.device, dtype=X.dtype
            )
            layers += [linear] if i == 0 else [ref.ACTIVATIONS[self.activation](), linear]
        return ref.Sequential(*layers)

    def _step(self, net, loss_fn, X, T, optimizer):
        loss = loss_fn.forward(net.forward(X), T)
        net.backward(loss_fn.backward())
        if optimizer is not None:
            for p, g in zip(net.parameters(), net.gradients(), strict=True):
                p.grad = g
            optimizer.step()
            return loss
        for p, g in zip(net.parameters(), net.gradients(), strict=True):
            p.copy_(p - self.learning_rate * g)
        return loss

    def train(self, X, y):
        self._check_hyper_parameters()
        X = self._check_X(X, fitting=True)
        y = ref.as_targets(y, "y", X.shape[0], like=X)
        self._train(X, y.view(-1, 1) if y.ndim == 1 else y, n_out=1)
        return self

    def predict(self, X):
        return self.network_.forward(self._check_X(X, fitting=False)).view(-1)


VARIANTS = {
    "Linear": [LinearEinsum, LinearLoops, LinearNumpy, LinearFloat64Inside, LinearAddmm],
    "ReLU": [ReLUWhere, ReLUMask, ReLUInPlaceBackward, ReLUAbsHeaviside, ReLUNumpy],
    "Sigmoid": [SigmoidTanh, SigmoidLogaddexp, SigmoidNumpy, SigmoidFloat64Inside],
    "Tanh": [TanhExp, TanhNumpyCosh, TanhViaSigmoid, TanhFloat64Inside],
    "MSELoss": [MSESumOverNumel, MSENumpy, MSELoop, MSEFloat64Inside],
    "Sequential": [
        SequentialIndexLoop,
        SequentialAlwaysFull,
        SequentialTryKeyword,
        SequentialReduce,
    ],
    "MLPRegressor": [MLPListOfLayers, MLPAddAlpha, MLPFullBackward],
}
