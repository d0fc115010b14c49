"""Time as an object.

Shows run on :class:`RealClock`; offline renders and tests run on :class:`FixedStepClock`, where
every frame advances by exactly ``1 / fps`` no matter how long the frame took to make.  Given
the same show, seed and fixed-step clock, a render is frame-for-frame identical.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    #: True when frames must not depend on wall time (offline render, tests)
    deterministic: bool

    def now(self) -> float:
        """Show time in seconds of the current frame."""

    def tick(self) -> float:
        """Advance to the next frame and return its show time."""

    def wall(self) -> float:
        """A monotonic wall-clock reading, for latency and fps figures only."""


class RealClock:
    """Show time follows the wall clock from ``start`` (an offset lets a show resume mid-way)."""

    deterministic = False

    def __init__(self, start: float = 0.0):
        self._t0 = time.perf_counter() - start
        self._now = start

    def now(self) -> float:
        return self._now

    def tick(self) -> float:
        self._now = time.perf_counter() - self._t0
        return self._now

    def wall(self) -> float:
        return time.perf_counter()


class FixedStepClock:
    """Frame ``n`` is at ``start + n / fps`` exactly; the first :meth:`tick` returns ``start``."""

    deterministic = True

    def __init__(self, fps: float, start: float = 0.0):
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps = float(fps)
        self.start = float(start)
        self.frame = -1

    def now(self) -> float:
        return self.start + max(self.frame, 0) / self.fps

    def tick(self) -> float:
        self.frame += 1
        return self.now()

    def wall(self) -> float:
        return time.perf_counter()


class AcceleratedClock:
    """Show time and the wall instant the schedule sees both run ``rate`` times faster than real time.

    For soaks that compress days of a scheduled show into minutes: :meth:`instant` is epoch seconds
    (what ``time.time()`` would read in the accelerated world) for the schedule's ``now`` callable,
    :meth:`now` is show time.  Plugin deadlines and back-off stay on the real clock (:meth:`wall`),
    so a hung plugin costs ``rate`` times more show time than it would in a venue: a harder test.
    """

    deterministic = False

    def __init__(self, rate: float, start: float = 0.0, instant: float | None = None):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.start = float(start)
        self.instant0 = time.time() if instant is None else float(instant)
        self._t0 = time.perf_counter()
        self._elapsed = 0.0  # accelerated seconds since construction, as of the last tick

    def now(self) -> float:
        return self.start + self._elapsed

    def instant(self) -> float:
        """Epoch seconds of the current frame in the accelerated world (the schedule's ``now``)."""
        return self.instant0 + self._elapsed

    def tick(self) -> float:
        self._elapsed = self.rate * (time.perf_counter() - self._t0)
        return self.now()

    def wall(self) -> float:
        return time.perf_counter()
