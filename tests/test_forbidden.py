"""The forbidden-use rules (``autograder/checks/forbidden.py``): the scan, the watch, and a check's verdict.

A task that forbids autograd scores 0, with a message saying why, when the student's code uses it;
the reference solutions, and ordinary code that merely reads ``p.grad`` or builds on the
``torch.optim.Optimizer`` base class, are never flagged.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from torch import optim as torch_optim

from autograder.checks import Check, call, encode, failed, passed, tensor
from autograder.checks.forbidden import AUTOGRAD, TORCH_OPTIM, AutogradWatch, scan
from solutions import gradcheck, linear_regression, mlp, mlp_extras, optim, optim_extras, schedules

BOTH = (AUTOGRAD, TORCH_OPTIM)

# --- code that uses what is forbidden ----------------------------------------------------------------


def grad_by_autograd(x):
    x = x.clone().requires_grad_()
    (x**2).sum().backward()
    return x.grad


def grad_by_autograd_grad(x):
    t = x.clone()
    t.requires_grad = True
    return torch.autograd.grad((t**2).sum(), t)[0]


def grad_by_imported_autograd(x):
    from torch import autograd

    t = torch.tensor(x.tolist(), dtype=x.dtype, requires_grad=True)
    return autograd.grad((t**2).sum(), t)[0]


def grad_by_torch_func(x):
    return torch.func.grad(lambda t: (t**2).sum())(x)


def grad_by_getattr_string(x):
    engine = getattr(torch, "autograd")  # noqa: B009 - the point of the test
    t = x.clone().detach()
    return engine.functional.jacobian(lambda v: (v**2).sum(), t)


def grad_by_computed_name(x):
    """The scan cannot read a name built at run time; the watch sees the call."""
    engine = getattr(torch, "auto" + "grad")
    t = x.clone()
    t.requires_grad_(True)  # a method called through a computed name below would hide this too
    return engine.grad((t**2).sum(), t)[0]


def grad_by_hand(x):
    return 2 * x


class LinearWithAutograd(mlp.Linear):
    def backward(self, grad_output, need_input_grad=True):
        x = self.x.detach().requires_grad_()
        W = self.W.detach().requires_grad_()
        (torch.addmm(self.b, x, W) * grad_output).sum().backward()
        self.dW.copy_(W.grad)
        return x.grad


class _Helper:
    def _push(self, p):
        return torch.optim.Adam([p], lr=0.1)


class DelegatingOptimizer(_Helper, torch.optim.Optimizer):
    """Its own methods are clean; a base class defined beside it delegates to torch.optim."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})


def sgd_through_alias(params):
    return torch_optim.SGD(params, lr=0.1)


def sgd_imported(params):
    from torch.optim import SGD

    return SGD(params, lr=0.1)


class HandWrittenSGD(torch.optim.Optimizer):
    """Reads p.grad, uses torch.no_grad and the Optimizer base class: all allowed."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])


def uses_a_variable_named_func(x):
    func = torch.tanh
    return func(x)


@pytest.mark.parametrize(
    ("fn", "what"),
    [
        (grad_by_autograd, "requires_grad_"),
        (grad_by_autograd_grad, "requires_grad"),
        (grad_by_imported_autograd, "torch.autograd"),
        (grad_by_torch_func, "torch.func.grad"),
        (grad_by_getattr_string, "autograd"),
        (LinearWithAutograd, "requires_grad_"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_scan_names_the_autograd_use_and_where(fn, what):
    message = scan(fn, (AUTOGRAD,))
    assert message is not None and what in message
    assert "scores 0" in message and "by hand" in message
    where = fn.__name__ if inspect.isfunction(fn) else f"{fn.__name__}.backward"
    assert f"of {where})" in message


@pytest.mark.parametrize(
    ("fn", "what"),
    [
        (DelegatingOptimizer, "torch.optim.Adam on line 2 of _Helper._push"),
        (sgd_through_alias, "torch.optim.SGD on line 2 of sgd_through_alias"),
        (sgd_imported, "torch.optim.SGD"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_scan_finds_torch_optim_delegation(fn, what):
    message = scan(fn, BOTH)
    assert message is not None and what in message and "torch.optim's optimizers" in message


def test_scan_misses_a_computed_name_which_the_watch_catches():
    assert scan(grad_by_computed_name, (AUTOGRAD,)) is not None  # requires_grad_ is still visible
    x = torch.ones(3, dtype=torch.float64)
    with AutogradWatch() as watch:
        grad_by_computed_name(x)
    assert watch.used is not None and "scores 0" in watch.message()


@pytest.mark.parametrize(
    "fn", [grad_by_hand, HandWrittenSGD, uses_a_variable_named_func], ids=lambda f: f.__name__
)
def test_scan_passes_allowed_code(fn):
    assert scan(fn, BOTH) is None


@pytest.mark.parametrize(
    "module",
    [linear_regression, mlp, mlp_extras, optim, optim_extras, schedules, gradcheck],
    ids=lambda m: m.__name__,
)
def test_scan_passes_every_reference_object(module):
    flagged = {name: scan(getattr(module, name), BOTH) for name in module.__all__}
    assert not {name: why for name, why in flagged.items() if why}


@pytest.mark.parametrize(
    "fn", [grad_by_autograd, grad_by_autograd_grad, grad_by_torch_func, grad_by_getattr_string]
)
def test_watch_sees_autograd_at_run_time(fn):
    with AutogradWatch() as watch:
        fn(torch.linspace(-1, 1, 4, dtype=torch.float64))
    assert watch.used is not None


def test_watch_is_silent_for_the_reference_and_changes_nothing():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(32, 3, generator=generator, dtype=torch.float64)
    y = X @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    with AutogradWatch() as watch:
        model = mlp.MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, optimizer=optim.Adam)
        watched = model.train(X, y).predict(X)
        for p in model.parameters():
            p.grad = torch.ones_like(p)
        optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True).step()
    assert watch.used is None
    assert not watched.requires_grad


# --- a check with a forbidden rule -------------------------------------------------------------------


def _inputs(seed: int) -> dict[str, np.ndarray]:
    return {"x": np.random.default_rng(seed).standard_normal(5)}


def _apply(fn, inputs):
    result, error = call(fn, tensor(inputs["x"]))
    return error or encode(result, "result")


def _judge(inputs, outputs):
    ok = "result" in outputs and np.allclose(outputs["result"], 2 * inputs["x"])
    return passed() if ok else failed("wrong gradient")


def _check(forbid) -> Check:
    return Check("square_grad", _inputs, _apply, _judge, seeds=(0, 1), forbid=forbid)


def test_a_check_that_forbids_autograd_scores_its_use_zero_with_the_reason():
    check = _check((AUTOGRAD,))
    assert check.verdict(grad_by_hand).passed
    for fn in (grad_by_autograd, grad_by_torch_func):
        assert check.verdict(fn) != passed()  # a right answer, by the forbidden route
        assert check.verdict(fn).message.startswith("square_grad: uses torch.autograd")
    assert _check(()).verdict(grad_by_autograd).passed  # no rule: only the values count


def test_the_watch_alone_fails_code_the_scan_cannot_read():
    hidden = eval("lambda x: torch.func.grad(lambda t: (t ** 2).sum())(x)")  # no source to read
    assert scan(hidden, (AUTOGRAD,)) is None
    verdict = _check((AUTOGRAD,)).verdict(hidden)
    assert not verdict.passed and "it called" in verdict.message and "scores 0" in verdict.message


def test_scan_resolves_aliases(tmp_path, monkeypatch):
    (tmp_path / "student_answers.py").write_text(
        "import torch\n"
        "from torch.optim import Adam\n"
        "from torch import autograd as ag\n"
        "from torch.func import grad\n\n"
        "def h(f, x):\n    return grad(f)(x)\n\n"
        "def opt(ps):\n    return Adam(ps)\n\n"
        "def g(y, x):\n    return ag.grad(y, x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import student_answers

    assert "torch.optim.Adam on line 2 of opt" in scan(student_answers.opt, BOTH)
    assert "torch.autograd.grad on line 2 of g" in scan(student_answers.g, BOTH)
    assert "torch.func.grad on line 2 of h" in scan(student_answers.h, BOTH)


# --- the same scan in the visible tests -------------------------------------------------------------


def test_the_visible_tests_fail_a_forbidden_use_with_the_hidden_checks_message():
    from autograder.checks.source_scan import assert_allowed

    check = _check((AUTOGRAD,))
    for fn in (grad_by_autograd, grad_by_autograd_grad, grad_by_torch_func):
        with pytest.raises(AssertionError) as visible:
            assert_allowed("square_grad", fn, "torch.autograd")
        assert str(visible.value) == check.verdict(fn).message
    assert_allowed("square_grad", grad_by_hand, "torch.autograd")  # clean code passes, silently
    with pytest.raises(KeyError):
        assert_allowed("square_grad", grad_by_hand, "no such rule")


def test_every_forbidding_task_s_tests_start_with_the_scan_and_only_theirs():
    from autograder import build
    from autograder.cells import Task

    seen = 0
    for name in build.SPECS:
        spec = build.load_spec(name)
        nb = build.notebook(spec)
        tests = {c.id: c.source for c in nb.cells}
        for task in (c for c in spec.cells if isinstance(c, Task)):
            source = tests[f"test_{task.name}"]
            first = source.split("\n\n")[0:2]
            rules = build.forbidden_rules(task)
            if rules:
                seen += 1
                assert first[0].startswith("from source_scan import assert_allowed"), task.name
                assert first[1].startswith(f'assert_allowed("{task.name}", {task.name}, '), first
                for rule in rules:
                    assert f'"{rule}"' in first[1]
            else:
                assert "assert_allowed" not in source, task.name
    assert seen >= 8  # homework 2's seven tasks and homework 3's optimizers and clipping
