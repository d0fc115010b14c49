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
        self._times: dict[str, float] = {}

    def mark(self, name: str, when: float) -> None:
        """Remember when ``name`` last happened (a monotonic time), e.g. the last datagram."""
        self._times[name] = when  # one dict store: atomic under the GIL, no lock on the hot path

    def last(self, name: str) -> float | None:
        return self._times.get(name)

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


def control_health(counters: Counters, now: float) -> dict:
    """Control-input figures for ``/status``: what arrived, what was refused and why, and how long
    ago the last datagram came (``None``: none yet).  ``dropped`` is everything that never became
    an event (refused by source, rate, queue or the kernel's full socket buffer), ``malformed``
    included."""
    snap = counters.snapshot()
    last = counters.last("datagram")
    refused = ("not_allowed", "malformed", "rate_limited", "queue_full", "kernel_dropped")
    return {
        "received": snap.get("datagrams", 0),
        "messages": snap.get("messages", 0),
        "accepted": snap.get("accepted", 0),
        "dropped": sum(snap.get(k, 0) for k in refused),
        "malformed": snap.get("malformed", 0),
        "rate_limited": snap.get("rate_limited", 0),
        "not_allowed": snap.get("not_allowed", 0),
        "queue_full": snap.get("queue_full", 0),
        "kernel_dropped": snap.get("kernel_dropped", 0),
        "last_packet_age_s": None if last is None else round(max(0.0, now - last), 3),
    }
