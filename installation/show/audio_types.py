"""The types of a show's ``[audio]`` table: the soundtrack a show plays to, and what it sends.

The track's features become control inputs (``/audio/level``, ``/audio/beat`` ...: see
installation/audio/track.py) that ``[[bindings]]`` map onto parameters like any OSC input.
``[[audio.at_beat]]`` sends any control address on a beat of the track (a cue ``at_beat``, a
scene change every 16 beats), ``sections`` maps the track's sections to ``/audio/section``.
Syntax: docs/audio.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..problems import StrictModel


class Band(StrictModel):
    name: str = Field(pattern=r"^[a-z0-9_-]+$", description="the band's address is /audio/band/NAME")
    lo: float = Field(ge=0, description="lower edge, Hz")
    hi: float = Field(gt=0, description="upper edge, Hz")

    @model_validator(mode="after")
    def _order(self) -> Band:
        if self.hi <= self.lo:
            raise ValueError(f"band {self.name!r}: hi ({self.hi}) must be above lo ({self.lo})")
        return self


class AtBeat(StrictModel):
    """Send ``address`` with ``args`` on beat ``beat`` of the track (0 = the first), and every
    ``every`` beats after it when ``every`` > 0."""

    beat: float = Field(ge=0)
    every: float = Field(0.0, ge=0)
    address: str
    args: list[float | int | str | bool] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/") or " " in v:
            raise ValueError(f"{v!r} must be a control address like /cue/go or /scene/next")
        return v


class AudioTrackConfig(StrictModel):
    track: str = Field(description="sound file (wav, mp3, flac), relative to the show file")
    bands: list[Band] = Field(
        default_factory=lambda: [
            Band(name="low", lo=20, hi=250),
            Band(name="mid", lo=250, hi=4000),
            Band(name="high", lo=4000, hi=11025),
        ]
    )
    sections: Literal["novelty", "none"] | list[float] = Field(
        "novelty", description="section starts: found by novelty, none, or the curator's times in seconds"
    )
    prior_bpm: float = Field(120.0, gt=20, le=300, description="tempo the estimate leans towards")
    tempo: float | None = Field(None, gt=20, le=300, description="the track's tempo when known (skips the estimate)")
    at_beat: list[AtBeat] = Field(default_factory=list)

    @field_validator("sections")
    @classmethod
    def _times(cls, v):
        if isinstance(v, list) and any(t < 0 for t in v):
            raise ValueError("section times must be >= 0 seconds")
        return v


def beat_sources(show) -> list[str]:
    """What can give this show a beat: its track, a live audio input, an OSC port a desk can send
    ``/audio/beat`` to, a Link session (``[sync] link = true``, where the show has that table)."""
    found = []
    if show.audio is not None:
        found.append("[audio] track")
    control = show.control
    if control.audio.enabled:
        found.append("[control.audio]")
    if "osc" in control.model_fields_set and control.osc.enabled:
        found.append("[control.osc] (/audio/beat from a desk)")
    if getattr(getattr(show, "sync", None), "link", False):
        found.append("[sync] link")
    return found


def beat_source_problems(show) -> list[tuple[tuple, str]]:
    """``(field loc, message)`` for every cue ``at_beat`` and scene ``keyframe_beats`` in a show
    with no beat source: they would silently play unquantised."""
    if beat_sources(show):
        return []
    why = (
        "needs a beat source: an [audio] track, [control.audio] enabled, a [control.osc] port "
        "receiving /audio/beat, or [sync] link = true"
    )
    out: list[tuple[tuple, str]] = []
    for k, cue in enumerate(show.cues):
        if cue.at_beat is not None:
            out.append((("cues", k, "at_beat"), f"at_beat {why}"))
    for i, scene in enumerate(show.scenes):
        if scene.keyframe_beats is not None:
            out.append((("scenes", i, "keyframe_beats"), f"keyframe_beats {why}"))
    return out
