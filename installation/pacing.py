"""Frame pacing for live runs without vsync: a deadline schedule on a fixed grid of display slots.

Sleeping ``1/fps - elapsed`` after each frame (what the loop did before) lets every late frame
push all later ones back, and every sleep's overshoot adds to the interval: on a loaded machine
the intervals spread and the show's frame rate sags.  :class:`Pacer` instead keeps the slots a
display would have — slot ``n`` begins at ``start + n / fps`` — and after each frame waits for
the start of the next slot still ahead:

* a frame's work starts when its slot begins and is due by the slot's end (the next vsync);
* a frame that finishes inside its slot waits for the next slot boundary (no drift, however
  long each sleep overshoots: the next deadline is computed from the grid, not from now);
* a frame that runs past its slot's end by less than ``late`` of a period is shown at once and
  the grid keeps its place (the next frame catches up: one long and one short interval, no drop);
* a frame later than that gives up the slots it missed, as a vsync'd display would (those are
  counted in :attr:`dropped`), and the next frame aims at the next slot boundary.

The sleep itself wakes ``spin`` seconds early and yields the CPU in short naps until the
deadline, because a plain ``sleep`` on a loaded host overshoots by a scheduler tick or more.

It also records each frame's presentation time (:attr:`presented`), for benchmarks and health.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        fps: float,
        now: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
        late: float = 0.5,
        spin: float = 0.002,
        keep: int = 100_000,
    ):
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.period = 1.0 / fps
        self._now = now
        self._sleep = sleep
        self.late = late
        self.spin = spin
        self.start: float | None = None
        self.slot = 0  # the slot the next frame is to be presented in
        self.frames = 0
        self.dropped = 0  # display slots that passed with no new frame
        self.presented: deque[float] = deque(maxlen=keep)  # perf-counter time each frame was handed out
        self.slots: deque[int] = deque(maxlen=keep)  # the slot each frame was presented in

    def deadline(self, slot: int) -> float:
        assert self.start is not None
        return self.start + slot * self.period

    def presented_now(self) -> None:
        """The frame was handed to the outputs: note when, and which slot it filled."""
        t = self._now()
        if self.start is None:
            self.start = t
            self.slot = 0
        else:
            due = self.deadline(self.slot + 1)  # the end of the slot its work began in
            behind = (t - due) / self.period
            if behind > self.late:  # missed: it fills a later slot, the ones between show the old frame
                skipped = math.floor(behind - self.late) + 1
                self.dropped += skipped
                self.slot += skipped
        self.presented.append(t)
        self.slots.append(self.slot)
        self.frames += 1
        self.slot += 1

    def wait(self) -> None:
        """Sleep until the next slot begins (returns at once when it has begun already)."""
        if self.start is None:
            return
        due = self.deadline(self.slot)
        while True:
            left = due - self._now()
            if left <= 0:
                return
            self._sleep(left - self.spin if left > 2 * self.spin else min(left, 0.0005))

    def intervals(self) -> list[float]:
        """Seconds between consecutive presentations."""
        p = list(self.presented)
        return [b - a for a, b in zip(p, p[1:])]
