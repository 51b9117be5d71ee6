"""The probes: the one step of a check that runs student code, and the only grading code in the sandbox.

Every check (``autograder.checks``) is three steps; the middle one, ``apply(student_fn, inputs)``, lives
here, one module per homework (``PROBES``: task name → apply), so that the sandbox holds this package
and ``autograder/probe.py`` and nothing of the checks' judging code, the reference solutions or the
mutant catalogues. An apply calls the student's function on fresh tensors made from the inputs and hands
back **plain data**: the values it returned, the values of its inputs after the call, the order of the
calls it made, the exception it raised; never a verdict. Whether an input was changed in place, whether
two trainings started alike, whether an exception was the right one: the judge decides all of that
outside, from these arrays (``autograder.checks``).

Student code in the sandbox can patch anything it can reach, so this module does not trust what it
finds at run time:

- the numpy and torch routines it uses are bound **when it is imported**, before any answer cell runs
  (a cell that patches ``np.array_equal``, ``torch.equal``, ``torch.Tensor.detach`` or ``np.savez``
  changes nothing here), and tensors are read with torch's C methods called unbound, with torch-function
  overrides and Python dispatch modes switched off (a ``torch.Tensor`` subclass, or a mode the student
  left active, cannot make a tensor read as other values);
- what comes back is examined with exact type checks, never through its own methods (``__array__``,
  ``__float__``, ``__len__``, ``__eq__``, …); anything unexpected becomes a typed failure output, and
  what the student's code raises, anywhere, becomes an ``error`` output instead of ending the probe;
- every string that comes from student code (an exception, a type name) is reduced here to a bounded,
  printable line: an exception to its type, a library's or the nearest library base of a class the
  notebook defined, and at most :data:`MESSAGE_LIMIT` characters of its message (the grader bounds and
  screens it again outside: ``autograder.hostile.student_text``).

Builtins (``len``, ``isinstance``, …) are the interpreter's: a cell that patches them breaks the probe,
which costs that task, and can forge no fact the judge relies on.
"""

from __future__ import annotations

import builtins
import collections
import decimal
import fractions
import types
import warnings
from collections.abc import Callable

import numpy as np
import torch
import torch.nn
import torch.return_types
from torch.overrides import TorchFunctionMode

from ..lockdown import stack_files

__all__ = [
    "MESSAGE_LIMIT",
    "NAME_LIMIT",
    "STUDENT_CLASS",
    "AutogradWatch",
    "TaskTimeout",
    "after",
    "call",
    "case",
    "clean",
    "describe",
    "encode",
    "grad_of",
    "is_floating",
    "load",
    "mro_of",
    "run",
    "save",
    "tensor",
    "text",
    "type_name",
    "values",
]

MESSAGE_LIMIT = 160  # characters of an exception's message
NAME_LIMIT = 40  # characters of a type name
MAX_ELEMENTS = 1 << 21  # values read from one tensor or array (16 MiB as float64); more: unread
STUDENT_CLASS = "an object of a class defined in the notebook"


class TaskTimeout(BaseException):
    """Raised by the probe's alarm: a BaseException, so that ``except Exception`` in student code
    lets it by; :func:`call` lets it by too."""


# ---------------------------------------------------------------------------------------------------
# Bound at import, before any answer cell runs
# ---------------------------------------------------------------------------------------------------

_np_array = np.array
_np_asarray = np.asarray
_np_savez = np.savez
_np_load = np.load
_np_errstate = np.errstate
_catch_warnings = warnings.catch_warnings
_simplefilter = warnings.simplefilter
_torch_tensor = torch.tensor
_F64 = torch.float64
_Base = torch._C.TensorBase  # the C methods every tensor has, whatever its Python class says
_detach = _Base.detach
_to = _Base.to
_numpy = _Base.numpy
_numel = _Base.numel
_is_floating_point = _Base.is_floating_point
_dtype_of = _Base.dtype.__get__
_grad_of = _Base.grad.__get__
_no_torch_function = torch._C.DisableTorchFunction  # subclasses' and modes' __torch_function__
_no_torch_dispatch = torch._C._DisableTorchDispatch  # Python dispatch modes and __torch_dispatch__
# a class's real MRO, past anything its metaclass says (a __getattribute__, a __mro__ property)
mro_of = type.__dict__["__mro__"].__get__
_READABLE_INTEGERS = (torch.int64, torch.int32, torch.bool)


def _library_names() -> dict[type, str]:
    """The classes of the builtins, the standard types, numpy and torch, by their names as they are now
    (a cell could rename a class later, or make one that claims to come from a library)."""
    modules = (builtins, types, collections, fractions, decimal, np, np.linalg, torch, torch.nn)
    modules += (torch.linalg, torch.return_types, np.exceptions)
    names = {
        value: value.__name__
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type)
    }
    names.update({type(None): "NoneType", type(NotImplemented): "NotImplementedType"})
    names.update({type(Ellipsis): "ellipsis", torch.nn.Parameter: "Parameter"})
    return {
        cls: "".join(ch for ch in name if ch.isalnum() or ch == "_") for cls, name in names.items()
    }


_LIBRARY = _library_names()


# ---------------------------------------------------------------------------------------------------
# Text from student code: bounded, one line, printable
# ---------------------------------------------------------------------------------------------------


def text(value: str) -> np.ndarray:
    """A string as a 0-d numpy array (how ``apply`` hands back type names, dtypes, messages)."""
    return _np_array(value, dtype=np.str_)


def clean(value: str, limit: int = MESSAGE_LIMIT) -> str:
    """``value`` on one line of printable characters, at most ``limit`` of them (… marks a cut)."""
    value = str.__str__(value)[: 4 * limit]  # an exact str: a subclass's methods could be anyone's
    value = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def type_name(value: object) -> str:
    """The name of ``value``'s class if the builtins, numpy or torch define it, else
    :data:`STUDENT_CLASS` (a class's own name is student text: it could say anything)."""
    return _LIBRARY.get(type(value), STUDENT_CLASS)


def _exception_name(cls: type) -> str:
    """The name of the exception class ``cls``, or of its nearest base a library defines."""
    for base in mro_of(cls):
        if base in _LIBRARY and issubclass(base, BaseException):
            return _LIBRARY[base][:NAME_LIMIT]
    return "Exception"


def describe(err: BaseException) -> str:
    """An exception as ``"Type: message"``: the type as :func:`_exception_name` names it, and the first
    non-blank line of its message, made :func:`clean` (its ``__str__`` is student code: if that raises,
    the type alone)."""
    try:
        name = _exception_name(type(err))
    except Exception:
        name = "Exception"
    try:
        message = str(err)
        lines = [
            line for line in str.__str__(message)[: 4 * MESSAGE_LIMIT].splitlines() if line.strip()
        ]
        message = clean(lines[0]) if lines else ""
    except TaskTimeout:
        raise
    except Exception:
        message = ""
    return f"{name}: {message}" if message else name


# ---------------------------------------------------------------------------------------------------
# Tensors in and out
# ---------------------------------------------------------------------------------------------------


def tensor(array: np.ndarray, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A fresh CPU tensor holding a copy of an input array (student code may modify it)."""
    with _no_torch_function(), _no_torch_dispatch():
        return _torch_tensor(_np_asarray(array), dtype=dtype)


def values(t: object) -> np.ndarray | None:
    """The values of the tensor ``t`` as a float64 array, read with torch's own C routines whatever
    ``t``'s class or the modes active say; None when they cannot be read (not a tensor, no storage,
    over :data:`MAX_ELEMENTS`)."""
    try:
        with _no_torch_function(), _no_torch_dispatch(), _catch_warnings():
            _simplefilter("ignore")
            if _numel(t) > MAX_ELEMENTS:
                return None
            plain = _to(_detach(t), device="cpu", dtype=_F64)
            return _np_array(_numpy(plain, force=True), dtype=np.float64, copy=True)
    except Exception:
        return None


def is_floating(t: torch.Tensor) -> bool:
    """Whether the tensor ``t`` holds floating-point numbers (asked of torch, not of ``t``'s class)."""
    with _no_torch_function(), _no_torch_dispatch():
        return _is_floating_point(t)


def grad_of(t: torch.Tensor) -> torch.Tensor | None:
    """``t.grad``, read past any override of ``t``'s class."""
    with _no_torch_function(), _no_torch_dispatch():
        return _grad_of(t)


def after(when: str = "after", **inputs: torch.Tensor) -> dict[str, np.ndarray]:
    """The values of input tensors at some point (``"after.X"``, …): the judge compares them with the
    inputs to see whether student code changed one in place. An input whose values cannot be read is
    left out, and the judge counts that as changed."""
    out = {}
    for name, t in inputs.items():
        read = values(t)
        if read is not None:
            out[f"{when}.{name}"] = read
    return out


def encode(value: object, key: str) -> dict[str, np.ndarray]:
    """Describe one returned value as plain arrays: ``key.type``, ``key.dtype`` and ``key`` (float64).

    A ``torch.Tensor`` (exactly; a subclass could override anything) or a numpy array keeps its values
    when they are numbers; anything else only its type name (:func:`type_name`).
    """
    out = {f"{key}.type": text(type_name(value))}
    cls = type(value)
    if cls is torch.Tensor:
        with _no_torch_function(), _no_torch_dispatch():
            dtype = _dtype_of(value)
            readable = _is_floating_point(value) or dtype in _READABLE_INTEGERS
        out[f"{key}.dtype"] = text(str(dtype).removeprefix("torch."))
        read = values(value) if readable else None
        if read is not None:
            out[key] = read
    elif cls is np.ndarray:
        out[f"{key}.dtype"] = text(clean(value.dtype.name, NAME_LIMIT))
        if value.dtype.kind in "fiub" and value.size <= MAX_ELEMENTS:
            out[key] = _np_array(value, dtype=np.float64, copy=True)
    return out


# ---------------------------------------------------------------------------------------------------
# Calling student code
# ---------------------------------------------------------------------------------------------------


def call(fn: Callable, *args, **kwargs) -> tuple[object, dict[str, np.ndarray]]:
    """Call student code with warnings silenced (stderr output scores an nbgrader test cell 0).

    Returns ``(result, {})``, or ``(None, {"error": "ExceptionType: message"})`` (:func:`describe`)
    when it raised anything, ``SystemExit`` included, but the probe's alarm (:class:`TaskTimeout`) and
    ``KeyboardInterrupt`` (so that Ctrl-C still stops a test run; in the sandbox it ends the run, like
    ``os._exit``, which costs that task only).
    """
    try:
        with _catch_warnings():
            _simplefilter("ignore")
            with _np_errstate(all="ignore"):
                return fn(*args, **kwargs), {}
    except (TaskTimeout, KeyboardInterrupt):
        raise
    except BaseException as err:
        return None, {"error": text(describe(err))}


def case(seed: int, cases: list) -> object:
    """The case a seed picks: seeds ``range(len(cases))`` cover every case."""
    return cases[seed % len(cases)]


# ---------------------------------------------------------------------------------------------------
# The watch, and running one apply
# ---------------------------------------------------------------------------------------------------

# by name, not by object: a lockdown (autograder/lockdown.py) replaces these functions wherever they
# are bound, and a set holding them would stand in its way
_AUTOGRAD_CALLS = frozenset(
    {
        ("torch.autograd", "grad"),
        ("torch.autograd", "backward"),
        ("torch._tensor", "Tensor.backward"),
    }
)


def _requires_grad(value: object) -> bool:
    if isinstance(value, torch.Tensor):
        return value.requires_grad
    if isinstance(value, (tuple, list)):
        return any(_requires_grad(v) for v in value)
    return False


class AutogradWatch(TorchFunctionMode):
    """Records the first torch call that uses autograd while it is active (``with AutogradWatch()``).

    ``used``: None, or the name of that call. The inputs a probe makes never require gradients, so a
    tensor that does, or a call of ``backward`` / ``torch.autograd.grad``, can only come from student
    code. The watch only records; it never changes a result, and whether the use is forbidden is the
    judge's decision (``autograder.checks.forbidden``).
    """

    def __init__(self):
        super().__init__()
        self.used: str | None = None
        self.files: tuple[str, ...] = ()  # the code files on the stack of that call

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if self.used is None:
            name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
            if (getattr(func, "__module__", None), name) in _AUTOGRAD_CALLS or _requires_grad(
                result
            ):
                self.used = clean(name, 80) if isinstance(name, str) else "a torch function"
                self.files = stack_files(1)
        return result


# Set by the sandbox's probe (``autograder.probe.CellNames``): which answer cells the code files on a
# stack are, so that an autograd use seen in one task's probe names the cell that made it.
cells_of: Callable[[tuple[str, ...]], list[str]] | None = None


def run(apply: Callable, student_fn: Callable, inputs: dict[str, np.ndarray]) -> dict:
    """One probe: ``apply(student_fn, inputs)`` under the :class:`AutogradWatch`.

    Its outputs, plus ``"watch.autograd"`` (the first autograd call seen) when there was one; if student
    code raised where ``apply`` did not expect it (a hostile ``__len__`` on what came back), the output
    is ``"probe.error"`` with the exception (:func:`describe`), never an exception out of here.
    """
    watch = AutogradWatch()
    try:
        with watch:
            outputs = apply(student_fn, inputs)
    except (TaskTimeout, KeyboardInterrupt):
        raise
    except BaseException as err:
        outputs = {"probe.error": text(describe(err))}
    if watch.used is not None:
        outputs["watch.autograd"] = text(watch.used)
        if cells_of is not None:
            outputs["forbidden_in"] = _np_array(cells_of(watch.files)[:8], dtype=np.str_)
    return outputs


def save(path, outputs: dict[str, np.ndarray]) -> None:
    """Write a probe's outputs as ``.npz``, plain arrays, no pickle."""
    _np_savez(path, **outputs)


def load(path) -> dict[str, np.ndarray]:
    """Read a probe's inputs (``.npz``, no pickle)."""
    with _np_load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
