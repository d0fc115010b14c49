"""Which two keyframes a scene shows at a frame, and how far the crossfade between them is.

Deterministic (fixed-step) renders: keyframe ``k`` belongs to time ``k / rate``; a frame at
scene time ``t`` blends keyframes ``floor(t·rate)`` and the next with weight ``frac(t·rate)``,
generating them synchronously when missing.  The output is then a pure function of time.

Real time: the mixer asks the worker for the keyframe ahead and never waits.  Whenever a newer
keyframe arrives it becomes the fade target, and the fade runs over the measured interval
between arrivals (at least ``1 / rate``), so a model that delivers 3 keyframes a second still
gives motion that is smooth at display rate.

``crossfade`` (seconds, live ``/crossfade/time``) shortens each fade: a keyframe holds, then
fades into the next over the last ``crossfade`` seconds of its interval, so keyframes still land
on their times; 0 is a cut at the boundary.  Unset, a fade takes the whole interval.

When the worker faults, both modes keep showing the last good keyframe (the app switches to the
show's fallback scene when there is none, or the fault lasts too long).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .buffer import Keyframe
from .worker import GeneratorWorker


@dataclass
class Blend:
    a: Keyframe | None
    b: Keyframe | None
    mix: float  # 0 shows a, 1 shows b


class KeyframeMixer:
    def __init__(self, worker: GeneratorWorker, deterministic: bool):
        self.worker = worker
        self.deterministic = deterministic
        self.rate = worker.rate
        self.shown_a: Keyframe | None = None
        self.shown_b: Keyframe | None = None
        self._fade_start = 0.0
        self._interval = 1.0 / self.rate
        self.crossfade: float | None = None

    def _shape(self, elapsed: float, interval: float) -> float:
        """Blend weight after ``elapsed`` seconds of a fade that may last ``interval`` seconds."""
        length = interval if self.crossfade is None else min(max(self.crossfade, 0.0), interval)
        if length <= 0.0:
            return 0.0 if elapsed < interval else 1.0
        return min(max((elapsed - (interval - length)) / length, 0.0), 1.0)

    def blend(self, local_t: float, wall: float) -> Blend:
        if self.deterministic:
            pos = local_t * self.rate
            k0 = math.floor(pos)
            a = self.worker.ensure(k0)
            b = self.worker.ensure(k0 + 1) if a is not None else None
            if a is None or b is None:  # plugin fault: hold the last good keyframe
                held = a or self.shown_b
                self.shown_a = self.shown_b = held
                return Blend(held, held, 0.0)
            self.shown_a, self.shown_b = a, b
            return Blend(a, b, self._shape((pos - k0) / self.rate, 1.0 / self.rate))

        self.worker.request(math.floor(local_t * self.rate) + 1)
        newest = self.worker.buffer.newest()
        if newest is None:
            return Blend(None, None, 0.0)
        if self.shown_b is None:
            self.shown_a = self.shown_b = newest
            self._fade_start = wall
        elif newest.index > self.shown_b.index:
            gap = newest.arrival - self.shown_b.arrival
            if gap > 0:  # smooth the measured interval, bounded to keep fades sensible
                self._interval = min(max(0.7 * self._interval + 0.3 * gap, 1.0 / self.rate), 4.0 / self.rate)
            self.shown_a, self.shown_b = self.shown_b, newest
            self._fade_start = wall
        return Blend(self.shown_a, self.shown_b, self._shape(wall - self._fade_start, self._interval))

    def in_use(self) -> set[int]:
        return {id(k) for k in (self.shown_a, self.shown_b) if k is not None}
