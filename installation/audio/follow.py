"""A beat clock that follows beat events as they arrive: the live shows' :class:`BeatSource`.

Live, the beat is heard, not known in advance: the sound card and the looped file send
``/audio/beat`` pulses from :class:`~installation.audio.live.LiveFeatures`, a mixing desk sends
them over OSC.  :class:`BeatFollower` numbers each pulse at the show time of the frame that
drains it and answers ``beat_at(t)`` between pulses by their times, past the last one at the
tempo (``/audio/tempo`` when sent, else the pulses' own spacing).

``beat_at`` never runs backwards for a later ``t``: past the last pulse it waits just short of
the next whole beat until the pulse comes (up to half a beat late), and a pulse that comes later
still is given the number the free-running count has reached.  A scene whose keyframes follow the
beat therefore never sees its time step back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

MIN_GAP_S = 0.1  # two pulses closer than this are one beat (300 BPM is 0.2 s a beat)
HOLD = 0.999  # how far past the last beat the count goes while waiting for the next pulse
LATE = 1.5  # beats after the last pulse at which the count runs free again


class BeatFollower:
    """A :class:`~installation.audio.beats.BeatSource` over the beat pulses seen so far."""

    def __init__(self, keep: int = 64) -> None:
        self.beats: deque[tuple[float, float]] = deque(maxlen=keep)  # (number, show time)
        self.bpm = 0.0  # from /audio/tempo; 0: measured from the pulses

    def observe(self, events: Iterable[Any], t: float) -> None:
        """One frame's drained control events (anything with ``address`` and ``args``) at show time t."""
        for e in events:
            if e.address == "/audio/beat" and e.args and _number(e.args[0]) >= 0.5:
                self.pulse(t)
            elif e.address == "/audio/tempo" and e.args and _number(e.args[0]) > 0:
                self.bpm = _number(e.args[0])

    def pulse(self, t: float) -> None:
        """A beat heard at show time ``t``."""
        if not self.beats:
            self.beats.append((0.0, t))
            return
        n, last = self.beats[-1]
        if t - last < MIN_GAP_S:
            return
        p = self.period()
        ahead = (t - last) / p if p else 1.0
        self.beats.append((n + (1.0 if ahead < LATE else float(np.ceil(ahead))), t))

    def period(self) -> float | None:
        if self.bpm > 0:
            return 60.0 / self.bpm
        if len(self.beats) < 2:
            return None
        b = np.asarray(self.beats)[-9:]
        return float(np.median(np.diff(b[:, 1]) / np.diff(b[:, 0])))

    def tempo_at(self, t: float) -> float:
        p = self.period()
        return 60.0 / p if p else 0.0

    def beat_at(self, t: float) -> float | None:
        if not self.beats:
            return None
        p = self.period()
        n, last = self.beats[-1]
        if t >= last:
            if p is None:
                return n
            ahead = (t - last) / p
            return n + (min(ahead, HOLD) if ahead < LATE else ahead)
        b = np.asarray(self.beats)
        if t <= b[0, 1]:
            return float(b[0, 0] + ((t - b[0, 1]) / p if p else 0.0))
        return float(np.interp(t, b[:, 1], b[:, 0]))

    def time_of(self, beat: float) -> float | None:
        """Show time of beat ``beat``: known for pulses heard, predicted at the tempo after the last."""
        if not self.beats:
            return None
        p = self.period()
        b = np.asarray(self.beats)
        n, last = b[-1]
        if beat >= n:
            return float(last + (beat - n) * p) if p else (float(last) if beat == n else None)
        if beat <= b[0, 0]:
            return float(b[0, 1] - (b[0, 0] - beat) * p) if p else float(b[0, 1])
        return float(np.interp(beat, b[:, 0], b[:, 1]))


def _number(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0
