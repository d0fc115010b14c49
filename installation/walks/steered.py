"""A walk the performer drives: speed and direction come from control state.

The walk moves along a seamless noise loop (see :mod:`.loops`); the performer sets how fast its
*phase* advances: ``phase'(t) = speed · control["/walk/speed"] · control["/walk/direction"]``.
Where it is at t therefore depends on the history of the control, not on t alone.

Choice: the walk keeps a **control log** — the (time, velocity) at which the velocity changed,
recorded when a keyframe is made — and its position is the exact integral of that piecewise-
constant velocity.  So the walk is a pure function of (t, log): seeking inside the recorded
stretch gives the same latent every time, a render with no control (or a replayed control
recording) is frame-for-frame identical, and no fixed-step integration error accumulates over
a week.  Samples asked for *before* the end of the log (a seek backwards) never rewrite it;
when the scene itself starts over, the app calls :meth:`restart` and a new log begins, so a
render that seeks into a later run agrees with one that played through the earlier runs.

Hosts in lock-step (``[sync]``) cannot record a change when a keyframe is made: each host makes
its keyframes ahead, at moments of its own, so each would integrate a different history.  There
the control state carries the changes stamped with the show time they were scheduled for
(``control["@changes"]``, see :mod:`installation.control.stamps`) and the show time at which
this scene's local time is 0 (``control["@origin"]``, from the scene's worker).  The walk then
rebuilds its log from those alone — a change scheduled for show time ``at`` counts from local
time ``at − origin`` on every host, changes before the run count from 0 — so its position is a
pure function of (t, stamped changes), whichever keyframe first saw them.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from typing import Any

import torch

from .common import CHANGES_KEY, ORIGIN_KEY, OptionError, control_value, number
from .loops import HarmonicLoop


class SteeredWalk:
    def __init__(
        self,
        latent_dim: int,
        seed: int = 0,
        period: float = 60.0,
        octaves: int = 4,
        speed: float = 1.0,
        speed_key: str = "/walk/speed",
        direction_key: str = "/walk/direction",
        log: list | None = None,
    ):
        self.latent_dim = int(latent_dim)
        self.path = HarmonicLoop(latent_dim, seed, period=period, harmonics=octaves, harmonics_name="octaves")
        self.speed = number("speed", speed)
        for name, key in (("speed_key", speed_key), ("direction_key", direction_key)):
            if not isinstance(key, str) or not key.startswith("/"):
                raise OptionError(name, f"must be an address like /walk/speed, not {key!r}")
        self.speed_key, self.direction_key = speed_key, direction_key
        self.times: list[float] = []  # when the velocity changed
        self.velocity: list[float] = []  # phase seconds per show second from then on
        self.phase_at: list[float] = []  # integrated phase at each change
        self._lock = threading.Lock()
        self._origin: float | None = None  # stamped mode ([sync]): the run's origin in show time
        self._base: dict | None = None  # stamped mode: the walk values before the first change
        self._stamped: dict[int, tuple[float, dict]] = {}  # seq -> (local time, values it set)
        for t, v in log or []:
            self.record(float(t), float(v))

    def velocity_of(self, control: Mapping[str, Any] | None) -> float:
        return (
            self.speed * control_value(control, self.speed_key, 1.0) * control_value(control, self.direction_key, 1.0)
        )

    def record(self, t: float, velocity: float) -> None:
        """Append a velocity change at ``t`` (ignored unless ``t`` is past the end of the log)."""
        with self._lock:
            if not self.times:
                self.times, self.velocity, self.phase_at = [t], [velocity], [t * velocity]
                return
            if t < self.times[-1] or velocity == self.velocity[-1]:
                return
            self.phase_at.append(self.phase_at[-1] + (t - self.times[-1]) * self.velocity[-1])
            self.times.append(t)
            self.velocity.append(velocity)

    def phase(self, t: float) -> float:
        """Integrated velocity from 0 to ``t`` (before the first entry the first velocity applies)."""
        with self._lock:
            if not self.times:
                return t * self.speed
            i = max(bisect.bisect_right(self.times, t) - 1, 0)
            return self.phase_at[i] + (t - self.times[i]) * self.velocity[i]

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        changes = control.get(CHANGES_KEY) if control else None
        origin = control.get(ORIGIN_KEY) if control else None
        if changes is not None and origin is not None:
            self.merge(changes, float(origin))
        elif self._origin is None:
            self.record(float(t), self.velocity_of(control))
        return self.path.latent(self.phase(float(t)))

    def merge(self, changes: tuple, origin: float) -> None:
        """Stamped mode: take in new scheduled changes and rebuild the log from them alone.

        ``changes`` is ``(initial items, ((seq, show time, ((address, value), ...)), ...))``.  The
        changes seen are kept (by ``seq``), so entries the control log has since folded away stay.
        """
        initial, entries = changes
        with self._lock:
            if origin != self._origin:  # a new run (or the first stamped call): start the log again
                self._origin, self._base, self._stamped = origin, None, {}
            if self._base is None:
                self._base = dict(initial)
            new = [(seq, at, diff) for seq, at, diff in entries if seq not in self._stamped]
            if not new and self.times:
                return
            for seq, at, diff in new:
                self._stamped[seq] = (float(at) - origin, dict(diff))
            self._rebuild()

    def _rebuild(self) -> None:
        """The (time, velocity) log of the stamped changes: those at or before local 0 set the start."""
        values = dict(self._base or {})
        order = sorted((local, seq, diff) for seq, (local, diff) in self._stamped.items())
        later = []
        for local, _, diff in order:
            if local <= 0.0:
                values.update(diff)
            else:
                later.append((local, diff))
        times, velocity, phase_at = [0.0], [self.velocity_of(values)], [0.0]
        for local, diff in later:
            values.update(diff)
            v = self.velocity_of(values)
            if local == times[-1]:
                velocity[-1] = v
            elif v != velocity[-1]:
                phase_at.append(phase_at[-1] + (local - times[-1]) * velocity[-1])
                times.append(local)
                velocity.append(v)
        self.times, self.velocity, self.phase_at = times, velocity, phase_at

    def restart(self) -> None:
        """The scene starts a new run (its local time went back to 0): forget the old run's log.

        Without this a re-entered scene would keep integrating the previous run's history and
        ignore the performer until its local time passed the old log's end.
        """
        with self._lock:
            self.times, self.velocity, self.phase_at = [], [], []
            self._origin, self._base, self._stamped = None, None, {}

    def log(self) -> list[tuple[float, float]]:
        """The recorded control history, to save with a performance and replay it."""
        with self._lock:
            return list(zip(self.times, self.velocity))
