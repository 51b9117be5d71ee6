"""The Russian wording of every message a student gets from the checks and the grader.

``autograder/messages_ru.py`` holds the patterns ``translate_message(message, "ru")`` applies. Here every
homework's mutants and the ``GARBAGE`` of ``tests/grading.py`` go through its checks, and each failing
message, translated, must read as Russian: Cyrillic in it, no English prose left once the parts that
are code (identifiers, formulas, calls) and the parts that came from student code (an exception's
message after ``raised``) are set aside, that student text unchanged, and translating twice the same
as once. The grader's own messages (``autograder/grade.py``) are listed below and checked alike.
"""

from __future__ import annotations

import re

import pytest

from autograder.hostile import WITHHELD
from autograder.i18n import translate_message
from autograder.registry import homeworks
from tests.grading import GARBAGE

SEEDS = range(5)  # a mutant that passes these runs on its check's default seeds

# The grader's own messages: the texts of autograder/grade.py (``_judge_task``'s zero(...), the crash
# and time-out texts of ``_Runner.run``, ``_CALLED_FORBIDDEN``), with what they pass on from
# autograder/intake.py (a submission that cannot be read, the scan of an answer cell),
# autograder/hostile.py (a probe's output that cannot be used) and ``Check.run_judge``.
GRADER_MESSAGES = [
    "mse: the answer cell is missing from the submission",
    "Linear: uses torch.autograd (x.backward on line 3 of the answer cell): this task asks for "
    "gradients computed by hand (the chain rule, layer by layer), not by torch.autograd, so it "
    "scores 0",
    "mse: the answer uses line 3: imports ctypes: ctypes (raw memory access); line 5: uses os.system "
    "(0 points; for review)",
    "mse: the answer uses line 1: an IPython magic or shell command (%timeit mse(a, b)) (0 points; "
    "for review)",
    "mse: the answer uses line 4: a syntax error (invalid syntax) (0 points; for review)",
    "mse: the answer uses copy 2 of 2, line 3: uses __globals__ (introspection) (0 points; for review)",
    "mse: the answer uses the cell is nested too deeply to be read (RecursionError) (0 points; for "
    "review)",
    "mse: the answer uses line 2: getattr with a computed name; line 6: a global statement (w, b) "
    "(0 points; for review)",
    "mse: the answer uses line 7: uses deleting files; line 8: imports socket: sockets (the network); "
    "line 9: imports pathlib: the file system (0 points; for review)",
    "SGD: the answer uses line 3: uses torch.optim's optimizers (torch.optim.SGD) (0 points; for "
    "review)",
    "mse: running this answer cell ended the notebook's process (the 30 s limit of one cell)",
    "mse: checking it ended the notebook's process (the 65 s limit of one task)",
    "mse: checking it ended the notebook's process (signal SIGKILL)",
    "mse: running this answer cell ended the notebook's process (exit status 1)",
    "mse: the notebook could not be run (the wall clock (600 s))",
    "mse: not checked: the submission used up its time (the time limit of the submission (1200 s))",
    "mse: the answer cell raised NameError: name 'torch' is not defined",
    f"mse: the answer cell raised ValueError: {WITHHELD}",
    "mse: the answer cell raised an error",
    "mse: mse is not defined after running the answer cells",
    "mse: took longer than 60 s",
    "mse: was not checked (crashed)",
    "mse: was not checked (forbidden)",
    "mse: was not checked (the run stopped)",
    "mse: no output",
    "mse: the output is not an .npz archive",
    "mse: the output holds more than 512 arrays",
    "mse: the output holds something other than arrays",
    "mse: the output's arrays are too large",
    "mse: the output is truncated",
    "mse: the output could not be read",
    "mse: the output 3.npz: a symbolic link on its path (refused)",
    "mse: the output 3.npz: not a regular file",
    "mse: the output 3.npz: 20000000 bytes, over the 16777216-byte limit",
    "mse: the output 3.npz: over the 16777216-byte limit",
    "mse: the output 3.npz: a path through something that is not a folder",
    "mse: the output 3.npz: cannot be opened (Permission denied)",
    "Linear: used what this homework forbids, and it was refused at run time when another task "
    "called it; 0 points, for review",
    "MLPRegressor: what the function returned could not be examined: RecursionError: maximum "
    "recursion depth exceeded was raised",
    "Linear: uses torch.autograd (it called Tensor.backward, or made a tensor that requires grad): "
    "this task asks for gradients computed by hand (the chain rule, layer by layer), not by "
    "torch.autograd, so it scores 0",
    "SGD: uses torch.autograd, torch.optim's optimizers: it was refused at run time, so it scores 0 "
    "(for review)",
    "clip_grad_norm_: uses torch.autograd, torch.optim's optimizers, torch.nn.utils' clipping: it "
    "was refused at run time, so it scores 0 (for review)",
    "mse: uses what this homework forbids: it was refused at run time, so it scores 0 (for review)",
    "mse: the output could not be checked (IndexError)",
    "hw1.ipynb: not a readable notebook: empty file",
    "hw1.ipynb: not a readable notebook: not UTF-8 (UTF-16 text? save the notebook from Jupyter)",
    "hw1.ipynb: not a readable notebook: not UTF-8 (binary data, not a notebook)",
    "hw1.ipynb: not a readable notebook: too large (25.0 MiB, over the 20.0 MiB cap of a notebook; "
    "clear the outputs and save it again)",
    "hw1.ipynb: not a readable notebook: nested deeper than 64 levels (a notebook is about 8 deep): "
    "crafted, not written by Jupyter",
    "hw1.ipynb: not a readable notebook: too many JSON values (about 2000000, over the cap of "
    "1000000; clear the outputs and save it again)",
    "hw1.ipynb: not a readable notebook: not JSON (Expecting value at line 1, column 1; truncated?)",
    "hw1.ipynb: not a readable notebook: not a notebook (JSON without an 'nbformat' version)",
    "hw1.ipynb: not a readable notebook: too many cells (5000, over the cap of 2000)",
    "hw1.ipynb: not a readable notebook: not a notebook (nbformat version 9 does not exist)",
    "hw1.ipynb: not a readable notebook: not a notebook (Notebook JSON is invalid: 'cells' is a "
    "required property)",
    "hw1.ipynb: not a readable notebook: not a notebook (its 'cells' is not a list)",
    "hw1.ipynb: not a readable notebook: cell 3 holds 2000000 characters, over the cap of 1000000",
    "hw1.ipynb: not a readable notebook: not a notebook (RecursionError while reading it)",
    "hw1.ipynb: not a readable notebook: unreadable file (Permission denied)",
    "hw1.ipynb: no such file",
    "hw1.ipynb: not a regular file",
]

# Texts of the checks that no mutant of the catalogues reaches (autograder/checks/__init__.py and
# the homeworks' checks.py), worded as the checks word them.
CHECK_MESSAGES = [
    "add_intercept: columns 1.. (the features): max relative error 1 against the reference "
    "(tolerance 1e-08)",
    "mse: the result is an object of a class defined in the notebook, expected a torch.Tensor",
    "mse: the result could not be read as numbers",
    "Linear: gradients() returned 1 tensors, expected 2 ([dW, db], in the order of parameters())",
    "Linear: forward or backward changed its input x in place",
    "Linear: forward or backward changed W or b: only the optimizer step may",
    "Linear: ∂L/∂x has shape (4, 3), expected (4, 5): ∂L/∂x = g Wᵀ has the shape of x (second "
    "forward/backward)",
    "Linear: raised RuntimeError: bad (in backward(grad_output, need_input_grad=False))",
    "Linear: raised TypeError: no (in setting W and b through parameters())",
    "Linear: with need_input_grad=False backward returned an object of a class defined in the "
    "notebook; it returns None (∂L/∂x is skipped: the data needs no gradient)",
    "ReLU: backward changed the input x of forward in place",
    "ReLU: ∂L/∂x: max relative error 1 against the reference (tolerance 1e-10) (∂L/∂x = g ⊙ f'(x) "
    "with f'(x) = 1 for x > 0, 0 for x ≤ 0)",
    "Sigmoid: ∂L/∂x: max relative error 1 against the reference (tolerance 1e-10) (∂L/∂x = g ⊙ "
    "f'(x) with σ'(x) = y(1 − y), y = σ(x))",
    "Sequential: forward called the layers in the order [1, 0]; expected [0, 1], each once, first "
    "to last, each on the output of the one before",
    "Sequential: forward or backward changed the input x in place",
    "Sequential: a Linear layer's gradients were not filled in",
    "Sequential: with need_input_grad=False: a Linear layer's gradient: max relative error 1 "
    "against the reference (tolerance 1e-09)",
    "MSELoss: the loss has shape (3,), expected (): the loss is one number, a 0-d tensor (the mean "
    "over all N elements)",
    "MSELoss: forward or backward changed pred or target in place",
    "MSELoss: the loss: max relative error 0.5 against the reference (tolerance 1e-10); that is the "
    "mean absolute error: square the differences",
    "MLPRegressor: two trainings with the same random_state started from different weights: draw "
    "them from the generator that _train passes to _build_network",
    "MLPRegressor: parameters() after one epoch holds 2 tensors, expected 4: a Linear (W and b) for "
    "each pair of consecutive widths (3, 5, 1)",
    "MLPRegressor: train changed X or y in place",
    "MLPRegressor: loss_history_: max relative error 0.1 against the reference (tolerance 1e-07) "
    "from the same initial weights: check the step p ← p − η ∂L/∂p of every parameter (in "
    "mini-batch mode the rows' order is drawn from the same generator after the weights)",
    "MLPRegressor: b of layer 2 moved after training by 0.5 × the right step η ∂L/∂p",
    "MLPRegressor: b of layer 2 after training has dtype float64, expected float32 (the dtype of "
    "the inputs)",
    "MLPRegressor: loss_history_ is a NoneType, expected a torch.Tensor",
    "SGD: after step 3 the parameters could not be read as numbers (a tensor without storage, or "
    "no longer a tensor?)",
    "SGD: the parameter groups could not be read after a step (group[...] changed?)",
    "SGD: p.grad was changed in place (or could not be read back): leave it alone",
    "SGD: raised RuntimeError: student bug when p.grad is one tensor that the caller overwrites in "
    "place between steps",
    "SGD: raised the run stopped when p.grad is one tensor that the caller overwrites in place "
    "between steps",
    "SGD: p.grad was changed in place at step 2 when p.grad is one tensor that the caller "
    "overwrites in place between steps",
    "SGD: the gradient handed to step 2 was changed by a later step when p.grad is one tensor that "
    "the caller overwrites in place between steps",
    "SGD: the parameters could not be read when p.grad is one tensor that the caller overwrites in "
    "place between steps",
    "SGD: parameter 0 after the run has dtype float64, expected float32 (its dtype before the run)",
    "SGD: parameter 1 after the run is a NoneType, expected a torch.Tensor",
    "SGD: SGD(params, ...) gave an object of a class defined in the notebook, expected an optimizer "
    "with a step() method",
    "step_decay: the rate at step 3 is nan",
    "step_decay: returned an object of a class defined in the notebook at step 2, expected a float",
    "clip_grad_norm_: with no gradient at all: the result is not a floating-point tensor (expected "
    "a tensor 0.0)",
    "clip_grad_norm_: with no gradient at all: the result is not 0 (expected a tensor 0.0)",
    "clip_grad_norm_: a parameter without a gradient got one: skip p.grad = None",
    "clip_grad_norm_: grad1 has shape (3,), expected (2, 3)",
    "gradcheck: the result has 1 checks for 2 inputs",
    "gradcheck: a PrecisionWarning on float64 inputs",
    "gradcheck: the check passed gradients of W that are twice the true ones",
    "gradcheck: the check passed a transposed gradient of a square W",
    "gradcheck: the check passed gradients of W with three wrong elements (each element has its own "
    "tolerance atol + rtol·|numericᵢ|: not one for the whole input, and atol and rtol each in its "
    "place)",
    "gradcheck: the check failed correct gradients (is the atol argument used? here atol = 0.01)",
    "gradcheck: input W: passed, expected fail (is the rtol argument used? here rtol = 0.0001)",
    "gradcheck: raised ValueError: bad shape on a gradient of W of the wrong shape: report a "
    "failure for that input instead",
    "relative_error: relative_error changed a or b in place",
    "relative_error: the result is inf",
    "relative_error: the result is an object of a class defined in the notebook, expected a Python "
    "float (convert with float(...))",
    "numerical_gradient: raised RuntimeError: student bug (f may return a 0-d tensor, a "
    "one-element tensor or a float: use float(f(x)))",
]


# ---------------------------------------------------------------------------------------------------
# What a message holds that is not the catalogue's to translate
# ---------------------------------------------------------------------------------------------------

# what a check writes after a student's exception: the student's text ends where one of these starts
_AFTER_RAISED = (
    " (in ",
    " at step ",
    " when p.grad is one tensor",
    " on a gradient of ",
    " (f may return",
    ": broadcasting would make",
    ", expected a RuntimeError",
    ": raise only when asked to",
    " (expected a tensor 0.0)",
    " for large |z|",
    " (return the total norm",
    " (second forward/backward)",
)
# text from the student's code (or from Python, a parser, the OS) in the other places a message has it
_FOREIGN = [
    re.compile(r"could not be examined: (.+) was raised$"),
    re.compile(r"\(it called (.+?), or made a tensor"),
    re.compile(r" subclasses (.+?): write the update"),
    re.compile(r"shell command \((.*?)\)(?:; | \(0 points|$)"),
    re.compile(r"a syntax error \((.*?)\)(?:; | \(0 points|$)"),
    re.compile(r"not JSON \((.+?) at line \d+"),
    re.compile(r"(?:unreadable file|cannot be opened) \((.*)\)$"),
    re.compile(r"not a notebook \((?!JSON without|nbformat version|its 'cells'|\w+ while)(.*)\)$"),
    re.compile(r"^(.+?): not a readable notebook: "),
    re.compile(r"^([^:]+): (?:no such file|not a regular file)$"),
]
_GRADER_DEFAULTS = {"an error", "an exception", "the run stopped"}  # the grader's words, not theirs


def student_parts(message: str) -> list[str]:
    """The parts of an English ``message`` that came from student code (or another program): after
    ``raised `` up to the end of that clause, and the :data:`_FOREIGN` places."""
    parts = []
    found = re.search(r"\braised ", message)
    if found:
        rest = message[found.end() :]
        ends = [rest.find(end) for end in _AFTER_RAISED if end in rest]
        parts.append(rest[: min(ends, default=len(rest))])
    for pattern in _FOREIGN:
        parts += [m.group(1) for m in pattern.finditer(message)]
    pieces = []
    for part in parts:
        if part not in _GRADER_DEFAULTS:  # the grader's WITHHELD is the catalogue's to translate
            pieces += [p for p in part.split(WITHHELD) if p.strip()]
    return pieces


_CALL = re.compile(r"[\w.]+\((?:[^()]|\([^()]*\))*\)")  # f(x), GradcheckResult(checks, eps, …)
_WORD = re.compile(r"[A-Za-z]{2,}")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def _is_code(token: str, core: str) -> bool:
    """An identifier, a formula or a name: ``_ . = (`` or a digit in it, CamelCase or capitals
    (``NaN``, ``SGD``), or a single letter."""
    return (
        bool(re.search(r"[_.=(\d]", token))
        or bool(re.search(r"[a-z][A-Z]|[A-Z].*[A-Z]", core))
        or len(core) < 2
    )


def english_prose(russian: str, student: list[str]) -> list[str]:
    """Two consecutive English words left in a translation, once the task's name, backtick spans,
    calls, the ``student`` parts and code tokens are set aside."""
    text = re.sub(r"^[\w.]+: ", "", russian)  # the task's name, kept as it is
    for part in student:
        text = text.replace(part, " | ")
    text = re.sub(r"`[^`]*`", " | ", text)
    text = _CALL.sub(" | ", text)
    found, previous = [], None
    for token in text.split():
        core = token.strip(".,;:!?()[]{}\"'«»—")
        word = core if _WORD.fullmatch(core) and not _is_code(token, core) else None
        if word and previous:
            found.append(f"{previous} {word}")
        previous = word
    return found


def check_translation(message: str) -> list[str]:
    """What is wrong with the Russian of ``message`` (empty: nothing)."""
    russian = translate_message(message, "ru")
    student = student_parts(message)
    problems = []
    if translate_message(message, "en") != message:
        problems.append("the English edition changes the message")
    if not _CYRILLIC.search(russian):
        problems.append("no Cyrillic")
    problems += [f"student text changed: {part!r}" for part in student if part not in russian]
    prose = english_prose(russian, student)
    if prose:
        problems.append(f"English left: {prose}")
    again = translate_message(russian, "ru")
    if again != russian:
        problems.append(f"translating twice gives {again!r}")
    return [f"{message}\n  -> {russian}\n  {p}" for p in problems]


def failing_messages(homework, seeds) -> set[str]:
    """The messages of every mutant and every GARBAGE entry of ``homework`` over ``seeds`` (a
    mutant that passes them: over its check's default seeds)."""
    checks = homework.checks
    cases = [(task, fn) for task, fns in homework.mutants.items() for fn in fns]
    cases += [(task, fn) for task in checks for fn in GARBAGE.values()]
    messages = set()
    for task, fn in cases:
        result = checks.verdict(task, fn, seeds)
        if result.passed:
            result = checks.verdict(task, fn)
        if not result.passed:
            messages.add(result.message)
    return messages


# ---------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(homeworks()))
def test_checks_messages_read_as_russian(key):
    messages = failing_messages(homeworks()[key], SEEDS)
    assert len(messages) > 20
    problems = [p for message in sorted(messages) for p in check_translation(message)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.slow
@pytest.mark.parametrize("key", list(homeworks()))
def test_checks_messages_of_every_seed_read_as_russian(key):
    """Each seed of the default ones alone: the messages of the cases a first failure hides."""
    homework = homeworks()[key]
    checks = homework.checks
    messages = set()
    cases = [(task, fn) for task, fns in homework.mutants.items() for fn in fns]
    cases += [(task, fn) for task in checks for fn in GARBAGE.values()]
    for task, fn in cases:
        for seed in checks[task].seeds:
            result = checks.verdict(task, fn, [seed])
            if not result.passed:
                messages.add(result.message)
    problems = [p for message in sorted(messages) for p in check_translation(message)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("message", GRADER_MESSAGES + CHECK_MESSAGES)
def test_grader_and_unreached_messages_read_as_russian(message):
    assert not check_translation(message), "\n".join(check_translation(message))


def test_student_text_is_never_translated():
    """Text from student code comes out as it went in, even where it reads like a check's words."""
    for message in [
        "mse: raised ValueError: the result is a list, expected a torch.Tensor",
        "Linear: raised RuntimeError: the gradient of W has shape (2,), expected (3,) (in forward)",
        "SGD: raised ValueError: max relative error 1 against the reference (tolerance 1) at step 2",
        "mse: the answer cell raised TypeError: the output could not be read as numbers",
    ]:
        russian = translate_message(message, "ru")
        (part,) = student_parts(message)
        assert part in russian and _CYRILLIC.search(russian), russian
        assert translate_message(russian, "ru") == russian


def test_forbidden_use_keeps_source_scan_wording():
    """The scan's sentence is source_scan's own Russian (the notebook's visible tests say the same)."""
    from autograder.checks.source_scan import AUTOGRAD, message, where

    english = "Linear: " + message(AUTOGRAD, ("x", "backward"), where(3, "Linear.backward"), "en")
    russian = "Linear: " + message(
        AUTOGRAD, ("x", "backward"), where(3, "Linear.backward", "ru"), "ru"
    )
    assert translate_message(english, "ru") == russian
