"""The file features, computed causally from live blocks (a sound card, or a file looped as one).

:class:`LiveFeatures` takes blocks as they arrive and returns the same addresses a
:class:`~installation.audio.track.FeatureTrack` sends (``/audio/band/NAME``, ``/audio/harmonic``,
``/audio/percussive``, ``/audio/flux``, ``/audio/beat``, ``/audio/beat/phase``, ``/audio/tempo``), with causal
versions of the offline methods: HPSS medians over the past blocks only (Fitzgerald 2010, causal
variant), tempo from the autocorrelation of the last seconds of flux, and beat phase from the
comb that best fits the recent onsets (:class:`LiveBeat`, a :class:`BeatSource`).

``/audio/beat`` is the file's pulse too: 1.0 in the block where the tracked phase wraps past a
whole beat, 0.0 in the next.  The tracker re-fits its phase as it hears, so a second wrap within
half a beat of a pulse is not a new beat.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from .beats import envelope, estimate_tempo
from .features import DEFAULT_BANDS


class LiveBeat:
    """A :class:`~installation.audio.beats.BeatSource` estimated from the last ``window_s`` of flux."""

    def __init__(self, block_rate: float, window_s: float = 6.0, prior_bpm: float = 120.0) -> None:
        self.block_rate = block_rate
        self.prior_bpm = prior_bpm
        self.flux: deque[float] = deque(maxlen=int(window_s * block_rate))
        self.bpm = 0.0
        self.anchor: float | None = None  # a time (s) that fell on a beat
        self.t = 0.0

    def feed(self, flux: float, t: float) -> None:
        self.flux.append(flux)
        self.t = t
        if len(self.flux) < self.flux.maxlen // 2 if self.flux.maxlen else True:
            return
        env = envelope(np.asarray(self.flux), self.block_rate)
        bpm = estimate_tempo(env, self.block_rate, self.prior_bpm)
        if bpm <= 0:
            return
        self.bpm = bpm
        period = 60.0 * self.block_rate / bpm
        n = env.size
        k = np.arange(n)
        # the phase whose comb (one tooth a period, back from now) collects the most onset strength
        phases = np.arange(int(np.ceil(period)))
        score = [
            env[(n - 1 - p - k[: int(n / period)] * period).round().astype(int).clip(0, n - 1)].sum() for p in phases
        ]
        best = int(np.argmax(score))
        self.anchor = t - best / self.block_rate

    def tempo_at(self, t: float) -> float:
        return self.bpm

    def beat_at(self, t: float) -> float | None:
        if self.anchor is None or self.bpm <= 0:
            return None
        return (t - self.anchor) * self.bpm / 60.0


class LiveFeatures:
    """``process(block, t)`` → ``{address: value}`` for one block of samples ending at time ``t``."""

    def __init__(self, samplerate: int, blocksize: int, bands=DEFAULT_BANDS, history: int = 9) -> None:
        self.samplerate = samplerate
        self.bands = bands
        self.spectra: deque[np.ndarray] = deque(maxlen=history)
        self.prev_log: np.ndarray | None = None
        self.hop = 256 if blocksize >= 256 else blocksize  # the beat tracker's step: near the file's frames
        self.beat = LiveBeat(samplerate / self.hop)
        self.prev_sub: np.ndarray | None = None
        self.win = np.hanning(self.hop)
        self.peak = {"flux": 1e-9, "bands": 1e-9, "hp": 1e-9}
        self._phase: float | None = None  # the beat phase at the last block
        self._beat_t = -math.inf  # when a pulse was last sent
        self._pulsed = False

    def _scale(self, key: str, v: float) -> float:
        self.peak[key] = max(v, self.peak[key] * 0.999)  # a slowly forgetting peak: loud rooms and quiet rooms
        return min(v / self.peak[key], 1.0)

    def process(self, block: np.ndarray, t: float) -> dict[str, float]:
        x = np.nan_to_num(np.asarray(block, np.float64).reshape(len(block), -1).mean(axis=1))
        if x.size < 16:
            return {}
        mag = np.abs(np.fft.rfft(x * np.hanning(x.size)))
        freqs = np.fft.rfftfreq(x.size, 1.0 / self.samplerate)
        out: dict[str, float] = {}
        raw = {}
        for name, lo, hi in self.bands:
            sel = (freqs >= lo) & (freqs < hi)
            raw[name] = float(np.sqrt(np.mean(mag[sel] ** 2))) if sel.any() else 0.0
        top = max(raw.values(), default=0.0)
        scale = self._scale("bands", top) / top if top > 0 else 0.0
        for name, v in raw.items():
            out[f"/audio/band/{name}"] = v * scale
        logmag = np.log1p(100.0 * mag)
        flux = (
            0.0
            if self.prev_log is None or self.prev_log.shape != logmag.shape
            else float(np.maximum(logmag - self.prev_log, 0.0).sum())
        )
        self.prev_log = logmag
        out["/audio/flux"] = self._scale("flux", flux)
        self.spectra.append(mag)
        if all(s.shape == mag.shape for s in self.spectra):
            h = np.median(np.stack(self.spectra), axis=0)
            pad = np.pad(mag, 8, mode="reflect")
            p = np.median(np.lib.stride_tricks.sliding_window_view(pad, 17), axis=1)
            mh = h**2 / (h**2 + p**2 + 1e-12)
            he, pe = float(np.sqrt(np.mean((mag * mh) ** 2))), float(np.sqrt(np.mean((mag * (1 - mh)) ** 2)))
            s = self._scale("hp", max(he, pe))
            m = max(he, pe)
            out["/audio/harmonic"] = he / m * s if m > 0 else 0.0
            out["/audio/percussive"] = pe / m * s if m > 0 else 0.0
        n_sub = x.size // self.hop
        for j in range(n_sub):  # the beat tracker hears short frames, so a beat period is many of them
            sub = np.log1p(100.0 * np.abs(np.fft.rfft(x[j * self.hop : (j + 1) * self.hop] * self.win)))
            f = 0.0 if self.prev_sub is None else float(np.maximum(sub - self.prev_sub, 0.0).sum())
            self.prev_sub = sub
            self.beat.feed(f, t - (n_sub - 1 - j) * self.hop / self.samplerate)
        b = self.beat.beat_at(t)
        out["/audio/beat/phase"] = float(b % 1.0) if b is not None else 0.0
        out["/audio/tempo"] = self.beat.bpm
        pulse = self._pulse(b, t)
        if pulse is not None:
            out["/audio/beat"] = pulse
        return out

    def _pulse(self, b: float | None, t: float) -> float | None:
        """1.0 when this block passes a beat (its phase wraps), 0.0 in the block after, else None."""
        if b is None or self.beat.bpm <= 0:
            return None
        phase, prev = b % 1.0, self._phase
        self._phase = phase
        if prev is not None and prev - phase > 0.5 and t - self._beat_t >= 0.5 * 60.0 / self.beat.bpm:
            self._beat_t, self._pulsed = t, True
            return 1.0
        if self._pulsed:
            self._pulsed = False
            return 0.0
        return None
