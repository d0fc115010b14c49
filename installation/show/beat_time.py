"""The beat in the timeline: cues that start on a beat, scenes whose keyframes land on beats.

:class:`Landing` is the timeline's one link to a beat source (``Timeline.beats``: the track's
beat grid offline, the beat follower live, a Link session).  Offline it is a pure function of
show time, so a render stays frame-for-frame identical.  Live the source learns as it hears, so
the landing time of a cue is recomputed with the newest beats until show time passes it, then kept
(``Timeline.now``, set by the playhead each frame): a cue that has started never moves.
"""

from __future__ import annotations

import math
from typing import Any

from ..audio.beats import next_beat_time

INF = math.inf


class Landing:
    def __init__(self, timeline: Any) -> None:
        self.timeline = timeline
        self.quantised = any(a.cue.at_beat for a in timeline.actions)
        self.kept: dict[tuple[float, int], float] = {}

    def fire(self, T: float, cue: int | None) -> float:
        """When cue ``cue``, due to fire at ``T``, fires: so that its action starts on its beat."""
        tl = self.timeline
        if cue is None or T == INF or tl.beats is None:
            return T
        spec = tl.actions[cue].cue
        if not spec.at_beat:
            return T
        key = (T, cue)
        if key in self.kept:
            return self.kept[key]
        landed = next_beat_time(tl.beats, T + spec.pre_wait, spec.at_beat)
        out = T if landed is None else max(T, landed - spec.pre_wait)
        if out <= tl.now:
            self.kept[key] = out
        return out

    def local_time(self, index: int, t: float, run_start: float) -> float:
        """Scene ``index``'s local time at show time ``t``: seconds since ``run_start``, or with
        ``keyframe_beats = N`` beats / N / keyframe_rate, keyframe k on beat N·k (the mixer puts
        keyframe k at local time k / rate)."""
        tl = self.timeline
        scene = tl.show.scenes[index]
        n = scene.keyframe_beats
        if not n or tl.beats is None:
            return t - run_start
        b, b0 = tl.beats.beat_at(t), tl.beats.beat_at(run_start)
        if b is None or b0 is None:
            return t - run_start
        return max(0.0, float(b / n - math.floor(b0 / n)) / scene.keyframe_rate)
