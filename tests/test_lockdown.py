"""The run-time lockdown (``autograder/lockdown.py``): what a homework forbids fails when used, whatever
the route, and everything else keeps working.

**The catalogue** (``ATTACKS``): each evasion runs in a process of its own that has done what the probe
does before the first cell (imported torch and the homework's probes, then ``lock_down``) and nothing
else: a harness subprocess locks down once, then forks a fresh child per attack, so that no attack sees
what another one did. Each attack is the body of ``attack()``; it must *fail with an exception* (for most,
the lockdown's own: "… is not available in this homework's grading …"), or, for the controls, return
what ordinary code returns. ``STASHED`` does the same after a module imported *before* the lockdown saved
references to the originals (what the scrub must find).

**Through the real grader** (``slow``; needs the sandbox, like ``tests/test_grade.py``): a homework 2
layer whose ``backward`` uses autograd through a name built at run time and hidden from the run-time
watch, and a homework 3 optimizer that delegates to ``torch.optim.SGD`` found the same way, graded with
the intake scan on and off: that task scores 0 and says why, it is listed for review, every other task
keeps its points.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import nbformat
import pytest

from autograder.build import REPO
from autograder.lockdown import FAMILIES, checked, lock_down
from autograder.registry import homeworks

REFUSED = "not available in this homework's grading"

# ---------------------------------------------------------------------------------------------------
# The harness: lock down once, fork a fresh child per attack
# ---------------------------------------------------------------------------------------------------

HARNESS = r"""
import json, linecache, os, signal, sys, warnings
warnings.simplefilter("ignore")
spec = json.loads(sys.stdin.read())
import importlib
import numpy as np
import torch
importlib.import_module(spec["probes"])  # as the probe does, before any cell
exec(spec["before"], {"__name__": "before"})
from autograder.lockdown import lock_down
lock_down(spec["lockdown"])
results = {}
for name, code in spec["attacks"].items():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        signal.alarm(60)
        try:
            namespace = {"__name__": "__main__"}
            filename = "<attack>"  # its source, where inspect (and TorchScript) look for it
            linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
            exec(compile(code, filename, "exec"), namespace)
            out = {"outcome": "returned", "value": repr(namespace["attack"]())[:400]}
        except BaseException as err:
            chain, seen = [], err
            while seen is not None and len(chain) < 6:
                chain.append(f"{type(seen).__name__}: {seen}"[:400])
                seen = seen.__cause__ or seen.__context__
            out = {"outcome": "raised", "chain": chain}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    results[name] = json.loads(data) if data else {"outcome": "died"}
print(json.dumps(results))
"""


def run_attacks(homework: str, attacks: dict[str, str], before: str = "") -> dict[str, dict]:
    spec = {
        "homework": homework,
        "probes": homeworks()[homework].module_name("probes"),
        "lockdown": sorted(homeworks()[homework].lockdown),
        "before": textwrap.dedent(before),
        "attacks": {name: textwrap.dedent(code) for name, code in attacks.items()},
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", HARNESS],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------------
# The catalogue: (homework whose lockdown applies, expectation, code of attack())
# "refused": raises, the lockdown's message in the exception chain; "fails": raises, any exception;
# "ok:<text>": returns, and repr(result) contains <text>
# ---------------------------------------------------------------------------------------------------


def one(imports: str, expression: str) -> str:
    """An attack that imports, then returns ``expression``."""
    return f"{imports}\ndef attack():\n    return {expression}\n"


GRAPH = """
import torch
x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
y = (x * x).tanh().sum()
"""

ATTACKS: dict[str, tuple[str, str, str]] = {
    # --- autograd: the engine, however it is reached
    "x.backward()": (
        "hw2",
        "refused",
        GRAPH + "def attack():\n    y.backward()\n    return x.grad",
    ),
    "torch.autograd.grad": (
        "hw2",
        "refused",
        GRAPH + "def attack():\n    return torch.autograd.grad(y, x)",
    ),
    "a name built at run time": (
        "hw2",
        "refused",
        GRAPH + "def attack():\n    return getattr(torch, 'auto' + 'grad').grad(y, x)",
    ),
    "the engine's bound run_backward": (
        "hw2",
        "refused",
        GRAPH
        + """
def attack():
    engine = torch.autograd.Variable._execution_engine
    return engine.run_backward((y,), (torch.ones(()),), False, False, (x,), False, False)
""",
    ),
    "the engine type found by an object.__subclasses__() walk": (
        "hw2",
        "refused",
        GRAPH
        + """
def attack():
    stack, engines = [object], []
    while stack:
        kind = stack.pop()
        try:
            stack.extend(type.__subclasses__(kind))
        except TypeError:
            pass
        if "run_backward" in vars(kind):
            engines.append(kind)
    assert engines, "no engine type found"
    run = vars(engines[0])["run_backward"]
    return run(torch.autograd.Variable._execution_engine, (y,), (torch.ones(()),),
               False, False, (x,), False, False)
""",
    ),
    "a new engine: torch._C._ImperativeEngine()": (
        "hw2",
        "refused",
        GRAPH
        + """
def attack():
    engine = torch._C._ImperativeEngine()
    return engine.run_backward((y,), (torch.ones(()),), False, False, (x,), False, False)
""",
    ),
    "the real dict of the engine type (mappingproxy __eq__ trick)": (
        "hw2",
        "refused",
        GRAPH
        + """
class Grab:
    def __eq__(self, other):
        Grab.got = other
        return True
def attack():
    engine_type = type(torch.autograd.Variable._execution_engine)
    engine_type.__dict__ == Grab()
    real = Grab.got
    assert type(real) is dict and "run_backward" in real
    return real["run_backward"](torch.autograd.Variable._execution_engine, (y,),
                                (torch.ones(()),), False, False, (x,), False, False)
""",
    ),
    "calling a graph node: y.grad_fn(g)": (
        "hw2",
        "refused",
        GRAPH
        + "def attack():\n    return (x * 2.0).tanh().grad_fn(torch.ones(3, dtype=torch.float64))",
    ),
    "a graph node's __call__ through its type": (
        "hw2",
        "refused",
        GRAPH
        + """
def attack():
    node = (x * 2.0).grad_fn
    return type(node).__call__(node, torch.ones(3, dtype=torch.float64))
""",
    ),
    "no node type keeps its C __call__ (the default CppFunction included)": (
        "hw2",
        "ok:[]",
        """
def attack():
    stack, left = [object], []
    while stack:
        kind = stack.pop()
        try:
            stack.extend(type.__subclasses__(kind))
        except TypeError:
            pass
        call = vars(kind).get("__call__")
        if type(call).__name__ == "wrapper_descriptor" and (
            kind.__name__.endswith(("Backward0", "Backward1")) or kind.__name__ == "CppFunction"
        ):
            left.append(kind.__name__)
    return left
""",
    ),
    "forward mode: torch.autograd.forward_ad": (
        "hw2",
        "refused",
        """
import torch
import torch.autograd.forward_ad as fwAD
def attack():
    with fwAD.dual_level():
        dual = fwAD.make_dual(torch.ones(3), torch.ones(3))
        return fwAD.unpack_dual(dual.sin()).tangent
""",
    ),
    "forward mode without a level: torch._make_dual": (
        "hw2",
        "fails",
        one("import torch", "torch._make_dual(torch.ones(3), torch.ones(3), level=0)"),
    ),
    "torch.func.grad": (
        "hw2",
        "refused",
        one("import torch", "torch.func.grad(lambda t: (t * t).sum())(torch.ones(3))"),
    ),
    "torch.func.vjp": (
        "hw2",
        "refused",
        one("import torch", "torch.func.vjp(torch.sin, torch.ones(3))"),
    ),
    "torch.func.jacrev": (
        "hw2",
        "refused",
        one("import torch", "torch.func.jacrev(torch.sin)(torch.ones(3))"),
    ),
    "torch.func.jacfwd": (
        "hw2",
        "refused",
        one("import torch", "torch.func.jacfwd(torch.sin)(torch.ones(3))"),
    ),
    "torch.func.jvp": (
        "hw2",
        "refused",
        one("import torch", "torch.func.jvp(torch.sin, (torch.ones(3),), (torch.ones(3),))"),
    ),
    "torch.func.hessian": (
        "hw2",
        "refused",
        one("import torch", "torch.func.hessian(lambda t: (t ** 3).sum())(torch.ones(3))"),
    ),
    "torch.func.vmap of grad": (
        "hw2",
        "refused",
        """
import torch
def attack():
    return torch.func.vmap(torch.func.grad(lambda t: (t * t).sum()))(torch.ones(2, 3))
""",
    ),
    "torch.autograd.functional.jacobian": (
        "hw2",
        "refused",
        one("import torch", "torch.autograd.functional.jacobian(torch.sin, torch.ones(3))"),
    ),
    "torch.autograd.functional.jacobian, forward mode": (
        "hw2",
        "refused",
        """
import torch
def attack():
    return torch.autograd.functional.jacobian(
        torch.sin, torch.ones(3), strategy="forward-mode", vectorize=True
    )
""",
    ),
    "a custom autograd.Function": (
        "hw2",
        "refused",
        """
import torch
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        return t * t
    @staticmethod
    def backward(ctx, g):
        return g
def attack():
    return Square.apply(torch.ones(3, requires_grad=True))
""",
    ),
    "autograd in a new thread": (
        "hw2",
        "ok:not available in this homework's grading",
        GRAPH
        + """
import threading
def attack():
    seen = []
    def work():
        try:
            seen.append(torch.autograd.grad(y, x))
        except Exception as err:
            seen.append(str(err))
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return seen
""",
    ),
    "distributed autograd (runs the engine locally, no RPC)": (
        "hw2",
        "refused",
        """
import torch
import torch.distributed.autograd as dist_autograd
def attack():
    dist_autograd._init(0)
    with dist_autograd.context() as context:
        x = torch.ones(2, requires_grad=True)
        dist_autograd.backward(context, [(x * x).sum()])
        return dist_autograd.get_gradients(context)
""",
    ),
    "TorchScript: symbolic differentiation of a graph": (
        "hw2",
        "refused",
        """
import torch
def square(a):
    return (a * a).sum()
def attack():
    return torch._C._jit_differentiate(torch.jit.script(square).graph)
""",
    ),
    "TorchScript: the executor's autodiff is off, and cannot be turned back on": (
        "hw2",
        "refused",
        """
import torch
def f(a, w):
    return torch.tanh(a @ w).sum()
def attack():
    scripted = torch.jit.script(f)
    a, w = torch.randn(3, 4), torch.randn(4, 2, requires_grad=True)
    for _ in range(5):
        scripted(a, w)
    graph = torch.jit.last_executed_optimized_graph()
    assert not graph.findAllNodes("prim::DifferentiableGraph"), "a differentiable graph was made"
    torch._C._set_graph_executor_optimize(True)
""",
    ),
    "importlib.reload(torch.autograd), then grad": (
        "hw2",
        "refused",
        """
import importlib
import torch
def attack():
    fresh = importlib.reload(torch.autograd)
    x = torch.ones(3, requires_grad=True)
    return fresh.grad((x * x).sum(), x)
""",
    ),
    "re-importing torch._C after removing it from sys.modules": (
        "hw2",
        "refused",
        """
import sys
def attack():
    del sys.modules["torch._C"]
    import torch._C
    return torch._C._enter_dual_level
""",
    ),
    "_imp.create_dynamic(torch._C.__spec__) (the cached copy of the module)": (
        "hw2",
        "refused",
        """
import _imp
import torch
def attack():
    try:
        _imp.create_dynamic(torch._C.__spec__)
    except Exception:
        pass
    return torch.func.jvp(torch.sin, (torch.ones(3),), (torch.ones(3),))
""",
    ),
    "_imp.create_dynamic of torch/_C.so under another name": (
        "hw2",
        "refused",
        """
import _imp
import importlib.util
import torch
def attack():
    spec = importlib.util.spec_from_file_location("again._C", torch._C.__file__)
    return _imp.create_dynamic(spec)
""",
    ),
    "a copy of torch/_C.so loaded from /tmp": (
        "hw2",
        "refused",
        """
import _imp
import importlib.util
import shutil
import tempfile
import torch
def attack():
    folder = tempfile.mkdtemp()
    copy = shutil.copy(torch._C.__file__, folder + "/_C.cpython-311-x86_64-linux-gnu.so")
    return _imp.create_dynamic(importlib.util.spec_from_file_location("copy._C", copy))
""",
    ),
    "cffi (raw memory, C calls)": ("hw2", "refused", "def attack():\n    import _cffi_backend"),
    "a sub-interpreter (no audit hook there)": (
        "hw2",
        "refused",
        "def attack():\n    import _xxsubinterpreters as i\n    return i.create()",
    ),
    "gc.get_referrers": (
        "hw2",
        "refused",
        one("import gc, torch", "gc.get_referrers(torch.autograd.grad)"),
    ),
    "gc.get_objects": (
        "hw2",
        "refused",
        one("import gc", "len(gc.get_objects())"),
    ),
    "gc.get_referents (a type's real dict)": (
        "hw2",
        "refused",
        one("import gc, torch", "gc.get_referents(torch._C._FunctionBase.__dict__)"),
    ),
    "ctypes.pythonapi (already loaded)": (
        "hw2",
        "refused",
        one("import ctypes", "ctypes.pythonapi.Py_GetVersion()"),
    ),
    "ctypes.CDLL(None)": (
        "hw2",
        "refused",
        one("import ctypes", "ctypes.CDLL(None)"),
    ),
    "ctypes from_address": (
        "hw2",
        "refused",
        one("import ctypes", "ctypes.c_ulong.from_address(id(int)).value"),
    ),
    "sys.settrace (could rewrite the hook's frame)": (
        "hw2",
        "refused",
        "import sys\ndef attack():\n    sys.settrace(lambda *a: None)",
    ),
    "sys.setprofile": (
        "hw2",
        "refused",
        "import sys\ndef attack():\n    sys.setprofile(lambda *a: None)",
    ),
    "cProfile": (
        "hw2",
        "refused",
        "import cProfile\ndef attack():\n    cProfile.Profile().enable()",
    ),
    "TorchDynamo's frame-evaluation callback": (
        "hw2",
        "refused",
        "import torch\ndef attack():\n    torch._C._dynamo.eval_frame.set_eval_frame(lambda *a: None)",
    ),
    "a fresh interpreter: subprocess": (
        "hw2",
        "refused",
        """
import subprocess, sys
def attack():
    code = "import torch; x = torch.ones(2, requires_grad=True); (x * x).sum().backward(); print(x.grad)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).stdout
""",
    ),
    "a fresh interpreter: os.system": (
        "hw2",
        "refused",
        one("import os", "os.system('true')"),
    ),
    "a fresh interpreter: _posixsubprocess.fork_exec": (
        "hw2",
        "refused",
        """
import _posixsubprocess
def attack():
    return _posixsubprocess.fork_exec(["/bin/true"], [b"/bin/true"], True, (), None, None,
        -1, -1, -1, -1, -1, -1, -1, -1, True, False, None, None, None, -1, None, False, False)
""",
    ),
    "a fresh interpreter: os.execv in a forked child": (
        "hw2",
        "ok:exec refused",
        """
import os
def attack():
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("/bin/true", ["true"])
        except RuntimeError:
            os._exit(7)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return "exec refused" if os.waitstatus_to_exitcode(status) == 7 else "exec ran"
""",
    ),
    "multiprocessing with spawn (a fresh interpreter)": (
        "hw2",
        "refused",
        """
import multiprocessing
def attack():
    process = multiprocessing.get_context("spawn").Process(target=print)
    process.start()
    process.join()
""",
    ),
    "writing one's own memory: /proc/self/mem": (
        "hw2",
        "refused",
        "def attack():\n    return open('/proc/self/mem', 'r+b')",
    ),
    "/proc/self/mem through a folder descriptor": (
        "hw2",
        "refused",
        """
import os
def attack():
    folder = os.open("/proc/self", os.O_RDONLY)
    return os.open("mem", os.O_RDWR, dir_fd=folder)
""",
    ),
    "a symbolic link (to hide a path)": (
        "hw2",
        "refused",
        "import os, tempfile\ndef attack():\n    os.symlink('/proc/self/mem', tempfile.mkdtemp() + '/m')",
    ),
    "patching builtins does not blind the hook": (
        "hw2",
        "refused",
        """
import builtins, gc
def attack():
    builtins.type = lambda *a: object
    builtins.isinstance = lambda *a: False
    builtins.issubclass = lambda *a: False
    return gc.get_objects()
""",
    ),
    "patching the lockdown module does not either": (
        "hw2",
        "refused",
        """
import gc
import autograder.lockdown as lockdown
def attack():
    lockdown._REFUSED_EVENTS = frozenset()
    lockdown.ForbiddenUse = None
    lockdown._SANDBOX = ""
    return gc.get_objects()
""",
    ),
    "rewriting what the hook's frame shows (from a traceback)": (
        "hw2",
        "refused",
        """
import gc
def attack():
    try:
        gc.get_objects()
    except RuntimeError as err:
        tb = err.__traceback__
        while tb is not None:
            for value in list(tb.tb_frame.f_locals.values()):
                for clear in ("clear",):
                    if hasattr(value, clear) and not isinstance(value, type):
                        try:
                            getattr(value, clear)()
                        except Exception:
                            pass
            tb.tb_frame.f_locals.clear()
            tb = tb.tb_next
    return gc.get_objects()
""",
    ),
    "a second audit hook of the student's changes nothing": (
        "hw2",
        "refused",
        "import gc, sys\ndef attack():\n    sys.addaudithook(lambda *a: None)\n    return gc.get_objects()",
    ),
    # --- what keeps working with autograd locked away
    "control: forward computation, nn.Parameter, no_grad, numpy": (
        "hw2",
        "ok:6.0",
        """
import numpy as np
import torch
def attack():
    layer = torch.nn.Parameter(torch.ones(2, 2, dtype=torch.float64))
    out = (layer @ torch.ones(2, dtype=torch.float64)).sum()
    with torch.no_grad():
        out = out + 0
    with torch.enable_grad(), torch.set_grad_enabled(True), torch.inference_mode():
        pass
    layer.grad = torch.zeros(2, 2, dtype=torch.float64)
    return float(np.asarray(out.detach()) + np.sum(np.ones(2)))
""",
    ),
    "control: IPython runs cells, files and new imports work": (
        "hw2",
        "ok:ran",
        """
import os, tempfile
from IPython.core.interactiveshell import InteractiveShell
def attack():
    shell = InteractiveShell.instance()
    result = shell.run_cell("import csv, json\\nvalue = sum(range(4))", store_history=True)
    assert result.success and shell.user_ns["value"] == 6, result
    path = os.path.join(tempfile.mkdtemp(), "out.txt")
    with open(path, "w") as f:
        f.write("x")
    return "ran"
""",
    ),
    "control: matplotlib draws": (
        "hw2",
        "ok:ok",
        """
import matplotlib
matplotlib.use("agg")
import matplotlib.pyplot as plt
import io
def attack():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    fig.savefig(io.BytesIO(), format="png")
    return "ok"
""",
    ),
    # --- torch.optim (homework 3)
    "torch.optim.Adam(...).step()": (
        "hw3",
        "refused",
        """
import torch
def attack():
    p = torch.zeros(2)
    p.grad = torch.ones(2)
    opt = torch.optim.Adam([p])
    opt.step()
    return p
""",
    ),
    "torch.optim.adam.adam (the functional form)": (
        "hw3",
        "refused",
        """
import sys, torch
def attack():
    p, g = torch.zeros(2), torch.ones(2)
    return sys.modules["torch.optim.adam"].adam(
        [p], [g], [torch.zeros(2)], [torch.zeros(2)], [], [torch.tensor(0.0)],
        foreach=False, beta1=0.9, beta2=0.999, lr=0.1, weight_decay=0.0, eps=1e-8,
        maximize=False, amsgrad=False,
    )
""",
    ),
    "_single_tensor_sgd": (
        "hw3",
        "refused",
        """
import sys, torch
def attack():
    return sys.modules["torch.optim.sgd"]._single_tensor_sgd(
        [torch.zeros(2)], [torch.ones(2)], [None], None, None, weight_decay=0.0, momentum=0.0,
        lr=0.1, dampening=0.0, nesterov=False, maximize=False, has_sparse_grad=False,
    )
""",
    ),
    "sys.modules['torch.optim.sgd'].SGD": (
        "hw3",
        "refused",
        one("import sys, torch", "sys.modules['torch.optim.sgd'].SGD([torch.zeros(2)], lr=0.1)"),
    ),
    "an Optimizer.__subclasses__() walk": (
        "hw3",
        "refused",
        """
import torch
def attack():
    (sgd,) = [c for c in torch.optim.Optimizer.__subclasses__() if c.__name__ == "SGD"]
    return sgd([torch.zeros(2)], lr=0.1)
""",
    ),
    "SGD made without __init__, then step()": (
        "hw3",
        "refused",
        """
import torch
def attack():
    p = torch.zeros(2)
    p.grad = torch.ones(2)
    opt = object.__new__(torch.optim.SGD)
    torch.optim.Optimizer.__init__(opt, [p], dict(lr=0.1, momentum=0.0, dampening=0.0,
        weight_decay=0.0, nesterov=False, maximize=False, foreach=False,
        differentiable=False, fused=None))
    opt.step()
    return p
""",
    ),
    "torch.optim._multi_tensor.SGD": (
        "hw3",
        "refused",
        one("import torch, torch.optim._multi_tensor as mt", "mt.SGD([torch.zeros(2)], lr=0.1)"),
    ),
    "a subclass of torch.optim.SGD": (
        "hw3",
        "refused",
        """
import torch
class Mine(torch.optim.SGD):
    pass
def attack():
    return Mine([torch.zeros(2)], lr=0.1)
""",
    ),
    "the fused kernel torch._fused_sgd_": (
        "hw3",
        "refused",
        """
import torch
def attack():
    return torch._fused_sgd_([torch.zeros(2)], [torch.ones(2)], [], weight_decay=0.0,
        momentum=0.0, lr=0.1, dampening=0.0, nesterov=False, maximize=False,
        is_first_step=True)
""",
    ),
    "the fused kernel through the dispatcher: torch.ops.aten._fused_adam_": (
        "hw3",
        "refused",
        """
import torch
def attack():
    p, g, m, v = torch.zeros(2), torch.ones(2), torch.zeros(2), torch.zeros(2)
    torch.ops.aten._fused_adam_.default([p], [g], [m], [v], [], [torch.tensor(1.0)], lr=0.1,
        beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
    return p
""",
    ),
    "the fused kernel by its dispatcher name (_jit_get_operation)": (
        "hw3",
        "refused",
        """
import torch
def attack():
    return torch._C._jit_get_operation("aten::_fused_sgd_")[0](
        [torch.zeros(2)], [torch.ones(2)], [], weight_decay=0.0, momentum=0.0, lr=0.1,
        dampening=0.0, nesterov=False, maximize=False, is_first_step=True)
""",
    ),
    "torch.distributed.optim's functional SGD": (
        "hw3",
        "refused",
        """
import torch
def attack():
    from torch.distributed.optim.functional_sgd import _FunctionalSGD
    p = torch.zeros(2)
    _FunctionalSGD([p], lr=0.1).step([torch.ones(2)])
    return p
""",
    ),
    "importlib.reload(torch.optim.sgd)": (
        "hw3",
        "refused",
        one("import importlib, sys", "importlib.reload(sys.modules['torch.optim.sgd']).SGD"),
    ),
    "re-importing torch.optim.sgd after removing it": (
        "hw3",
        "refused",
        """
import sys
def attack():
    del sys.modules["torch.optim.sgd"]
    import torch.optim.sgd
    return torch.optim.sgd.SGD
""",
    ),
    "exec of torch/optim/sgd.py's source": (
        "hw3",
        "refused",
        "import sys\ndef attack():\n    exec(open(sys.modules['torch.optim.sgd'].__file__).read(), {})",
    ),
    "the compiled sgd.pyc": (
        "hw3",
        "refused",
        """
import importlib.util, sys
def attack():
    return open(importlib.util.cache_from_source(sys.modules["torch.optim.sgd"].__file__), "rb")
""",
    ),
    "inspect.getsource(torch.optim.SGD)": (
        "hw3",
        "refused",
        one("import inspect, torch", "inspect.getsource(torch.optim.SGD)"),
    ),
    "torch.nn.utils.clip_grad_norm_": (
        "hw3",
        "refused",
        """
import torch
def attack():
    p = torch.zeros(2)
    p.grad = torch.ones(2)
    return torch.nn.utils.clip_grad_norm_([p], 1.0)
""",
    ),
    "torch.nn.utils.get_total_norm": (
        "hw3",
        "refused",
        one("import torch", "torch.nn.utils.get_total_norm([torch.ones(2)])"),
    ),
    "autograd is locked away in homework 3 too": (
        "hw3",
        "refused",
        GRAPH + "def attack():\n    return torch.autograd.grad(y, x)",
    ),
    "control: an Optimizer subclass, a scheduler, clip_grad_value_": (
        "hw3",
        "ok:tensor([-0.1000, -0.1000])",
        """
import torch
class Plain(torch.optim.Optimizer):
    def __init__(self, params, lr):
        super().__init__(params, dict(lr=lr))
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                p.add_(p.grad, alpha=-group["lr"])
def attack():
    p = torch.zeros(2)
    p.grad = torch.ones(2)
    opt = Plain([p], lr=0.1)
    schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    torch.nn.utils.clip_grad_value_([p], 5.0)
    opt.step()
    schedule.step()
    opt.load_state_dict(opt.state_dict())
    opt.zero_grad()
    return p
""",
    ),
}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict]:
    found = {}
    for homework in ("hw2", "hw3"):
        attacks = {name: code for name, (hw, _, code) in ATTACKS.items() if hw == homework}
        found.update(run_attacks(homework, attacks))
    return found


def check(outcome: dict, expect: str) -> None:
    if expect.startswith("ok:"):
        assert outcome["outcome"] == "returned", outcome
        assert expect[3:] in outcome["value"], outcome
        return
    assert outcome["outcome"] == "raised", f"the attack worked: {outcome}"
    if expect == "refused":
        assert any(REFUSED in line for line in outcome["chain"]), outcome


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_evasion_fails_and_ordinary_code_works(outcomes, attack):
    check(outcomes[attack], ATTACKS[attack][1])


# ---------------------------------------------------------------------------------------------------
# References saved before the lockdown, by modules imported before it: scrubbed
# ---------------------------------------------------------------------------------------------------

STASH = """
import sys, types, functools
import torch
adam = sys.modules["torch.optim.adam"].adam
stash = types.ModuleType("stash")
sys.modules["stash"] = stash
x = torch.ones(3, requires_grad=True)
node = (x * 2.0).grad_fn
stash.engine_method = torch.autograd.Variable._execution_engine.run_backward
stash.engine_descriptor = type(torch.autograd.Variable._execution_engine).__dict__["run_backward"]
stash.node = node
stash.node_call = node.__call__
stash.node_type_call = type(node).__dict__["__call__"]
stash.enter_dual_level = torch._C._enter_dual_level
stash.function_apply = torch._C._FunctionBase.__dict__["apply"]
stash.adam = adam
stash.in_a_list = [adam]
stash.in_a_tuple = [(torch.optim.SGD.__init__, "sgd")]
stash.step = torch.optim.SGD.step.__wrapped__  # the undecorated step
stash.partial = functools.partial(adam, [])
stash.clip = torch.nn.utils.clip_grad_norm_
def closure(f=adam):
    return f
stash.by_default = closure
class Holder:
    kept = adam
    def __init__(self):
        self.kept_here = torch.nn.utils.get_total_norm
stash.holder = Holder()
stash.Holder = Holder
"""

STASHED = {
    "the engine's bound method": "stash.engine_method((), (), False, False, (), False, False)",
    "the engine's method descriptor": (
        "stash.engine_descriptor(torch.autograd.Variable._execution_engine, (), (), False, False, (),"
        " False, False)"
    ),
    "a node's bound __call__": "stash.node_call(torch.ones(3))",
    "a node type's __call__": "stash.node_type_call(stash.node, torch.ones(3))",
    "torch._C._enter_dual_level": "stash.enter_dual_level()",
    "autograd.Function's C apply": "stash.function_apply.__get__(None, torch.autograd.Function)()",
    "torch.optim.adam.adam": "stash.adam()",
    "in a list": "stash.in_a_list[0]()",
    "in a tuple in a list": "stash.in_a_tuple[0][0](object.__new__(torch.optim.SGD), [])",
    "SGD.step (undecorated)": "stash.step(None)",
    "a functools.partial": "stash.partial()",
    "clip_grad_norm_": "stash.clip([], 1.0)",
    "a default argument": "stash.by_default()()",
    "a class attribute": "stash.Holder.kept()",
    "an instance attribute": "stash.holder.kept_here([])",
}


@pytest.fixture(scope="module")
def stashed() -> dict[str, dict]:
    attacks = {
        name: f"import sys, torch\nstash = sys.modules['stash']\ndef attack():\n    return {code}"
        for name, code in STASHED.items()
    }
    return run_attacks("hw3", attacks, before=STASH)


@pytest.mark.parametrize("what", STASHED)
def test_references_saved_before_the_lockdown_are_replaced_too(stashed, what):
    check(stashed[what], "refused")


# ---------------------------------------------------------------------------------------------------
# Families, reporting, homeworks without rules
# ---------------------------------------------------------------------------------------------------


def test_each_homework_locks_away_exactly_what_its_checks_forbid():
    locked = {key: h.lockdown for key, h in homeworks().items()}
    for families in locked.values():
        assert families <= FAMILIES
    assert locked["hw2"] == {"autograd"}
    assert locked["hw3"] == {"autograd", "torch.optim", "clipping"}
    assert locked["hw1"] == locked["hw4"] == frozenset()  # nothing happens there


def test_without_families_nothing_happens():
    lock_down(())  # in this (test) process: no hook, no replacement
    import gc

    import torch

    assert gc.get_referrers is not None and len(gc.get_objects()) > 0
    x = torch.ones(2, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_unknown_families_are_an_error():
    with pytest.raises(ValueError, match="unknown families"):
        lock_down({"autograd", "numpy"})


def test_checked_marks_a_probe_in_which_something_was_refused():
    code = """
import json, warnings
warnings.simplefilter("ignore")
import numpy as np, torch
from autograder.lockdown import checked, lock_down
lock_down({"autograd"})
def apply(fn, inputs):
    try:
        fn()
    except RuntimeError:
        pass  # the student's code swallows the refusal: the probe still knows
    return {"result": np.zeros(1)}
x = torch.ones(2, requires_grad=True)
out = checked(apply, lambda: (x * x).sum().backward(), {})
clean = checked(apply, lambda: None, {})
print(json.dumps([sorted(out), str(out.get("forbidden")), sorted(clean)]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    keys, text, clean_keys = json.loads(done.stdout.strip().splitlines()[-1])
    assert keys == ["forbidden", "result"] and clean_keys == ["result"]
    assert "torch.autograd is not available in this homework's grading" in text
    assert checked(lambda: {"result": 1}) == {"result": 1}  # no lockdown here: unchanged


# ---------------------------------------------------------------------------------------------------
# Through the real grader, in the sandbox
# ---------------------------------------------------------------------------------------------------

# homework 2, Linear.backward: autograd through a name built at run time, hidden from the probe's
# watch (torch functions are not dispatched to modes inside DisableTorchFunction)
HIDDEN_AUTOGRAD = """        engine = getattr(torch, "auto" + "grad")
        with torch._C.DisableTorchFunction():
            x = _stored(self, "x").detach().clone().requires_grad_(True)
            W = self.W.detach().clone().requires_grad_(True)
            out = torch.addmm(self.b, x, W) if self.b is not None else x @ W
            dx, dW = engine.grad(out, (x, W), grad_output)
        self.dW.copy_(dW)
        if self.db is not None:
            self.db.copy_(grad_output.sum(dim=0))
        return dx.detach() if need_input_grad else None
        ### END SOLUTION"""

# homework 3, SGD: the update delegated to torch.optim.SGD, found through names built at run time
HIDDEN_SGD = """        torch_sgd = getattr(getattr(torch, "op" + "tim"), "S" + "GD")
        inner = torch_sgd(
            [p], lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
            weight_decay=group["weight_decay"], nesterov=group["nesterov"],
        )
        inner.state[p] = self.state[p]  # the momentum buffer lives in our state
        inner.step()
        ### END SOLUTION"""


def replace_solution(nb, grade_id: str, body: str, last: bool = True) -> nbformat.NotebookNode:
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    parts = cell.source.split("### BEGIN SOLUTION")
    index = len(parts) - 1 if last else 1
    old = parts[index].split("### END SOLUTION")[0]
    cell.source = cell.source.replace(
        "### BEGIN SOLUTION" + old + "### END SOLUTION", "### BEGIN SOLUTION\n" + body
    )
    return nb


def grader_case(homework: str, task: str, body: str):
    from autograder.grade import grade_submission
    from autograder.sandbox import Limits, Sandbox, missing_protections

    missing = missing_protections()
    if missing:
        pytest.skip("; ".join(missing))
    from tests.test_grade import SEEDS, source

    nb = replace_solution(source(homework), task, body)
    sandbox = Sandbox(uid=60031, limits=Limits(wall_seconds=240))

    def grade(tmp_path, scan: bool):
        path = tmp_path / f"submission-{scan}.ipynb"
        nbformat.write(nb, path)
        return grade_submission(
            path, homework, sandbox, tmp_path / f"work-{scan}", seeds=SEEDS, scan=scan
        )

    return grade


def assert_lost(result, task: str, lost: set[str]) -> None:
    """Exactly ``lost`` scored 0 (the task whose cell made the forbidden call, not the tasks that
    only run its class), ``task`` is listed for review, and every other task kept its points."""
    failed = {name for name, t in result.tasks.items() if not t.passed}
    assert failed == lost, {name: result.tasks[name].message for name in failed}
    kept = sum(t.max_points for name, t in result.tasks.items() if name not in lost)
    assert result.score == kept
    assert any(line.startswith(f"{task}: ") for line in result.review), result.review


@pytest.mark.slow
@pytest.mark.parametrize(
    "homework, task, body, lost, rule",
    [
        # MLPRegressor trains with the notebook's Linear and runs the same forbidden code, but the
        # refusal names Linear's cell: MLPRegressor is checked again with the reference's Linear
        # (this Linear is right where autograd works) and keeps its points
        ("hw2", "Linear", HIDDEN_AUTOGRAD, {"Linear"}, "torch.autograd"),
        ("hw3", "SGD", HIDDEN_SGD, {"SGD"}, "torch.optim"),
    ],
    ids=["hw2-autograd", "hw3-torch.optim"],
)
def test_through_the_grader_a_hidden_forbidden_use_fails_and_is_listed(
    tmp_path, homework, task, body, lost, rule
):
    grade = grader_case(homework, task, body)
    unscanned = grade(tmp_path, scan=False)  # only the lockdown stands in the way
    assert_lost(unscanned, task, lost)
    for name in lost:
        message = unscanned.tasks[name].message
        assert message.startswith(f"{name}: ") and rule in message, message
        assert "refused at run time" in message, message
    scanned = grade(tmp_path, scan=True)  # the intake scan flags the computed name first
    assert_lost(scanned, task, lost)
