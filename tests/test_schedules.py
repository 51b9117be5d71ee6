"""Homework 3: learning-rate schedules against torch.optim.lr_scheduler.

Where PyTorch defines the same schedule the learning-rate sequences agree (PyTorch updates most rates
recursively, lr_t from lr_{t−1}; ours are closed forms, so the comparison allows rounding: 1e-13
relative). Where ours differ on purpose — warm-up from exactly 0, cosine flat past T_max — the tests
pin down both sides of the difference.
"""

import io
import math

import pytest
import torch
from torch.optim import lr_scheduler as L

from solutions import optim as zoo
from solutions import schedules as S

RTOL = 1e-13
BASE_LRS = (0.1, 0.03)  # two parameter groups with their own base rates


def make_optimizer(kind: str, device="cpu"):
    a = torch.zeros(3, dtype=torch.float64, device=device)
    b = torch.zeros(2, dtype=torch.float64, device=device)
    groups = [{"params": [a], "lr": BASE_LRS[0]}, {"params": [b], "lr": BASE_LRS[1]}]
    if kind == "zoo":
        return zoo.SGD(groups, momentum=0.9)
    return torch.optim.SGD(groups, momentum=0.9)


def lr_sequence(optimizer, scheduler, steps: int) -> torch.Tensor:
    """(steps, groups): the learning rate each optimizer step used."""
    rows = []
    for _ in range(steps):
        rows.append([group["lr"] for group in optimizer.param_groups])
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.grad = torch.ones_like(p)
        optimizer.step()
        scheduler.step()
    return torch.tensor(rows, dtype=torch.float64)


def assert_close_lrs(ours, theirs):
    scale = max(BASE_LRS)
    torch.testing.assert_close(ours, theirs, rtol=RTOL, atol=RTOL * scale)


# (ours, torch's, steps): the same schedule, over a range where PyTorch defines the same thing
TWINS = {
    "step": (
        lambda o: S.StepDecay(o, step_size=30, gamma=0.5),
        lambda o: L.StepLR(o, step_size=30, gamma=0.5),
        200,
    ),
    "exponential": (
        lambda o: S.ExponentialDecay(o, gamma=0.97),
        lambda o: L.ExponentialLR(o, gamma=0.97),
        200,
    ),
    "cosine": (
        lambda o: S.CosineAnnealing(o, T_max=150),
        lambda o: L.CosineAnnealingLR(o, T_max=150),
        151,
    ),
    "cosine-eta_min": (
        lambda o: S.CosineAnnealing(o, T_max=90, eta_min=1e-3),
        lambda o: L.CosineAnnealingLR(o, T_max=90, eta_min=1e-3),
        91,
    ),
    "warmup": (
        lambda o: S.LinearWarmup(o, warmup_steps=25, start_factor=0.1),
        lambda o: L.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=25),
        100,
    ),
    "warmup-cosine": (
        lambda o: S.WarmupCosine(
            o, warmup_steps=20, total_steps=150, eta_min=1e-4, start_factor=0.05
        ),
        lambda o: L.SequentialLR(
            o,
            [
                L.LinearLR(o, start_factor=0.05, end_factor=1.0, total_iters=20),
                L.CosineAnnealingLR(o, T_max=130, eta_min=1e-4),
            ],
            milestones=[20],
        ),
        151,
    ),
}


@pytest.mark.parametrize("kind", ["zoo", "torch"])
@pytest.mark.parametrize("name", TWINS)
def test_same_lr_sequence_as_torch(name, kind):
    """Our schedulers drive our optimizers and torch's; the rates are torch's schedulers' rates."""
    ours, theirs, steps = TWINS[name]
    opt = make_optimizer(kind)
    a = lr_sequence(opt, ours(opt), steps)
    opt = make_optimizer("torch")
    b = lr_sequence(opt, theirs(opt), steps)
    assert_close_lrs(a, b)
    assert len(set(a[:, 0].tolist())) > 2  # the schedule does change the rate


FUNCTIONS = {
    "step": lambda t: S.step_decay(t, step_size=30, gamma=0.5),
    "exponential": lambda t: S.exponential_decay(t, gamma=0.97),
    "cosine": lambda t: S.cosine_annealing(t, T_max=150),
    "warmup": lambda t: S.linear_warmup(t, warmup_steps=25, start_factor=0.1),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_are_multipliers_for_lambda_lr(name):
    """With base_lr=1 each function is the multiplier of the base rate: LambdaLR(f) = the class."""
    ours, _, steps = TWINS[name]
    opt = make_optimizer("torch")
    a = lr_sequence(opt, L.LambdaLR(opt, FUNCTIONS[name]), steps)
    opt = make_optimizer("torch")
    b = lr_sequence(opt, ours(opt), steps)
    assert_close_lrs(a, b)


def test_function_values():
    assert S.step_decay(59, 0.1, step_size=30, gamma=0.5) == 0.1 * 0.5
    assert S.exponential_decay(3, 2.0, gamma=0.5) == 0.25
    assert S.cosine_annealing(0, 0.1, T_max=10) == 0.1
    assert S.cosine_annealing(5, 0.1, T_max=10, eta_min=0.02) == pytest.approx(0.06, rel=1e-15)
    assert S.cosine_annealing(10, 0.1, T_max=10, eta_min=0.02) == 0.02
    assert S.linear_warmup(0, 0.1, warmup_steps=4) == 0.0
    assert S.linear_warmup(1, 0.1, warmup_steps=4) == pytest.approx(0.025, rel=1e-15)
    assert S.linear_warmup(7, 0.1, warmup_steps=4) == 0.1
    assert S.linear_warmup(3, 0.1, warmup_steps=0) == 0.1
    assert S.warmup_cosine(4, 0.1, warmup_steps=4, total_steps=14) == 0.1
    assert S.warmup_cosine(14, 0.1, warmup_steps=4, total_steps=14, eta_min=0.01) == 0.01


# --------------------------------------------------------------------------------------------------
# Where ours differ from torch's on purpose
# --------------------------------------------------------------------------------------------------


def test_cosine_stays_at_eta_min_past_t_max_where_torch_rises_again():
    T = 50
    opt = make_optimizer("zoo")
    ours = lr_sequence(opt, S.CosineAnnealing(opt, T_max=T, eta_min=1e-3), 3 * T)
    opt = make_optimizer("torch")
    theirs = lr_sequence(opt, L.CosineAnnealingLR(opt, T_max=T, eta_min=1e-3), 3 * T)
    assert_close_lrs(ours[: T + 1], theirs[: T + 1])
    assert (ours[T:] == 1e-3).all()
    # torch's follows the cosine back up: the base rate again at 2·T_max
    torch.testing.assert_close(theirs[2 * T], torch.tensor(BASE_LRS, dtype=torch.float64))


def test_warmup_cosine_stays_at_eta_min_past_total_steps_where_torch_rises_again():
    opt = make_optimizer("zoo")
    ours = lr_sequence(opt, S.WarmupCosine(opt, warmup_steps=10, total_steps=60), 120)
    assert (ours[60:] == 0).all()
    opt = make_optimizer("torch")
    seq = L.SequentialLR(
        opt,
        [L.LinearLR(opt, 0.5, 1.0, 10), L.CosineAnnealingLR(opt, T_max=50)],
        milestones=[10],
    )
    theirs = lr_sequence(opt, seq, 120)
    assert float(theirs[110, 0]) > 0.9 * BASE_LRS[0]


def test_warmup_may_start_from_exactly_zero_where_linear_lr_cannot():
    W = 10
    with pytest.raises(ValueError, match="greater than 0"):
        L.LinearLR(make_optimizer("torch"), start_factor=0.0, total_iters=W)
    opt = make_optimizer("zoo")
    ours = lr_sequence(opt, S.LinearWarmup(opt, warmup_steps=W), 30)
    assert (ours[0] == 0).all()  # the first step does nothing
    torch.testing.assert_close(ours[W], torch.tensor(BASE_LRS, dtype=torch.float64), rtol=0, atol=0)
    opt = make_optimizer("torch")
    reference = lr_sequence(opt, L.LambdaLR(opt, lambda t: min(t, W) / W), 30)
    assert_close_lrs(ours, reference)
    # and with warm-up followed by cosine
    opt = make_optimizer("zoo")
    ours = lr_sequence(opt, S.WarmupCosine(opt, warmup_steps=W, total_steps=50), 50)
    assert (ours[0] == 0).all() and ours[:, 0].argmax() == W


# --------------------------------------------------------------------------------------------------
# Plumbing
# --------------------------------------------------------------------------------------------------


def test_scheduler_state_dict_round_trip():
    def make(opt):
        return S.WarmupCosine(opt, warmup_steps=10, total_steps=100, eta_min=1e-4)

    opt = make_optimizer("zoo")
    whole = lr_sequence(opt, make(opt), 100)
    opt = make_optimizer("zoo")
    sched = make(opt)
    head = lr_sequence(opt, sched, 37)
    buffer = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=False)
    opt2 = make_optimizer("zoo")
    sched2 = make(opt2)  # make the scheduler first, then load (see LRScheduler's warning)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    tail = lr_sequence(opt2, sched2, 63)
    torch.testing.assert_close(torch.cat([head, tail]), whole, rtol=0, atol=0)


def test_schedules_drive_training_like_torch(device):
    """Our Adam under our warm-up + cosine = torch's Adam under SequentialLR, step for step."""
    torch.manual_seed(0)
    H = torch.randn(6, 6, dtype=torch.float64)
    H = (H @ H.T / 6 + 0.1 * torch.eye(6, dtype=torch.float64)).to(device)
    x0 = torch.randn(6, dtype=torch.float64).to(device)

    def run(make_opt, make_sched):
        x = x0.clone()
        opt = make_opt([x])
        sched = make_sched(opt)
        for _ in range(120):
            x.grad = H @ x
            opt.step()
            sched.step()
        return x

    ours = run(
        lambda ps: zoo.Adam(ps, lr=0.05),
        lambda o: S.WarmupCosine(o, warmup_steps=15, total_steps=120, start_factor=0.2),
    )
    theirs = run(
        lambda ps: torch.optim.Adam(ps, lr=0.05, foreach=False),
        lambda o: L.SequentialLR(
            o, [L.LinearLR(o, 0.2, 1.0, 15), L.CosineAnnealingLR(o, 105)], milestones=[15]
        ),
    )
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(ours, x0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: S.step_decay(-1, step_size=3),
        lambda: S.step_decay(1, step_size=0),
        lambda: S.step_decay(1, step_size=2.5),
        lambda: S.exponential_decay(1, gamma=0.0),
        lambda: S.exponential_decay(1, gamma=math.nan),
        lambda: S.cosine_annealing(1, T_max=0),
        lambda: S.cosine_annealing(1, T_max=10, eta_min=-0.1),
        lambda: S.linear_warmup(1, warmup_steps=-1),
        lambda: S.linear_warmup(1, warmup_steps=5, start_factor=1.5),
        lambda: S.warmup_cosine(1, warmup_steps=10, total_steps=10),
        lambda: S.StepDecay(make_optimizer("zoo"), step_size=0),
        lambda: S.CosineAnnealing(make_optimizer("zoo"), T_max=0),
        lambda: S.LinearWarmup(make_optimizer("zoo"), warmup_steps=5, start_factor=-0.1),
        lambda: S.WarmupCosine(make_optimizer("zoo"), warmup_steps=5, total_steps=3),
    ],
)
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
