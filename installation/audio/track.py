"""A track's features as functions of show time, and the control events they make.

:func:`analyse` runs every feature once over the whole file (deterministic numpy).  A
:class:`FeatureTrack` then answers, for the frame that ends at show time ``t`` (the previous one
ended at ``t_prev``), the events the control layer routes like any OSC input:

=========================  =======================================================================
``/audio/level``           RMS, scaled so the track's loud passages reach 1
``/audio/band/NAME``       energy in each band (``low``, ``mid``, ``high`` unless the show names others)
``/audio/harmonic``        harmonic energy (HPSS), 0..1;  ``/audio/percussive`` likewise
``/audio/flux``            onset strength, 0..1
``/audio/onset``           1.0 on the frame an onset falls in, 0.0 on the next (a pulse)
``/audio/beat``            the same pulse on each tracked beat
``/audio/beat/phase``      0..1 through the current beat;  ``/audio/tempo`` in BPM
``/audio/section``         the index of the section playing, sent when it changes
=========================  =======================================================================

Continuous values are sent every frame; bindings (scale, curve, attack/release) shape them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import features as F
from .beats import BeatGrid, envelope, estimate_tempo, track_beats
from .hpss import energies

Event = tuple[str, tuple]


@dataclass
class FeatureTrack:
    """Per-frame features on the grid ``k * hop / samplerate`` plus event times (seconds)."""

    frame_rate: float
    duration: float
    curves: dict[str, np.ndarray]  # address → values per frame, 0..1
    onsets: np.ndarray  # seconds
    beats: BeatGrid
    sections: list[float] = field(default_factory=lambda: [0.0])
    scheduled: list[tuple[float, str, tuple]] = field(default_factory=list)  # (time, address, args)

    @property
    def tempo(self) -> float:
        return self.beats.bpm

    def value(self, address: str, t: float) -> float:
        """A continuous feature at show time ``t`` (linear between frames, 0 outside the track)."""
        v = self.curves[address]
        pos = t * self.frame_rate
        if pos < 0 or pos > v.size - 1:
            return 0.0
        i = int(np.floor(pos))
        j = min(i + 1, v.size - 1)
        return float(v[i] + (pos - i) * (v[j] - v[i]))

    def section_at(self, t: float) -> int:
        return max(0, int(np.searchsorted(np.asarray(self.sections), t, side="right")) - 1)

    def schedule_beats(self, entries: Iterable[tuple[float, float, str, tuple]]) -> None:
        """``(beat, every, address, args)``: send ``address args`` at that beat (and every ``every`` after)."""
        n_beats = self.beats.times.size
        for beat, every, address, args in entries:
            b = beat
            while b <= max(n_beats - 1, beat):
                self.scheduled.append((self.beats.time_of(b), address, tuple(args)))
                if every <= 0:
                    break
                b += every
        self.scheduled.sort(key=lambda e: e[0])

    def events(self, t_prev: float | None, t: float) -> list[Event]:
        """The events for the frame ending at ``t``; ``t_prev`` is the previous frame's (None: first)."""
        out: list[Event] = [(address, (self.value(address, t),)) for address in self.curves]
        phase = self.beats.beat_at(t)
        out.append(("/audio/beat/phase", (float(phase % 1.0) if phase is not None else 0.0,)))
        out.append(("/audio/tempo", (self.tempo,)))
        lo = -np.inf if t_prev is None else t_prev
        for name, times in (("/audio/onset", self.onsets), ("/audio/beat", self.beats.times)):
            now = bool(np.any((times > lo) & (times <= t)))
            before = t_prev is not None and self._pulsed(name, t_prev)
            if now:
                out.append((name, (1.0,)))
            elif before or t_prev is None:  # the first frame states that no pulse is on
                out.append((name, (0.0,)))
        self._remember(t_prev, t, lo)
        if t_prev is None or self.section_at(t_prev) != self.section_at(t):
            out.append(("/audio/section", (self.section_at(t),)))
        out.extend((address, args) for when, address, args in self.scheduled if lo < when <= t)
        return out

    # the previous frame's pulses, so the next frame sends the 0.0 that ends them
    _last: tuple[float, float] | None = None

    def _remember(self, t_prev: float | None, t: float, lo: float) -> None:
        self._last = (lo, t)

    def _pulsed(self, name: str, t_prev: float) -> bool:
        if self._last is None or self._last[1] != t_prev:
            return False
        lo, hi = self._last
        times = self.onsets if name == "/audio/onset" else self.beats.times
        return bool(np.any((times > lo) & (times <= hi)))


def analyse(
    x: np.ndarray,
    samplerate: int = F.SAMPLERATE,
    hop: int = F.HOP,
    bands: Sequence[tuple[str, float, float]] = F.DEFAULT_BANDS,
    sections: str | Sequence[float] = "novelty",
    prior_bpm: float = 120.0,
    tempo: float | None = None,
) -> FeatureTrack:
    """Every feature of a mono signal; ``sections`` is ``"novelty"``, ``"none"`` or start times."""
    frame_rate = samplerate / hop
    mag = F.spectrogram(x, 2048, hop)
    curves: dict[str, np.ndarray] = {"/audio/level": F.normalise(F.rms(x, hop))}
    raw_bands = F.band_energies(mag, samplerate, bands)
    for name, v in raw_bands.items():
        curves[f"/audio/band/{name}"] = F.normalise(v)
    harmonic, percussive = energies(F.spectrogram(x, 1024, hop))
    top = float(np.percentile(np.maximum(harmonic, percussive), 99.0)) or 1.0
    curves["/audio/harmonic"] = np.clip(harmonic / top, 0, 1)  # one scale: the two stay comparable
    curves["/audio/percussive"] = np.clip(percussive / top, 0, 1)
    flux = F.spectral_flux(x, hop)
    curves["/audio/flux"] = F.normalise(flux)
    onsets = F.pick_onsets(flux, frame_rate) / frame_rate
    env = envelope(flux, frame_rate)
    bpm = float(tempo) if tempo else estimate_tempo(env, frame_rate, prior_bpm)
    beats = track_beats(env, frame_rate, bpm) / frame_rate
    if isinstance(sections, str):
        starts = (
            F.sections_by_novelty(np.stack(list(raw_bands.values()), axis=1), frame_rate)
            if sections == "novelty"
            else [0.0]
        )
    else:
        starts = sorted({0.0, *map(float, sections)})
    return FeatureTrack(frame_rate, len(x) / samplerate, curves, onsets, BeatGrid(beats, bpm), starts)
