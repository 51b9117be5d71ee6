"""What a homework forbids, made unusable in the sandboxed process before any answer cell runs.

The probe (:mod:`autograder.probe`) calls ``lock_down(job["lockdown"])`` after its own imports and
before the first student cell: ``{"autograd"}`` for homework 2, ``{"autograd", "torch.optim",
"clipping"}`` for homework 3, nothing for homeworks 1 and 4. From then on the student's code holds no
working reference to the forbidden machinery, so any use *fails* with :class:`ForbiddenUse` ("torch.autograd
is not available in this homework's grading: it asks for gradients computed by hand") instead of merely
being observed, and :func:`checked` adds a ``"forbidden"`` output to a probe in which anything was
refused, which the check's judge scores 0.

**What is replaced**, in the C types and modules themselves, by a function that raises:

- *autograd*: the engine's ``run_backward`` (so ``backward()``, ``torch.autograd.grad``,
  ``autograd.functional``, ``torch.func.vjp``/``jacrev``, a new ``_ImperativeEngine()``, any thread);
  calling a graph node (``y.grad_fn(g)`` is a vector-Jacobian product: the ``tp_call`` slot of each of
  the ~660 node types, the default type made on first use included); ``autograd.Function.apply``;
  creating a forward-mode level (``forward_ad``, ``torch.func.jvp``/``jacfwd``/``hessian``); functorch's
  grad and jvp transforms; distributed autograd (it runs the engine locally, without RPC);
  TorchScript's symbolic differentiation (``_jit_differentiate``), with its executor's autodiff switched
  off for good (a backward graph would be readable on the optimized graph). ``requires_grad=True``,
  ``nn.Parameter``, ``no_grad``, ``enable_grad`` and ``inference_mode`` keep working: with no way to
  compute a gradient, a graph is harmless.
- *torch.optim*: every function of ``torch.optim``'s optimizer modules (each class's ``__init__``,
  ``step``, …; ``adam``, ``_single_tensor_*``, ``_multi_tensor_*``, ``_fused_*``; ``swa_utils``) and
  the fused kernels, both the Python bindings (``torch._fused_adam_``) and the dispatcher's CPU and
  CUDA kernels (``torch.ops.aten._fused_adam_``). The ``Optimizer`` base class and ``lr_scheduler`` stay:
  the homework's classes build on them.
- *clipping*: ``clip_grad_norm_``, ``clip_grad_norm``, ``clip_grads_with_norm_``, ``get_total_norm``
  of ``torch.nn.utils`` (what homework 3 forbids; ``clip_grad_value_`` stays).

Each original is replaced **everywhere it is bound**, found with ``gc.get_referrers`` while that is still
allowed: module and class dicts, static types' dicts, closures, ``__wrapped__``, default arguments,
lists, registries' tuples, ``partial``/``partialmethod``, and the bound methods made before (a saved
``engine.run_backward`` does not refer to its descriptor: those are found by name and owner). Then the
originals are dropped, and the lockdown checks that they are gone (dead weak references, reference
counts): there is nothing left to stash, walk to (``__subclasses__``, the ``mappingproxy`` trick),
reload or re-create. It fails closed (:class:`LockdownError`) when torch or CPython do not look as
expected.

**An audit hook** (PEP 578: it cannot be removed) then refuses, for the rest of the process, the
routes back and the routes around: ``gc.get_objects``/``get_referrers``/``get_referents``; every
``ctypes`` event (``dlopen``, ``dlsym``, foreign calls, ``from_address``); ``sys.settrace`` and
``setprofile`` (a tracer could rewrite the hook's own frame; ``cProfile`` too); new sub-interpreters;
loading an extension module again (``_imp.create_dynamic`` of ``torch/_C.so`` under any name), from
outside the installation (a copy in ``/tmp``) or one that gives raw memory (``_cffi_backend``,
``_testcapi``, …); re-importing a torch module removed from ``sys.modules``; starting programs
(``subprocess``, ``os.exec*``, ``os.posix_spawn``, ``os.system``, ``_posixsubprocess.fork_exec``,
multiprocessing's spawn: a fresh interpreter has an intact torch); opening ``/proc/…/mem``; making
links; reading, compiling or executing the source or bytecode of a locked-away module
(``importlib.reload(torch.optim.sgd)``, ``exec(open(sgd.py).read())``, ``inspect.getsource``); and
TorchDynamo's frame-evaluation callback (``set_eval_frame`` accepts only ``None``/``False``), which could
run other code in the hook's place. The hook decides with immutable values and C builtins bound once,
so patching ``builtins``, ``os`` or this module changes nothing for it. IPython keeps working (it
compiles and executes cells), and so does the probe's own work: numpy, torch's forward code, files
under ``/io``, new imports of installed modules, threads, ``os.fork``.

**What does not hold** (in-process Python is not a sandbox, and this is no proof):

- *Native memory access defeats it.* Python can read and write the process's memory without
  ``ctypes``: a numpy array over a forged ``__array_interface__`` pointer, a torch storage made with
  ``torch._C._construct_storage_from_data_pointer``. With that, an attacker who knows CPython's and
  torch's layouts can undo any of the above (put back a slot, neuter the hook). The intake scan and the
  review list are the defence there; a process with autograd compiled out is the only complete one.
- *Derivative kernels are not autograd, and stay*: ``torch.ops.aten.tanh_backward``,
  ``threshold_backward``, ``mse_loss_backward``, … are formulas a student could call instead of
  writing them; so is numerical differentiation, and so is PyTorch's source text copied into a cell.
- *Time-of-check races*: a path object whose ``__fspath__`` answers differently on a second call can
  slip a file past the ``open`` check; and a path relative to a directory descriptor is judged by its
  last component only (``mem``, a locked-away file's name).
- *Reporting can be hidden, failing cannot*: the refusal record :func:`checked` reads lives in this
  module, and the student's code can clear it (or catch :class:`ForbiddenUse`); that removes the
  review line, never the failure, since the forbidden call raised and no gradient or update came back.
- Tested with CPython 3.11 and torch 2.14 on the CPU; on a GPU, CUDA's own use of ``ctypes`` after
  the lockdown (if any) would be refused: check there before grading on one.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import importlib
import os
import pkgutil
import posix
import sys
import types
import weakref
from collections.abc import Callable, Iterable

__all__ = [
    "FAMILIES",
    "ForbiddenUse",
    "LockdownError",
    "checked",
    "lock_down",
    "refusals",
]

MESSAGES = {
    "autograd": (
        "torch.autograd is not available in this homework's grading: it asks for gradients "
        "computed by hand"
    ),
    "torch.optim": (
        "torch.optim's optimizers are not available in this homework's grading: it asks for the "
        "update rule written by hand"
    ),
    "clipping": (
        "torch.nn.utils' gradient clipping is not available in this homework's grading: it asks "
        "for the clipping written by hand"
    ),
}
FAMILIES = frozenset(MESSAGES)
_SANDBOX = "is not available in this homework's grading (it could undo what the homework forbids)"


class ForbiddenUse(RuntimeError):
    """Raised when code uses what the homework forbids (or a route to undo the lockdown)."""


class LockdownError(RuntimeError):
    """The lockdown could not be set up as promised (an unknown torch layout): fail closed."""


_REFUSALS: list[str] = []  # what was refused, in order; read (and cleared) by :func:`checked`
_CALLERS: list[tuple[str, ...]] = []  # per refused forbidden call: the code files on its stack
_MAX_REFUSALS = 100  # kept; a loop of refusals must not fill the memory
_MAX_FRAMES = 200  # how far up the stack a refusal looks for the cell that made the call
_LOCKED: frozenset[str] | None = None  # the families locked down in this process
_getframe = sys._getframe  # bound before any answer runs


def _record(message: str, depth: int | None = None) -> None:
    """Keep ``message``; with ``depth`` (that of the frame that made a forbidden call, counted from
    here), the names of the code files on its stack, innermost first: :func:`checked` tells from
    them which cell made the call."""
    if len(_REFUSALS) < _MAX_REFUSALS:
        _REFUSALS.append(message)
        if depth is not None:
            _CALLERS.append(stack_files(depth))


def stack_files(depth: int) -> tuple[str, ...]:
    """The code files on the stack from the frame ``depth`` levels above the caller, innermost
    first (at most 200): which cells made a call, for :class:`autograder.probe.CellNames`."""
    try:
        frame = _getframe(depth + 1)
    except ValueError:  # called from C with no Python frame above
        return ()
    files = []
    while frame is not None and len(files) < _MAX_FRAMES:
        files.append(frame.f_code.co_filename)
        frame = frame.f_back
    return tuple(files)


def refusals() -> list[str]:
    """The refusals so far (a copy)."""
    return list(_REFUSALS)


def checked(
    apply: Callable[..., dict], *args, cells: Callable[[tuple[str, ...]], list[str]] | None = None
) -> dict:
    """``apply(*args)``; when a refusal happened meanwhile, the outputs get a ``"forbidden"`` entry.

    The check's ``judge`` fails a task whose outputs hold ``"forbidden"``, whatever else ``apply``
    returned (the text, a plain string array, names the refusal; the judge does not echo it: part
    of it, a path, can come from the student's code). Without a lockdown this is just ``apply``.

    ``cells`` maps the code files on the stack of the first refused forbidden call to the cells that
    made it, innermost first; they go out as ``"forbidden_in"``, so that the grader can tell a task
    whose own cell used what is forbidden from one that only called it. It is a hint from hostile
    ground: the grader gives it weight only where believing it costs the submission (see
    :mod:`autograder.grade`).
    """
    _REFUSALS.clear()
    _CALLERS.clear()
    outputs = apply(*args)
    if _REFUSALS:
        import numpy as np

        reason = _REFUSALS[0]
        outputs = {
            **outputs,
            "forbidden": np.array(
                f"used what this homework forbids, and it was refused at run time: {reason}; "
                "0 points, for review",
                dtype=np.str_,
            ),
        }
        if cells is not None and _CALLERS and "forbidden_in" not in outputs:  # first come
            outputs["forbidden_in"] = np.array(cells(_CALLERS[0])[:8], dtype=np.str_)
    return outputs


# ---------------------------------------------------------------------------------------------------
# Poison: what takes the place of a forbidden callable
# ---------------------------------------------------------------------------------------------------


def _poison(family: str, name: str) -> Callable:
    message = f"{MESSAGES[family]} ({name} was called)"

    def refused(*args, **kwargs):
        _record(message, 2)  # 2: the frame that called ``refused``
        raise ForbiddenUse(message)

    refused.__name__ = name.rpartition(".")[2] or name
    refused.__qualname__ = name
    refused.__doc__ = message
    return refused


# ---------------------------------------------------------------------------------------------------
# Static (C) types: their dicts cannot be changed from Python, except by clearing the flag that says
# so for the time of one setattr (type.__setattr__ then updates the slots and the caches itself)
# ---------------------------------------------------------------------------------------------------

_IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE
_TP_CALL = 16 * ctypes.sizeof(ctypes.c_void_p)  # offsetof(PyTypeObject, tp_call), CPython 3.11
_TP_FLAGS = 21 * ctypes.sizeof(ctypes.c_void_p)  # offsetof(PyTypeObject, tp_flags)


def _check_layout() -> None:
    """The offsets above, checked against what Python says of a few types (else: fail closed)."""
    if sys.version_info[:2] != (3, 11) or hasattr(sys, "gettotalrefcount"):
        raise LockdownError("the lockdown knows the type layout of CPython 3.11 (release) only")
    word = ctypes.sizeof(ctypes.c_void_p)
    for kind in (int, type, dict, types.FunctionType, ForbiddenUse):
        basic = ctypes.c_ssize_t.from_address(id(kind) + 4 * word).value
        flags = ctypes.c_ulong.from_address(id(kind) + _TP_FLAGS).value
        if basic != kind.__basicsize__ or flags != kind.__flags__:
            raise LockdownError(f"unexpected PyTypeObject layout (Python {sys.version.split()[0]})")


def _tp_call(kind: type) -> int | None:
    return ctypes.c_void_p.from_address(id(kind) + _TP_CALL).value


def _set_type_attr(kind: type, name: str, value: object) -> None:
    flags = ctypes.c_ulong.from_address(id(kind) + _TP_FLAGS)
    if flags.value != kind.__flags__:
        raise LockdownError(f"cannot read the flags of {kind!r}")
    immutable = flags.value & _IMMUTABLE
    flags.value &= ~_IMMUTABLE  # only this bit: setattr itself clears the version-tag bit
    try:
        type.__setattr__(kind, name, value)
    finally:
        flags.value |= immutable
    if kind.__dict__.get(name) is not value:
        raise LockdownError(f"{kind.__qualname__}.{name} could not be replaced")


def _all_types() -> list[type]:
    """Every class that derives from ``object`` (static C types included), each once."""
    seen, stack, out = set(), [object], []
    while stack:
        kind = stack.pop()
        if id(kind) in seen:
            continue
        seen.add(id(kind))
        out.append(kind)
        try:
            stack.extend(type.__subclasses__(kind))
        except TypeError:
            continue
    return out


_TYPE_DICT = type.__dict__["__dict__"]


def _real_dict(kind: type) -> dict | None:
    """The dict behind ``kind.__dict__`` (a read-only proxy), before the lockdown hides it."""
    found = [r for r in gc.get_referents(_TYPE_DICT.__get__(kind)) if type(r) is dict]
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------------------------------------------
# The plan: what to replace, then everywhere it is bound
# ---------------------------------------------------------------------------------------------------


class _Plan:
    def __init__(self):
        self.type_attrs: list[tuple[type, str, object]] = []  # (type, name, poison)
        self.objects: list[tuple[object, object]] = []  # (original, poison)
        self.bound: list[
            tuple[type, str, object]
        ] = []  # methods bound before: (type, name, poison)
        self.files: set[str] = set()  # sources that may not be read, compiled or executed
        self.after: list[Callable[[], None]] = []  # checks once everything is in place

    def replace_attr(self, kind: type, name: str, poison: object) -> None:
        self.type_attrs.append((kind, name, poison))
        self.bound.append((kind, name, poison))

    def replace(self, owner: object, name: str, poison: object) -> None:
        """Replace ``owner.name`` (a module's function), and every other binding of it."""
        original = getattr(owner, name)
        self.objects.append((original, poison))
        setattr(owner, name, poison)


def _plan_autograd(plan: _Plan) -> None:
    import torch
    import torch._functorch.eager_transforms
    import torch.autograd.forward_ad
    import torch.autograd.functional
    import torch.func

    def poison(name: str) -> Callable:
        return _poison("autograd", name)

    C = torch._C
    engine = type(torch.autograd.Variable._execution_engine)
    plan.replace_attr(engine, "run_backward", poison("torch.autograd's engine (run_backward)"))
    plan.replace_attr(
        C._FunctionBase, "apply", classmethod(poison("torch.autograd.Function.apply"))
    )

    # graph nodes: grad_fn(grad) runs the node's backward formula. Their types are static, one per
    # formula, plus a default type made on first use: make it now, then replace __call__ in each.
    try:
        C._will_engine_execute_node(None)
    except Exception:
        pass
    leaf = torch.zeros(1, requires_grad=True)
    node_call = _tp_call(type((leaf * 2).grad_fn))
    del leaf
    nodes = [
        kind
        for kind in _all_types()
        if not kind.__flags__ & (1 << 9)
        and "__call__" in kind.__dict__
        and _tp_call(kind) == node_call
    ]
    if len(nodes) < 100 or "CppFunction" not in {kind.__name__ for kind in nodes}:
        raise LockdownError(f"found {len(nodes)} autograd node types, expected hundreds")
    call = poison("an autograd graph node (grad_fn(...))")
    for kind in nodes:
        plan.replace_attr(kind, "__call__", call)

    def nodes_cannot_be_called() -> None:
        left = [kind.__name__ for kind in nodes if _tp_call(kind) == node_call]
        if left:
            raise LockdownError(f"autograd node types still callable: {left[:5]}")

    plan.after.append(nodes_cannot_be_called)

    # forward mode (a dual level), functorch's transforms, distributed autograd (it runs the engine
    # locally, without RPC) and re-initialising the bindings
    plan.replace(C, "_enter_dual_level", poison("torch.autograd.forward_ad (a dual level)"))
    for which in ("grad", "jvp"):  # both ends: functorch's context managers always decrement
        transform = poison(f"torch.func's {which} transforms")
        for end in ("increment", "decrement"):
            plan.replace(C._functorch, f"_{which}_{end}_nesting", transform)
    for name in ("_autograd_init", "_dist_autograd_init"):
        if hasattr(C, name):
            plan.replace(C, name, poison(f"torch._C.{name}"))
    if hasattr(C, "_distributed_autograd"):
        for name in ("backward", "_init"):
            plan.replace(C._distributed_autograd, name, poison("torch.distributed.autograd"))

    # TorchScript: symbolic differentiation of a graph, and the executor's own autodiff (which
    # would leave the backward graph readable on the optimized graph)
    plan.replace(C, "_jit_differentiate", poison("TorchScript's autodiff (_jit_differentiate)"))
    C._set_graph_executor_optimize(False)
    refuse_optimize = poison("TorchScript's optimizing executor (autodiff)")

    def get_graph_executor_optimize(new_settings=None):
        if new_settings:
            refuse_optimize()
        return False

    def set_graph_executor_optimize(value):
        if value:
            refuse_optimize()

    plan.replace(C, "_get_graph_executor_optimize", get_graph_executor_optimize)
    plan.replace(C, "_set_graph_executor_optimize", set_graph_executor_optimize)


def _module_files(package: str, keep: Iterable[str]) -> set[str]:
    """The source files of ``package``'s submodules but ``keep`` (each imported now, so that none is
    first imported after the lockdown); a package's ``__init__`` only re-exports, and is left out."""
    root = importlib.import_module(package)
    files = set()
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if info.name not in keep:
            path = getattr(importlib.import_module(info.name), "__file__", None)
            if path and not path.endswith("__init__.py"):
                files.add(path)
    return files


def _functions_from(files: set[str], names: set[str] | None = None) -> list[types.FunctionType]:
    return [
        obj
        for obj in gc.get_objects()
        if type(obj) is types.FunctionType
        and obj.__code__.co_filename in files
        and (names is None or obj.__name__ in names)
    ]


def _plan_optim(plan: _Plan) -> None:
    import torch

    keep = {"torch.optim.optimizer", "torch.optim.lr_scheduler", "torch.optim._stateless"}
    files = _module_files("torch.optim", keep)
    for fn in _functions_from(files):
        plan.objects.append((fn, _poison("torch.optim", f"{fn.__module__}.{fn.__qualname__}")))
    fused = [name for name in _FUSED if hasattr(torch, name)]
    for name in fused:
        plan.objects.append((getattr(torch, name), _poison("torch.optim", f"torch.{name}")))
    _override_kernels(fused, lambda name: _poison("torch.optim", f"torch.ops.aten.{name}"))
    plan.files |= files


_FUSED = ("_fused_adam_", "_fused_adamw_", "_fused_sgd_", "_fused_adagrad_")


def _override_kernels(ops: Iterable[str], poison_for: Callable[[str], Callable]) -> None:
    """Register a poison as the CPU and CUDA kernel of each ``aten`` op (every overload), so that
    every route through the dispatcher (``torch.ops.aten.X``, ``_jit_get_operation``, the
    functional variants) meets it. The registration lives as long as its library handle, which
    is kept alive by one reference that nothing in Python holds: none can ``reset()`` it."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel"
        library = torch._C._dispatch_library("IMPL", "aten", "", "autograder/lockdown.py", 0)
        for op in ops:
            poison = poison_for(op)
            for overload in getattr(torch.ops.aten, op).overloads():
                name = op if overload == "default" else f"{op}.{overload}"
                for key in ("CPU", "CUDA"):
                    library.impl(name, key, poison, False)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))


_CLIPPING = {
    "clip_grad_norm_",
    "clip_grad_norm",
    "clip_grads_with_norm_",
    "get_total_norm",
    "_clip_grads_with_norm_",
    "_get_total_norm",
}


def _plan_clipping(plan: _Plan) -> None:
    import torch.nn.utils.clip_grad as clip_grad

    for fn in _functions_from({clip_grad.__file__}, _CLIPPING):
        plan.objects.append((fn, _poison("clipping", f"torch.nn.utils.{fn.__name__}")))
    plan.files.add(clip_grad.__file__)


def _plan_always(plan: _Plan) -> None:
    """What protects the lockdown itself, whatever the homework forbids."""
    import _posixsubprocess

    def start(*args, **kwargs):
        message = f"starting a program {_SANDBOX}"
        _record(message)
        raise ForbiddenUse(message)

    plan.replace(_posixsubprocess, "fork_exec", start)
    try:
        import torch._C._dynamo.eval_frame as eval_frame
    except ImportError:
        return

    def set_eval_frame(callback):
        # eager code turns TorchDynamo off (None, False) and back to what it was (None here)
        if callback is None or callback is False:
            return None
        message = f"a frame-evaluation callback (TorchDynamo, torch.compile) {_SANDBOX}"
        _record(message)
        raise ForbiddenUse(message)

    plan.replace(eval_frame, "set_eval_frame", set_eval_frame)


def _scrub(plan: _Plan) -> list[weakref.ref]:
    """Put each poison in place of its original wherever the garbage collector sees it bound.

    Returns weak references to the originals that allow them: once the caller has let go, each
    must be dead (nothing outside the garbage collector's sight held it either).
    """
    originals: list[object] = []
    poisons: dict[int, object] = {}

    def add(original: object, poison: object) -> None:
        if id(original) not in poisons:
            originals.append(original)
            poisons[id(original)] = poison

    for kind, name, poison in plan.type_attrs:
        add(kind.__dict__[name], poison)
    for original, poison in plan.objects:
        add(original, poison)
    plan.objects.clear()
    # methods bound before the lockdown (x.run_backward saved somewhere) do not refer to the
    # descriptor they came from: find them by name and owner
    wanted: dict[str, list] = {}
    for kind, name, poison in plan.bound:
        wanted.setdefault(name, []).append((kind, poison))
    bound_kinds = (types.BuiltinMethodType, type(object().__str__))
    for obj in gc.get_objects():
        if type(obj) in bound_kinds and obj.__name__ in wanted:
            owner = obj.__self__
            for kind, poison in wanted[obj.__name__]:
                if isinstance(owner, kind) or (isinstance(owner, type) and issubclass(owner, kind)):
                    add(obj, poison.__func__ if isinstance(poison, classmethod) else poison)
    obj = owner = None

    for kind, name, poison in plan.type_attrs:
        _set_type_attr(kind, name, poison)

    owners = {id(_real_dict(kind)): kind for kind in _all_types()}
    owners.pop(id(None), None)
    done = 0
    unknown = []
    while done < len(originals):
        batch = originals[done:]
        done = len(originals)
        for ref in gc.get_referrers(*batch):
            if (
                ref is originals
                or ref is batch
                or type(ref) is types.FrameType
                or id(ref) in poisons  # an original itself (a bound method of one, …)
            ):
                continue
            if type(ref) is dict:
                owner = owners.get(id(ref))
                for key, value in list(ref.items()):
                    poison = poisons.get(id(value))
                    if poison is None or value is poison:
                        continue
                    if owner is not None:
                        _set_type_attr(owner, key, poison)
                    else:
                        ref[key] = poison
                if any(id(key) in poisons for key in ref):
                    unknown.append(ref)
            elif type(ref) is types.CellType:
                ref.cell_contents = poisons[id(ref.cell_contents)]
            elif type(ref) is list:
                ref[:] = [poisons.get(id(item), item) for item in ref]
            elif type(ref) is set:
                found = [item for item in ref if id(item) in poisons]
                ref.difference_update(found)
                ref.update(poisons[id(item)] for item in found)
            elif type(ref) is tuple:  # a registry's (function, name) pair: a new pair
                add(ref, tuple(poisons.get(id(item), item) for item in ref))
            elif type(ref) in (staticmethod, classmethod):
                add(ref, type(ref)(poisons[id(ref.__func__)]))
            elif type(ref) is types.FunctionType and id(ref.__defaults__) in poisons:
                ref.__defaults__ = poisons[id(ref.__defaults__)]  # def f(x, _adam=adam): …
            elif type(ref) in (types.MethodType, functools.partial, *bound_kinds) or (
                callable(ref) and not isinstance(ref, (type, types.ModuleType, types.FunctionType))
            ):  # a bound method, a partial, a cache around one: it is one too
                inner = next(o for o in gc.get_referents(ref) if id(o) in poisons)
                poison = poisons[id(inner)]
                add(ref, poison.__func__ if isinstance(poison, classmethod) else poison)
            elif isinstance(getattr(ref, "__dict__", None), dict) and any(
                id(value) in poisons for value in vars(ref).values()
            ):  # an instance whose attributes live inline (partialmethod's func, …)
                attributes = vars(ref)
                for key, value in list(attributes.items()):
                    if id(value) in poisons:
                        attributes[key] = poisons[id(value)]
            else:
                unknown.append(ref)
        batch = ref = value = inner = owner = None
    gc.collect()
    left = [
        ref
        for ref in gc.get_referrers(*originals)
        if ref is not originals and type(ref) is not types.FrameType and id(ref) not in poisons
    ]
    if unknown or left:
        what = "; ".join(sorted({repr(ref)[:120] for ref in unknown + left})[:6])
        raise LockdownError(f"references to locked-away objects remain in: {what}")
    alive = []
    for original in originals:
        try:
            alive.append(weakref.ref(original))
        except TypeError:  # a method descriptor or slot wrapper: its type's dict held it
            # this list, the loop, getrefcount's argument, and the other originals bound to it
            if sys.getrefcount(original) <= 3:  # the common case: a walk of every object spared
                continue
            held = 3 + sum(1 for ref in gc.get_referrers(original) if id(ref) in poisons)
            if sys.getrefcount(original) > held:
                raise LockdownError(f"something outside Python holds {original!r}") from None
    originals.clear()
    return alive


def _apply(plan: _Plan) -> None:
    alive = _scrub(plan)
    gc.collect()
    kept = [ref() for ref in alive if ref() is not None]
    if kept:
        raise LockdownError(f"something outside Python holds {kept[:3]!r}")
    for check in plan.after:
        check()


# ---------------------------------------------------------------------------------------------------
# The audit hook
# ---------------------------------------------------------------------------------------------------

# extension modules that give raw memory, C calls or a second interpreter
_DENIED_EXTENSIONS = frozenset(
    {
        "_cffi_backend",
        "_ctypes",
        "_ctypes_test",
        "_testbuffer",
        "_testcapi",
        "_testclinic",
        "_testimportmultiple",
        "_testinternalcapi",
        "_testmultiphase",
        "_testsinglephase",
        "_xxinterpchannels",
        "_xxsubinterpreters",
        "_xxtestfuzz",
        "xxlimited",
        "xxlimited_35",
        "pydevd_frame_evaluator",
        "_pydevd_frame_eval_ext",
    }
)
_REFUSED_EVENTS = frozenset(
    {
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys.settrace",
        "sys.setprofile",
        "cpython.PyInterpreterState_New",
        "subprocess.Popen",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.forkpty",
        "pty.spawn",
        "os.symlink",
        "os.link",
    }
)
_PATH_EVENTS = frozenset({"open", "sqlite3.connect"})


def _make_hook(
    *,
    forbidden_files: frozenset[str],
    forbidden_names: frozenset[str],
    loaded_extensions: frozenset[str],
    extension_roots: tuple[str, ...],
    guarded_modules: frozenset[str],
    records: list[str],
    error: type[Exception],
) -> Callable[[str, tuple], None]:
    """The audit hook. Everything it decides with is bound here, once: immutable values and C
    builtins, so that nothing a student's code patches later (``builtins``, ``os``, this module)
    reaches it, and what its frame shows in a traceback cannot be changed (the one mutable value,
    ``records``, only feeds the review). It defines no helper function whose closure could be
    rewritten, and runs no Python code but a path object's ``__fspath__`` (see the limits)."""
    refused_events = _REFUSED_EVENTS
    path_events = _PATH_EVENTS
    denied_extensions = _DENIED_EXTENSIONS
    sandbox = _SANDBOX
    lstat, readlink, fspath = posix.lstat, posix.readlink, posix.fspath
    type_, str_, bytes_, int_, issubclass_ = type, str, bytes, int, issubclass
    str_copy, bytes_copy, decode = str.__str__, bytes.__bytes__, bytes.decode
    code_type, os_error = types.CodeType, OSError
    record, count, limit = records.append, len, _MAX_REFUSALS
    link_bits, kind_bits = 0o120000, 0o170000

    def hook(event, args):
        if (
            event not in refused_events
            and event not in path_events
            and event != "import"
            and event != "exec"
            and event != "compile"
            and event[:7] != "ctypes."
        ):
            return
        why = None
        raw = None  # a path to look at: the file of an extension module, or one opened/compiled
        if event in refused_events or event[:7] == "ctypes.":
            why = event
        elif event == "import":
            name = args[0] if type_(args[0]) is str_ else "?"
            if args[1] is None:  # a module by name: refused if it was loaded, then removed
                if name in guarded_modules:
                    why = f"re-importing {name}"
            elif name.rpartition(".")[2] in denied_extensions:
                why = f"the extension module {name}"
            else:
                raw = args[1]
        elif event == "exec":
            code = args[0]
            if type_(code) is code_type and code.co_filename in forbidden_files:
                why = f"executing {code.co_filename}"
        else:  # open, sqlite3.connect: the path; compile: the file name it claims
            raw = args[1] if event == "compile" else args[0]
        path = None
        if why is None and raw is not None:
            kind = type_(raw)
            if kind is str_ or kind is bytes_ or kind is int_:
                pass
            elif issubclass_(kind, str_):
                raw = str_copy(raw)
            elif issubclass_(kind, bytes_):
                raw = bytes_copy(raw)
            elif not issubclass_(kind, int_):
                raw = fspath(raw)
            if type_(raw) is bytes_:
                raw = decode(raw, "utf-8", "surrogateescape")
            if type_(raw) is str_:
                path = raw
        if path is not None:
            trimmed = path
            while trimmed[-2:] == "/." or (trimmed[-1:] == "/" and len(trimmed) > 1):
                trimmed = trimmed[:-1] if trimmed[-1:] == "/" else trimmed[:-2]
            base = trimmed.rpartition("/")[2]
            resolved = None
            if event == "import" or base in forbidden_names:
                if path[:1] != "/":
                    # relative to a folder it may not name (dir_fd): only a forbidden name is
                    # refused, and any extension module file
                    why = f"using {path}"
                else:  # follow the links, one component at a time
                    pending = path.split("/")
                    pending.reverse()
                    resolved, links = "", 0
                    while pending and links < 40:
                        part = pending.pop()
                        if part == "" or part == ".":
                            continue
                        if part == "..":
                            resolved = resolved.rpartition("/")[0]
                            continue
                        candidate = resolved + "/" + part
                        try:
                            mode = lstat(candidate).st_mode
                        except os_error:
                            resolved = candidate
                            continue
                        if mode & kind_bits == link_bits:
                            links += 1
                            target = readlink(candidate)
                            if type_(target) is not str_:
                                target = decode(target, "utf-8", "surrogateescape")
                            if target[:1] == "/":
                                resolved = ""
                            items = target.split("/")
                            items.reverse()
                            pending.extend(items)
                        else:
                            resolved = candidate
                    if links >= 40:
                        why = f"using {path}"
            if why is not None:
                pass
            elif event == "import":
                inside = False
                for root in extension_roots:
                    if resolved.startswith(root):
                        inside = True
                if resolved in loaded_extensions:
                    why = f"loading {path} a second time"
                elif not inside:
                    why = f"loading an extension module from {path}"
            elif base == "mem" and event != "compile":
                why = "opening a process's memory (mem)"
            elif resolved is not None and resolved in forbidden_files:
                why = f"reading {path}"
            elif event == "compile" and path in forbidden_files:
                why = f"compiling {path}"
        if why is not None:
            message = f"{why} {sandbox}"
            if count(records) < limit:
                record(message)
            raise error(message)

    return hook


def _extension_files() -> frozenset[str]:
    files = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith((".so", ".pyd")):
            files.add(path)
            files.add(os.path.realpath(path))
    return frozenset(files)


def _forbidden_paths(files: set[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The sources, their compiled forms, and both as file names."""
    paths = set()
    for path in files:
        paths |= {path, os.path.realpath(path)}
        folder, _, name = path.rpartition("/")
        stem = name.rpartition(".")[0]
        cache = os.path.join(folder, "__pycache__")
        if os.path.isdir(cache):
            for compiled in os.listdir(cache):
                if compiled.split(".")[0] == stem:
                    paths |= {
                        os.path.join(cache, compiled),
                        os.path.realpath(os.path.join(cache, compiled)),
                    }
            paths.add(os.path.join(cache, f"{stem}.{sys.implementation.cache_tag}.pyc"))
    names = frozenset(path.rpartition("/")[2] for path in paths)
    return frozenset(paths), names


# ---------------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------------


def lock_down(families: Iterable[str]) -> None:
    """Make what ``families`` name unusable in this process, for good (see the module's docstring).

    ``families``: a subset of :data:`FAMILIES` (``"autograd"``, ``"torch.optim"``, ``"clipping"``);
    empty: nothing happens. Runs once per process, before any untrusted code (a second call with
    the same families, in a process forked from a locked one, does nothing); raises
    :class:`LockdownError` (fail closed) when torch or CPython are not laid out as expected.
    """
    global _LOCKED
    families = set(families)
    unknown = families - FAMILIES
    if unknown:
        raise ValueError(f"unknown families {sorted(unknown)}; known: {sorted(FAMILIES)}")
    if not families:
        return
    if _LOCKED == frozenset(families):
        return
    if _LOCKED is not None:
        raise LockdownError("lock_down runs once per process")
    if sys.gettrace() is not None or sys.getprofile() is not None:
        raise LockdownError("a tracer or profiler is installed: it could rewrite the hook's frame")
    _check_layout()
    plan = _Plan()
    if "autograd" in families:
        _plan_autograd(plan)
    if "torch.optim" in families:
        _plan_optim(plan)
    if "clipping" in families:
        _plan_clipping(plan)
    _plan_always(plan)
    _apply(plan)
    files, names = _forbidden_paths(plan.files)
    import linecache

    linecache.clearcache()  # no source of a locked-away module stays in memory
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots = tuple(
        sorted({os.path.realpath(root) + "/" for root in roots} | {r + "/" for r in roots})
    )
    guarded = frozenset(
        name
        for name in sys.modules
        if name.partition(".")[0] in ("torch", "functorch", "autograder", "_posixsubprocess")
    )
    hook = _make_hook(
        forbidden_files=files,
        forbidden_names=names,
        loaded_extensions=_extension_files(),
        extension_roots=roots,
        guarded_modules=guarded,
        records=_REFUSALS,
        error=ForbiddenUse,
    )
    del plan
    sys.addaudithook(hook)
    del hook
    _REFUSALS.clear()
    _LOCKED = frozenset(families)
