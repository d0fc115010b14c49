"""Thread-safe named counters.

Every dropped or rejected input is counted, never raised: the counts are what an operator reads
(``/status`` replies, ``installation osc`` output, tests) to learn why a fader does nothing.
"""
from __future__ import annotations

import threading
from collections import Counter


class Counters:
    """A lock-guarded :class:`collections.Counter` shared by input threads and the render loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def incr(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def __getitem__(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def __repr__(self) -> str:
        return f"Counters({self.snapshot()})"
