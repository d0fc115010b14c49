"""The show's beat source as the control layer knows it.

A show with a soundtrack knows every beat in advance (the track's beat grid, a pure function of
show time: renders stay identical).  Without one, the beat is followed live from the
``/audio/beat`` pulses the control queue carries, whichever input sent them (a sound card, a
file looped as the input, a desk over OSC): :class:`~installation.audio.follow.BeatFollower`.
``Control.frame`` shows each frame's events to it; the playhead reads it for cues ``at_beat``.
A Link session replaces both (installation/audio/link_beats.py).
"""

from __future__ import annotations

from typing import Any

from ..audio.follow import BeatFollower


def beat_source(track: Any) -> Any:
    """The track's beat grid when the show has a track (a TrackSource), else a live follower."""
    if track is not None:
        return track.track.beats
    return BeatFollower()


def observe(beats: Any, events: list, show_t: float | None) -> None:
    """Let a live follower hear this frame's events (grids and Link sessions know the beat already)."""
    if show_t is not None and isinstance(beats, BeatFollower):
        beats.observe(events, show_t)
