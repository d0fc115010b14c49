"""How a plugin is run: deadlines, back-off, isolation and memory; and the runtime-wide stop signal."""

from __future__ import annotations

import threading
from dataclasses import dataclass

_interrupted = threading.Event()


def interrupt_waits() -> None:
    """End every :meth:`GeneratorWorker.ensure` wait now (the runtime is stopping: signal handlers call this)."""
    _interrupted.set()


def reset_interrupt() -> None:
    _interrupted.clear()


@dataclass
class RestartPolicy:
    """Deadlines, back-off and isolation for one plugin (seconds, MiB)."""

    deadline: float = 10.0  # one keyframe; longer counts as hung
    build_deadline: float = 120.0  # building the generator (loading weights)
    backoff: float = 0.5  # first wait after a fault
    factor: float = 2.0  # growth per consecutive fault
    backoff_limit: float = 30.0
    isolated: bool = True  # each source in a worker process of its own
    memory_mb: float | None = None  # isolated: memory the plugin may allocate once built (``--plugin-memory``)
    torch_threads: int | None = None  # isolated: torch threads per worker process (default: half the cores, <= 4)


def interrupted() -> bool:
    return _interrupted.is_set()
