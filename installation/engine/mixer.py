"""Which two keyframes a scene shows at a frame, and how far the crossfade between them is.

Deterministic (fixed-step) renders: keyframe ``k`` belongs to time ``k / rate``; a frame at
scene time ``t`` blends keyframes ``floor(t·rate)`` and the next with weight ``frac(t·rate)``,
generating them synchronously when missing.  The output is then a pure function of time.

Real time: the mixer asks the worker for the keyframe ahead and never waits.  Whenever a newer
keyframe arrives it becomes the fade target, and the fade runs over the measured interval
between arrivals (at least ``1 / rate``), so a model that delivers 3 keyframes a second still
gives motion that is smooth at display rate.

Locked real time (``locked=True``: several hosts on one show time, ``[sync]``): the frame is the
deterministic one — keyframes ``floor(t·rate)`` and the next at weight ``frac(t·rate)`` — but
nothing waits: the worker is asked for the most urgent missing keyframe, and while one is missing
the last good keyframe holds.  A host whose model keeps up then draws, at each show time, the
same picture as every other host (and as an offline render), so blends meet across machines.

``crossfade`` (seconds, live ``/crossfade/time``) shortens each fade: a keyframe holds, then
fades into the next over the last ``crossfade`` seconds of its interval, so keyframes still land
on their times; 0 is a cut at the boundary.  Unset, a fade takes the whole interval.

When the worker faults, both modes keep showing the last good keyframe (the app switches to the
show's fallback scene when there is none, or the fault lasts too long).

Two steps, as model / update / view asks: :meth:`KeyframeMixer.plan` runs in the app's update
(it asks the worker for keyframes and picks the two shown), :meth:`KeyframeMixer.blend` runs in
view and only reads: it never asks for work.
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
    def __init__(self, worker: GeneratorWorker, deterministic: bool, locked: bool = False):
        self.worker = worker
        self.deterministic = deterministic
        self.locked = locked and not deterministic  # real time, but frames a function of show time
        self.rate = worker.rate
        self.shown_a: Keyframe | None = None
        self.shown_b: Keyframe | None = None
        self._held = False  # deterministic: a fault froze the last good keyframe
        self._empty = False  # real time: the worker's buffer had nothing at the last plan
        self._fade_start = 0.0
        self._interval = 1.0 / self.rate
        self.crossfade: float | None = None

    def _shape(self, elapsed: float, interval: float) -> float:
        """Blend weight after ``elapsed`` seconds of a fade that may last ``interval`` seconds."""
        length = interval if self.crossfade is None else min(max(self.crossfade, 0.0), interval)
        if length <= 0.0:
            return 0.0 if elapsed < interval else 1.0
        return min(max((elapsed - (interval - length)) / length, 0.0), 1.0)

    @property
    def ready(self) -> bool:
        """A keyframe to show exists (after :meth:`plan`)."""
        return self.shown_b is not None and not self._empty

    def plan(self, local_t: float, wall: float) -> None:
        """Update step: ask the worker for what the frame at ``local_t`` needs and pick the shown pair.

        Deterministic: keyframes ``floor(t·rate)`` and the next, made now when missing.  Real
        time: request the keyframe ahead, and move the fade on when a newer one has arrived.
        """
        if self.deterministic:
            k0 = math.floor(local_t * self.rate)
            a = self.worker.ensure(k0)
            b = self.worker.ensure(k0 + 1) if a is not None else None
            if a is None or b is None:  # plugin fault: hold the last good keyframe
                held = a or self.shown_b
                self.shown_a = self.shown_b = held
                self._held = True
            else:
                self.shown_a, self.shown_b = a, b
                self._held = False
            return

        if self.locked:
            self._plan_locked(local_t)
            return
        self.worker.request(math.floor(local_t * self.rate) + 1)
        newest = self.worker.buffer.newest()
        self._empty = newest is None
        if newest is None:
            return
        if self.shown_b is None:
            self.shown_a = self.shown_b = newest
            self._fade_start = wall
        elif newest.index > self.shown_b.index:
            gap = newest.arrival - self.shown_b.arrival
            if gap > 0:  # smooth the measured interval, bounded to keep fades sensible
                self._interval = min(max(0.7 * self._interval + 0.3 * gap, 1.0 / self.rate), 4.0 / self.rate)
            self.shown_a, self.shown_b = self.shown_b, newest
            self._fade_start = wall

    def _plan_locked(self, local_t: float) -> None:
        """The deterministic pair if it is there; else hold the last good keyframe. Never waits."""
        k0 = math.floor(local_t * self.rate)
        a, b = self.worker.buffer.get(k0), self.worker.buffer.get(k0 + 1)
        self.worker.request(k0 if a is None else k0 + 1 if b is None else k0 + 2)  # the most urgent missing
        if a is not None and b is not None:
            self.shown_a, self.shown_b, self._held = a, b, False
            return
        buf = self.worker.buffer
        kept = [k for k in (self.shown_b, self.shown_a) if k is not None and buf.get(k.index) is k]
        held = a or (kept[0] if kept else None) or buf.newest() or self.shown_b  # not one dropped as stale
        self._empty = held is None
        if held is not None:
            self.shown_a = self.shown_b = held
            self._held = True

    def blend(self, local_t: float, wall: float) -> Blend:
        """View step: the planned pair and how far the fade between them is. Reads only."""
        if self.shown_b is None or self._empty:
            return Blend(None, None, 0.0)
        if self.deterministic or self.locked:
            if self._held:
                return Blend(self.shown_b, self.shown_b, 0.0)
            pos = local_t * self.rate
            k0 = math.floor(pos)
            return Blend(self.shown_a, self.shown_b, self._shape((pos - k0) / self.rate, 1.0 / self.rate))
        return Blend(self.shown_a, self.shown_b, self._shape(wall - self._fade_start, self._interval))

    def in_use(self) -> set[int]:
        return {id(k) for k in (self.shown_a, self.shown_b) if k is not None}
