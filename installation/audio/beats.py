"""Tempo and beats from an onset-strength envelope, after Ellis 2007 ("Beat tracking by dynamic
programming", J. New Music Research 36(1)).

Tempo: the autocorrelation of the envelope, weighted by a log-Gaussian prior over the beat
period (centred on ``prior_bpm``, one octave wide, as in the paper), its peak refined by a
parabola through the neighbouring lags.  Beats: the dynamic programme of the paper, which
maximises onset strength at the beats plus ``tightness`` times the (negative, squared log) ratio
of each inter-beat interval to the period, then backtracks from the best-scoring late frame.

:class:`BeatSource` is what anything that knows the beat offers the show: a beat count at show
time (whole numbers on the beats, the fraction is the phase).  The file tracker, the live
tracker and a Link session (``[sync] link = true``) all plug in through it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class BeatSource(Protocol):
    """A beat clock for the show.  ``beat_at(t)``: beats since the source's beat 0 at show time t
    (``None`` while it knows no beat yet); ``tempo_at(t)``: beats per minute then."""

    def beat_at(self, t: float) -> float | None: ...

    def tempo_at(self, t: float) -> float: ...


def envelope(flux: np.ndarray, frame_rate: float) -> np.ndarray:
    """Onset envelope for tracking: local mean (1 s) removed, half-wave rectified, unit std."""
    w = max(1, int(round(frame_rate)))
    kernel = np.ones(w) / w
    hp = np.maximum(flux - np.convolve(flux, kernel, mode="same"), 0.0)
    sd = hp.std()
    return hp / sd if sd > 0 else hp


def estimate_tempo(
    env: np.ndarray,
    frame_rate: float,
    prior_bpm: float = 120.0,
    octave_width: float = 1.0,
    lo_bpm: float = 40.0,
    hi_bpm: float = 240.0,
) -> float:
    """Beats per minute: the prior-weighted autocorrelation peak (0 when there is no periodicity)."""
    n = env.size
    if n < 4 or not env.any():
        return 0.0
    spec = np.fft.rfft(env - env.mean(), 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac = ac / (np.arange(n, 0, -1))  # unbiased: long lags are not penalised for overlapping less
    lags = np.arange(n, dtype=np.float64)
    lo = max(1, int(np.floor(60.0 * frame_rate / hi_bpm)))
    hi = min(n - 2, int(np.ceil(60.0 * frame_rate / lo_bpm)))
    if hi <= lo:
        return 0.0
    prior_lag = 60.0 * frame_rate / prior_bpm
    weight = np.zeros(n)
    weight[lo : hi + 1] = np.exp(-0.5 * (np.log2(lags[lo : hi + 1] / prior_lag) / octave_width) ** 2)
    score = ac * weight
    # Ellis's TPS2: a period also scores half its double's strength, so a loop whose kick and snare
    # differ is not heard at half tempo
    tps2 = score.copy()
    dbl = np.minimum(2 * np.arange(n), n - 2)
    tps2[1:] += 0.5 * score[dbl[1:]] + 0.25 * score[dbl[1:] - 1] + 0.25 * score[dbl[1:] + 1]
    score = tps2
    k = int(np.argmax(score[lo : hi + 1])) + lo
    if score[k] <= 0:
        return 0.0
    a, b, c = ac[k - 1], ac[k], ac[k + 1]  # refine on the raw autocorrelation, not the prior's slope
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
    return float(60.0 * frame_rate / (k + float(np.clip(shift, -0.5, 0.5))))


def track_beats(env: np.ndarray, frame_rate: float, bpm: float, tightness: float = 100.0) -> np.ndarray:
    """Beat frames (ascending) by Ellis's dynamic programme for period ``60 * frame_rate / bpm``."""
    n = env.size
    if bpm <= 0 or n == 0 or not env.any():
        return np.zeros(0, int)
    period = 60.0 * frame_rate / bpm
    score = env.astype(np.float64).copy()
    back = np.full(n, -1, int)
    lo_off, hi_off = int(round(2 * period)), max(1, int(round(period / 2)))
    for t in range(n):
        start, stop = t - lo_off, t - hi_off
        if stop < 0:
            continue
        taus = np.arange(max(start, 0), stop + 1)
        cand = score[taus] - tightness * np.log((t - taus) / period) ** 2
        j = int(np.argmax(cand))
        if cand[j] > 0:
            score[t] += cand[j]
            back[t] = taus[j]
    # end on the best frame within the last period, among local score maxima
    tail = np.arange(max(0, n - int(round(period)) - 1), n)
    t = int(tail[np.argmax(score[tail])])
    path = [t]
    while back[t] >= 0:
        t = int(back[t])
        path.append(t)
    beats = np.asarray(path[::-1], int)
    strong = env[beats] > 0.2 * np.median(env[beats]) if beats.size else beats.astype(bool)
    # trim beats in silence at either end (the programme bridges gaps at the period)
    idx = np.flatnonzero(strong)
    return beats[idx[0] : idx[-1] + 1] if idx.size else beats[:0]


class BeatGrid:
    """A :class:`BeatSource` over known beat times (seconds); extrapolated at the period outside."""

    def __init__(self, times: np.ndarray, bpm: float) -> None:
        self.times = np.asarray(times, np.float64)
        self.bpm = float(bpm)

    def tempo_at(self, t: float) -> float:
        return self.bpm

    def beat_at(self, t: float) -> float | None:
        b = self.times
        if b.size == 0 or self.bpm <= 0:
            return None
        period = 60.0 / self.bpm
        if t < b[0]:
            return (t - b[0]) / period
        if t >= b[-1]:
            return (b.size - 1) + (t - b[-1]) / period
        i = int(np.searchsorted(b, t, side="right")) - 1
        return i + (t - b[i]) / (b[i + 1] - b[i])

    def time_of(self, beat: float) -> float:
        """Show time of beat number ``beat`` (inverse of :meth:`beat_at`)."""
        b = self.times
        period = 60.0 / self.bpm if self.bpm > 0 else 0.5
        if b.size == 0:
            return beat * period
        if beat <= 0:
            return float(b[0] + beat * period)
        if beat >= b.size - 1:
            return float(b[-1] + (beat - (b.size - 1)) * period)
        i = int(np.floor(beat))
        return float(b[i] + (beat - i) * (b[i + 1] - b[i]))


def time_of(source: BeatSource, beat: float, near: float) -> float | None:
    """Show time at which ``source`` reaches ``beat``, searched from show time ``near``.

    Sources that know their own inverse (``time_of(beat)``: the file's grid, the beat follower)
    answer directly; any other (a Link session) is inverted by Newton steps on its tempo."""
    inverse = getattr(source, "time_of", None)
    if callable(inverse):
        return inverse(beat)
    t = near
    for _ in range(16):
        b, bpm = source.beat_at(t), source.tempo_at(t)
        if b is None or bpm <= 0:
            return None
        step = (beat - b) * 60.0 / bpm
        t += step
        if abs(step) < 1e-7:
            break
    return t


def next_beat_time(source: BeatSource, t: float, every: float = 1.0, offset: float = 0.0) -> float | None:
    """The first show time at or after ``t`` on a beat whose number is ``offset`` plus a multiple
    of ``every`` (1: the next beat; 4: the next bar of 4/4, counting from the source's beat 0).

    ``None`` while the source knows no beat: a cue then fires unquantised rather than waiting."""
    b = source.beat_at(t)
    if b is None:
        return None
    target = offset + every * float(np.ceil((b - offset) / every - 1e-6))
    landed = time_of(source, target, t)
    return None if landed is None else max(t, landed)
