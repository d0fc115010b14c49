"""What can go wrong in plugin code, named once for both worker transports, logs and ``/status``."""

from __future__ import annotations

import signal

import torch

#: every fault kind a worker counts (``status()["faults"]``)
FAULT_KINDS = ("error", "bad_output", "hang", "oom", "build", "crash")

_OOM_TEXT = ("out of memory", "can't allocate memory", "cannot allocate memory", "std::bad_alloc")


class PluginFault(Exception):
    """A keyframe (or a build) failed in plugin code; ``kind`` is one of :data:`FAULT_KINDS`."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.notes: list[str] = []  # degrade steps a worker process took before it failed


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA OOM, host ``MemoryError``, or an allocator's RuntimeError saying it (torch's CPU allocator)."""
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(t in str(exc).lower() for t in _OOM_TEXT)


def classify(exc: BaseException) -> str:
    """Fault kind of an exception from ``make``: ``oom``, ``bad_output`` (frame checks) or ``error``."""
    if is_out_of_memory(exc):
        return "oom"
    return "bad_output" if isinstance(exc, ValueError) else "error"


def describe_exit(exitcode: int | None) -> str:
    """``killed by SIGSEGV`` / ``exit status 3``: how a worker process ended."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"
