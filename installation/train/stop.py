"""Stop a training run cleanly on Ctrl-C or SIGTERM: finish the step, save, export, exit.

The first SIGINT or SIGTERM only sets a flag, so the step in progress completes (an optimiser
step cut in half would leave G and D out of step); the loop then saves a checkpoint and exports
the weights.  A second signal while that happens gets the default behaviour (stop now).
Handlers are installed only in the main thread (signal handlers cannot be set elsewhere).
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class StopOnSignal:
    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: str | None = None
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, _frame: Any) -> None:
        self.requested, self.signum = signal.Signals(signum).name, signum
        for s, old in self._old.items():  # a second signal: the default (or previous) behaviour
            signal.signal(s, old)

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._old[s] = signal.getsignal(s)
                signal.signal(s, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)
        self._old.clear()
