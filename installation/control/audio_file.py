"""A show's soundtrack as a control source drained at show time (offline: a pure function of t).

:class:`TrackSource` holds the :class:`~installation.audio.track.FeatureTrack` of the show's
``[audio] track`` (or of ``render --audio``) and, each frame, turns the features at the frame's
show time into :class:`ControlEvent`\\ s that the router applies with every other input, so
bindings, learn and ``/query`` treat them alike.  Nothing here reads a clock: two renders of one
show to one track are identical.
"""

from __future__ import annotations

from pathlib import Path

from ..audio.decode import AudioError, load
from ..audio.features import SAMPLERATE
from ..audio.track import FeatureTrack, analyse
from .events import ControlEvent

SOURCE = "audio:file"


class TrackSource:
    """Events of a feature track for the frame ending at show time ``t``."""

    def __init__(self, track: FeatureTrack, offset: float = 0.0) -> None:
        self.track = track
        self.offset = offset  # show time of the track's start
        self._prev: float | None = None

    @classmethod
    def from_config(cls, cfg, base: Path | None, path: str | Path | None = None) -> TrackSource:
        """From an ``[audio]`` table (``path`` overrides its ``track``); AudioError names the file."""
        file = Path(path) if path is not None else Path(cfg.track).expanduser()
        if path is None and not file.is_absolute() and base is not None:
            file = base / file
        x = load(file, SAMPLERATE)
        bands = [(b.name, b.lo, b.hi) for b in cfg.bands] if cfg is not None else None
        kwargs = {} if cfg is None else {"sections": cfg.sections, "prior_bpm": cfg.prior_bpm, "tempo": cfg.tempo}
        try:
            track = analyse(x, SAMPLERATE, bands=bands, **kwargs) if bands else analyse(x, SAMPLERATE, **kwargs)
        except ValueError as exc:
            raise AudioError(f"{file}: {exc}") from None
        if cfg is not None and cfg.at_beat:
            track.schedule_beats((e.beat, e.every, e.address, tuple(e.args)) for e in cfg.at_beat)
        return cls(track)

    def due(self, t: float) -> list[ControlEvent]:
        tt = t - self.offset
        out = [ControlEvent(a, args, SOURCE, t) for a, args in self.track.events(self._prev, tt)]
        self._prev = tt
        return out
