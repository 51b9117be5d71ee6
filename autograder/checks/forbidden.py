"""What a task may not use, and how a check finds out: a scan of the source and a watch on the run.

Homework 2 asks for backpropagation written by hand and homework 3 for optimizers written by hand, so a
solution that hands the work to ``torch.autograd`` or to ``torch.optim``'s own optimizers scores 0 on
that task, with a message that says why. Two independent looks:

- :func:`scan` (``source_scan.py``, also released beside the notebooks) reads the source of the
  student's function, or of every method of the student's class and of its bases defined in the same
  place (the notebook), and looks for the forbidden names:
  ``torch.autograd``, ``torch.func``, ``requires_grad``, ``.grad_fn``, ``torch.optim.Adam``, …
- :class:`AutogradWatch` runs the middle step (``apply``) under a ``TorchFunctionMode`` that sees
  every torch call (the probes run every ``apply`` under it, :func:`autograder.probes.run`, and the
  check decides whether what it saw is forbidden). The inputs a check passes never require
  gradients, so a tensor that does, or a call of ``backward`` / ``torch.autograd.grad``, can only come
  from the student's code. This catches what the scan cannot read (a name built at run time, a helper
  defined elsewhere).

Both are for honest mistakes ("I'll just check with autograd"), not for attacks: code that sets out to
hide itself is the sandboxed grader's business (issue #5), which scans the answer cells as text.
"""

from __future__ import annotations

from .. import probes
from .source_scan import AUTOGRAD, TORCH_CLIPPING, TORCH_OPTIM, Rule, chains, scan

__all__ = [
    "AUTOGRAD",
    "TORCH_CLIPPING",
    "TORCH_OPTIM",
    "AutogradWatch",
    "Rule",
    "autograd_message",
    "chains",
    "scan",
]


# ---------------------------------------------------------------------------------------------------
# The watch: it runs where student code runs, so it lives on the probe side (autograder.probes)
# ---------------------------------------------------------------------------------------------------


def autograd_message(used: str) -> str:
    """Why a task that forbids autograd scores 0, given the call the watch saw (``used``)."""
    return (
        f"uses torch.autograd (it called {used}, or made a tensor that requires grad): "
        f"this task {AUTOGRAD.why}, so it scores 0"
    )


class AutogradWatch(probes.AutogradWatch):
    """Records the first torch call that uses autograd while it is active (``with AutogradWatch()``):
    the probes' watch (:class:`autograder.probes.AutogradWatch`, which the sandbox runs), with the
    message a check gives when its rule forbids that use."""

    def message(self) -> str:
        return autograd_message(self.used)
