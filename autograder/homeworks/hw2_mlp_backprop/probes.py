"""Probes of homework 2 (backpropagation by hand): what runs the student's classes in the sandbox.

``PROBES`` maps each graded task to its ``apply(cls, inputs)``; the inputs and the judging are in
``checks.py``. Every task is a class, and the probe receives the student's class.

Where a task needs other layers around it (``Sequential``), it gets small probe layers defined here,
which also record the order in which they are called; the judge rebuilds the same network from
``solutions.mlp`` with :func:`build`, from the same table of cases (:data:`SEQUENTIAL_CASES`). For
``MLPRegressor`` the probe reports the weights the student's own code draws (a training with
``max_iter=0``, twice), after one epoch and after training, and its predictions for m rows and for one;
the judge trains the reference from those very weights. An activation's output is read right after
``forward``, again after ``backward``, and again after the probe overwrites ``x``: the judge sees an
output that ``backward`` changed, or one that shares ``x``'s memory. What ``backward`` returns with
``need_input_grad=False`` (``Linear``, ``Sequential``) is reported too (it must be None).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from autograder.probes import (
    _no_torch_dispatch,
    _no_torch_function,
    after,
    call,
    case,
    encode,
    tensor,
    text,
    values,
)

__all__ = [
    "PROBES",
    "SEQUENTIAL_CASES",
    "STEPS",
    "ProbeMomentum",
    "build",
    "dtype_of",
    "flat",
    "layers_of",
    "linear_parameters",
    "load_parameters",
    "mlp_kwargs",
    "widths",
]

F32, F64 = torch.float32, torch.float64
_fill = torch._C.TensorBase.fill_  # bound at import: an answer cell cannot make it a no-op


def dtype_of(inputs: dict[str, np.ndarray]) -> torch.dtype:
    """The dtype a case runs in: float32 when its ``float32`` flag says so, else float64."""
    return F32 if bool(inputs.get("float32", False)) else F64


# Which call raised (``error.in``), in the judge's words: it shows only these (the outputs are the
# sandbox's, so any other text there is not the probe's).
STEPS = frozenset(
    {
        "Linear(in_features, out_features, ...)",
        "setting W and b through parameters()",
        "the constructor",
        "forward",
        "backward",
        "backward(grad_output, need_input_grad=False)",
        "gradients()",
        "parameters()",
        "train",
        "train with max_iter=0",
        "train with max_iter=1",
        "loss_history_",
        "predict",
    }
)


def _step(error: dict[str, np.ndarray], where: str) -> dict[str, np.ndarray]:
    """An ``error`` output from :func:`call`, with ``error.in``: which call raised (one of STEPS)."""
    assert where in STEPS, where
    return error | {"error.in": text(where)}


def _grads(returned: object) -> list:
    """A copy of what ``gradients()`` returned (the layer may overwrite its tensors later).

    Student code (its iterator, its tensors' methods): call it through :func:`call`.
    """
    return [g.detach().clone() if isinstance(g, torch.Tensor) else g for g in list(returned)]


def _encode_list(items: list, key: str) -> dict[str, np.ndarray]:
    """A list the probe made (of what student code returned): ``key.n`` and each item encoded."""
    out = {f"{key}.n": np.array(len(items))}
    for k, item in enumerate(items):
        out |= encode(item, f"{key}.{k}")
    return out


def _read_list(tensors: list, key: str) -> dict[str, np.ndarray]:
    """The values of a list of tensors the probe holds: ``key.n`` and ``key.k`` for each readable one."""
    out = {f"{key}.n": np.array(len(tensors))}
    for k, t in enumerate(tensors):
        read = values(t)
        if read is not None:
            out[f"{key}.{k}"] = read
    return out


# ---------------------------------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------------------------------


def load_parameters(layer: object, arrays: list[np.ndarray], dtype: torch.dtype) -> None:
    """Copy the case's W (and b) into the layer's parameters (``parameters()`` is provided code)."""
    params = list(layer.parameters())
    if len(params) != len(arrays) or any(
        not isinstance(p, torch.Tensor) or tuple(p.shape) != a.shape
        for p, a in zip(params, arrays, strict=False)
    ):
        raise ValueError("parameters() does not return W and b of the shapes __init__ gives them")
    for p, a in zip(params, arrays, strict=True):
        p.copy_(tensor(a, dtype))


def linear_parameters(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The case's W, and b when the layer has a bias."""
    return [inputs["W"], inputs["b"]] if "b" in inputs else [inputs["W"]]


def _linear_apply(cls: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    dtype = dtype_of(inputs)
    i, o = inputs["W"].shape
    layer, error = call(cls, i, o, bias="b" in inputs, device="cpu", dtype=dtype)
    if error:
        return _step(error, "Linear(in_features, out_features, ...)")
    _, error = call(load_parameters, layer, linear_parameters(inputs), dtype)
    if error:
        return _step(error, "setting W and b through parameters()")
    x1, g1, x2, g2 = (tensor(inputs[k], dtype) for k in ("x1", "g1", "x2", "g2"))
    outputs = {}
    for k, (x, g) in enumerate(((x1, g1), (x2, g2)), start=1):
        y, error = call(lambda x=x: layer.forward(x))
        if error:
            return _step(error, "forward")
        grad_x, error = call(lambda g=g: layer.backward(g.clone()))
        if error:
            return _step(error, "backward")
        grads, error = call(lambda: _grads(layer.gradients()))
        if error:
            return _step(error, "gradients()")
        outputs |= (
            encode(y, f"y{k}") | encode(grad_x, f"grad_x{k}") | _encode_list(grads, f"grads{k}")
        )
    # the first pass once more, without ∂L/∂x: dW and db must still be filled in, None returned
    _, error = call(lambda: layer.forward(x1))
    if not error:
        skipped, error = call(lambda: layer.backward(g1.clone(), need_input_grad=False))
    if error:
        return _step(error, "backward(grad_output, need_input_grad=False)")
    outputs |= encode(skipped, "grad_x_only")
    grads, error = call(lambda: _grads(layer.gradients()))
    if error:
        return _step(error, "gradients()")
    # the parameters as they are now: forward and backward must leave W and b alone
    params, error = call(lambda: list(layer.parameters()))
    return (
        outputs
        | _encode_list(grads, "grads_only")
        | after(x1=x1, x2=x2)
        | ({} if error else _read_list(params, "params_after"))
    )


# ---------------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------------


def _read(key: str, t: object) -> dict[str, np.ndarray]:
    """``{key: the values of t}`` when ``t`` is a readable tensor, else nothing."""
    read = values(t)
    return {} if read is None else {key: read}


def _overwrite(t: torch.Tensor) -> None:
    """Fill a tensor the probe made with a value no case holds (to see what shares its memory)."""
    with _no_torch_function(), _no_torch_dispatch():
        _fill(t, 0.375)


def _activation_apply(cls: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    dtype = dtype_of(inputs)
    x, g = tensor(inputs["x"], dtype), tensor(inputs["g"], dtype)
    layer, error = call(cls)
    if error:
        return _step(error, "the constructor")
    out, error = call(lambda: layer.forward(x))
    if error:
        return _step(error, "forward")
    outputs = encode(out, "out") | after(x=x)  # the output as forward returned it
    grad, error = call(lambda: layer.backward(g.clone()))
    if error:
        return _step(error, "backward")
    outputs |= encode(grad, "grad") | after("later", x=x) | _read("out.after_backward", out)
    # the caller changes x: an output that is x itself, or a view of it, changes with it
    _overwrite(x)
    return outputs | _read("out.after_x", out)


# ---------------------------------------------------------------------------------------------------
# MSELoss
# ---------------------------------------------------------------------------------------------------


def _mse_apply(cls: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    dtype = dtype_of(inputs)
    pred, target = tensor(inputs["pred"], dtype), tensor(inputs["target"], dtype)
    loss, error = call(cls)
    if error:
        return _step(error, "the constructor")
    value, error = call(lambda: loss.forward(pred, target))
    if inputs["pred"].shape != inputs["target"].shape:
        raised = str(error["error"]) if error else ""
        out = {"mismatch.raised": text(raised)} | encode(value, "loss")
        # the same rank, transposed: (n, 1) against (1, n) broadcasts to (n, n) as well
        _, error = call(lambda: loss.forward(pred, target.reshape(1, -1)))
        return out | {"mismatch.transposed": text(str(error["error"]) if error else "")}
    if error:
        return _step(error, "forward")
    grad, error = call(lambda: loss.backward())
    if error:
        return _step(error, "backward")
    return encode(value, "loss") | encode(grad, "grad") | after(pred=pred, target=target)


# ---------------------------------------------------------------------------------------------------
# Sequential: probe layers that record the order of their calls
# ---------------------------------------------------------------------------------------------------


class _Probe:
    """A layer with homework 2's interface that logs its calls in ``log`` as ("F" or "B", its id)."""

    def __init__(self, ident: int, log: list):
        self.ident, self.log = ident, log

    def __call__(self, x):
        return self.forward(x)

    def parameters(self) -> list:
        return []

    def gradients(self) -> list:
        return []

    def zero_grad(self) -> None:
        pass

    def forward(self, x):
        self.log.append(("F", self.ident))
        self.x = x
        self.out = self._f(x)
        return self.out

    def backward(self, grad_output):
        self.log.append(("B", self.ident))
        if not isinstance(grad_output, torch.Tensor) or grad_output.shape != self.out.shape:
            raise ValueError("a layer got a gradient that does not have the shape of its output")
        return grad_output * self._df()


class _ProbeTanh(_Probe):
    def _f(self, x):
        return torch.tanh(x)

    def _df(self):
        return 1 - self.out**2


class _ProbeReLU(_Probe):
    def _f(self, x):
        return x.clamp(min=0)

    def _df(self):
        return (self.x > 0).to(self.x.dtype)


class _ProbeSigmoid(_Probe):
    def _f(self, x):
        return 0.5 * (1 + torch.tanh(0.5 * x))

    def _df(self):
        return self.out * (1 - self.out)


class _ProbeLinear(_Probe):
    def __init__(self, ident: int, log: list, W: torch.Tensor, b: torch.Tensor):
        super().__init__(ident, log)
        self.W, self.b = W, b
        self.dW, self.db = torch.full_like(W, np.nan), torch.full_like(b, np.nan)

    def parameters(self) -> list:
        return [self.W, self.b]

    def gradients(self) -> list:
        return [self.dW, self.db]

    def _f(self, x):
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.W.shape[0]:
            raise ValueError("a Linear layer got an input that does not fit its W")
        return x @ self.W + self.b

    def backward(self, grad_output, need_input_grad=True):
        self.log.append(("B", self.ident))
        if not isinstance(grad_output, torch.Tensor) or grad_output.shape != self.out.shape:
            raise ValueError("a Linear layer got a gradient that does not have its output's shape")
        self.dW, self.db = self.x.T @ grad_output, grad_output.sum(dim=0)
        return grad_output @ self.W.T if need_input_grad else None


# Layers: "T", "R", "S", (in, out) for a Linear, or a list for a nested Sequential.
# (n, layers, scale of x, float32)
SEQUENTIAL_CASES = [
    (5, [(3, 4), "R", (4, 2)], 1.0, False),
    (1, [(5, 1)], 1.0, False),
    (4, ["T", (3, 3), "S"], 1.0, False),
    (16, [(2, 6), "T", (6, 6), "R", (6, 1)], 1.0, False),
    (6, [[(3, 4), "T"], (4, 2)], 1.0, False),
    (3, ["R"], 1.0, False),
    (8, [(4, 3), "S", (3, 2), "T"], 30.0, False),
    (7, [(3, 4), "R", (4, 2)], 1.0, True),
]


def flat(layers: list) -> list:
    """The layers of a case with the nested lists flattened, in order."""
    return [
        leaf for layer in layers for leaf in (flat(layer) if isinstance(layer, list) else [layer])
    ]


def widths(layers: list) -> tuple[int, int | None]:
    """(the input width, the output width or None when no Linear fixes it)."""
    linears = [layer for layer in flat(layers) if isinstance(layer, tuple)]
    return (linears[0][0], linears[-1][1]) if linears else (4, None)


def layers_of(inputs: dict[str, np.ndarray]) -> list:
    """The layers of the case the inputs were made for."""
    return case(int(inputs["case"]), SEQUENTIAL_CASES)[1]


def build(layers: list, inputs: dict, make: dict, nest: Callable, counter: list) -> list:
    """The layers of a case, made by ``make[kind](ident, W, b)``; nested lists through ``nest``."""
    built = []
    for layer in layers:
        if isinstance(layer, list):
            built.append(nest(*build(layer, inputs, make, nest, counter)))
            continue
        k = counter[0]
        counter[0] += 1
        if isinstance(layer, tuple):
            dtype = dtype_of(inputs)
            W, b = tensor(inputs[f"W{k}"], dtype), tensor(inputs[f"b{k}"], dtype)
            built.append(make["L"](k, W, b))
        else:
            built.append(make[layer](k))
    return built


def _sequential_apply(cls: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    dtype = dtype_of(inputs)
    log: list = []
    linears: list[_ProbeLinear] = []  # every probe Linear made, however the student nests them

    def linear(k, W, b):
        linears.append(_ProbeLinear(k, log, W, b))
        return linears[-1]

    make = {
        "L": linear,
        "T": lambda k: _ProbeTanh(k, log),
        "R": lambda k: _ProbeReLU(k, log),
        "S": lambda k: _ProbeSigmoid(k, log),
    }
    layers, error = call(build, layers_of(inputs), inputs, make, cls, [0])
    if error:
        return _step(error, "the constructor")
    net, error = call(cls, *layers)
    if error:
        return _step(error, "the constructor")
    x, g = tensor(inputs["x"], dtype), tensor(inputs["g"], dtype)
    y, error = call(lambda: net.forward(x))
    if error:
        return _step(error, "forward")
    forward_order = [ident for kind, ident in log if kind == "F"]
    log.clear()
    grad_x, error = call(lambda: net.backward(g.clone()))
    backward_order = [ident for kind, ident in log if kind == "B"]
    if error:
        return _step(error, "backward") | {
            "backward_order": np.array(backward_order, dtype=np.int64)
        }
    grads = _read_list([t for p in linears for t in (p.dW, p.db)], "grads")
    # the parameters-only pass: every Linear must get fresh gradients
    for p in linears:
        p.dW, p.db = torch.full_like(p.W, np.nan), torch.full_like(p.b, np.nan)
    _, error = call(lambda: net.forward(x))
    if not error:
        skipped, error = call(lambda: net.backward(g.clone(), need_input_grad=False))
    if error:
        return _step(error, "backward(grad_output, need_input_grad=False)")
    grads_only = [t for p in linears for t in (p.dW, p.db)]
    return (
        encode(y, "y")
        | encode(skipped, "grad_x_only")
        | encode(grad_x, "grad_x")
        | grads
        | _read_list(grads_only, "grads_only")
        | after(x=x)
        | {
            "forward_order": np.array(forward_order, dtype=np.int64),
            "backward_order": np.array(backward_order, dtype=np.int64),
        }
    )


# ---------------------------------------------------------------------------------------------------
# MLPRegressor
# ---------------------------------------------------------------------------------------------------


class ProbeMomentum:
    """A ``torch.optim``-style optimizer written out by hand: ``v ← 0.9 v + p.grad``, ``p ← p − η v``."""

    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr
        self.velocity = [torch.zeros_like(p) for p in self.params]

    def step(self):
        for p, v in zip(self.params, self.velocity, strict=True):
            if p.grad is None:
                raise ValueError("optimizer.step() found a parameter whose .grad is None")
            v.mul_(0.9).add_(p.grad)
            p.sub_(self.lr * v)


def mlp_kwargs(inputs: dict[str, np.ndarray], max_iter: int) -> dict:
    """The keyword arguments of ``MLPRegressor`` in a case, with ``max_iter`` epochs."""
    batch = int(inputs["batch_size"])
    return {
        "hidden_layer_sizes": tuple(int(h) for h in inputs["hidden_layer_sizes"]),
        "learning_rate": float(inputs["learning_rate"]),
        "max_iter": max_iter,
        "activation": str(inputs["activation"]),
        "batch_size": batch or None,
        "optimizer": ProbeMomentum if bool(inputs["optimizer"]) else None,
        "random_state": int(inputs["random_state"]),
        "device": "cpu",
        "init": str(inputs["init"]),
    }


def _weights_after(cls: Callable, inputs: dict, X, y, max_iter: int) -> tuple[list | None, dict]:
    """The parameters of a fresh model trained for ``max_iter`` epochs (0: the initial weights)."""
    model, error = call(cls, **mlp_kwargs(inputs, max_iter))
    if error:
        return None, _step(error, "the constructor")
    _, error = call(lambda: model.train(X, y))
    if error:
        return None, _step(error, f"train with max_iter={max_iter}")
    params, error = call(lambda: [p.detach().clone() for p in model.parameters()])
    if error:
        return None, _step(error, "parameters()")
    return params, {}


def _mlp_apply(cls: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    dtype = dtype_of(inputs)
    X, y, X_test = (tensor(inputs[k], dtype) for k in ("X", "y", "X_test"))
    initial, error = _weights_after(cls, inputs, X, y, 0)
    if error:
        return error
    again, error = _weights_after(cls, inputs, X, y, 0)  # the judge compares it with initial
    if error:
        return error
    one_epoch, error = _weights_after(cls, inputs, X, y, 1)
    if error:
        return error
    model, error = call(cls, **mlp_kwargs(inputs, int(inputs["max_iter"])))
    if error:
        return _step(error, "the constructor")
    returned, error = call(lambda: model.train(X, y))
    if error:
        return _step(error, "train")
    params, error = call(lambda: [p.detach().clone() for p in model.parameters()])
    if error:
        return _step(error, "parameters()")
    history, error = call(lambda: model.loss_history_)
    if error:
        return _step(error, "loss_history_")
    pred, error = call(lambda: model.predict(X_test))
    if error:
        return _step(error, "predict")
    one_row = tensor(inputs["X_test"][:1], dtype)
    pred_one, error = call(lambda: model.predict(one_row))
    if error:
        return _step(error, "predict")
    return (
        _encode_list(initial, "initial")
        | _encode_list(again, "again")
        | _encode_list(one_epoch, "one_epoch")
        | _encode_list(params, "trained")
        | encode(history, "history")
        | encode(pred, "pred")
        | encode(pred_one, "pred_one")
        | after(X=X, y=y)
        | {"returned_self": np.array(returned is model)}
    )


PROBES: dict[str, Callable] = {
    "Linear": _linear_apply,
    "ReLU": _activation_apply,
    "Sigmoid": _activation_apply,
    "Tanh": _activation_apply,
    "MSELoss": _mse_apply,
    "Sequential": _sequential_apply,
    "MLPRegressor": _mlp_apply,
}
