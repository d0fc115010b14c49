"""Walk control changes stamped with the show time they were scheduled for (hosts under ``[sync]``).

A cue under ``[sync]`` carries the show time it takes effect (``ControlEvent.at``) and lands on
each host's first frame at or after it: a different frame, and a different keyframe, on every
host.  Walks with history (the steered walk integrates its speed) must not record the change at
the moment a host happened to see it, so :class:`ChangeLog` keeps, per stamped group of events,
the walk values it changed and *when they were scheduled*: ``(seq, at, ((address, value), ...))``.
The walk integrates that log; workers drop keyframes made ahead with an older log.

Without stamped events (no ``[sync]``) the log stays empty and nothing changes.  The log is
bounded: the oldest entries are folded into ``initial`` (the values in force before the first
entry), which leaves every run that began after them exact.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from .events import ControlEvent

#: the parameters walks read (``ControlRouting.walk_control`` hands them to the walks)
WALK_PREFIXES = ("/walk/", "/direction/")
LIMIT = 4096
_MISSING = object()


def walk_values(values: dict) -> dict:
    return {a: v for a, v in values.items() if v is not None and a.startswith(WALK_PREFIXES)}


class ChangeLog:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.initial: dict | None = None
        self.entries: deque[tuple[int, float, tuple]] = deque()
        self.seq = 0
        self._view: tuple | None = None

    def __bool__(self) -> bool:
        return bool(self.entries)

    def add(self, at: float, before: dict, after: dict) -> None:
        diff = tuple(sorted((a, v) for a, v in after.items() if before.get(a, _MISSING) != v))
        if not diff:
            return
        if self.initial is None:
            self.initial = dict(before)
        self.entries.append((self.seq, float(at), diff))
        self.seq += 1
        while len(self.entries) > self.limit:
            _, _, old = self.entries.popleft()
            self.initial.update(old)
        self._view = None

    def snapshot(self) -> tuple[tuple, tuple]:
        """``(initial items, entries)``: plain tuples (they travel to worker processes), cached."""
        if self._view is None:
            self._view = (tuple(sorted((self.initial or {}).items())), tuple(self.entries))
        return self._view


def runs(events: Iterable[ControlEvent]) -> list[tuple[float | None, list[ControlEvent]]]:
    """Consecutive events with one ``at`` (``None``: not scheduled), in their order."""
    out: list[tuple[float | None, list[ControlEvent]]] = []
    for ev in events:
        if out and out[-1][0] == ev.at:
            out[-1][1].append(ev)
        else:
            out.append((ev.at, [ev]))
    return out
