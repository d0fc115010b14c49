"""Harmonic/percussive separation by median filtering, after Fitzgerald 2010 ("Harmonic/percussive
separation using median filtering", DAFx-10).

Sustained partials are smooth along time and spiky across frequency; hits are the reverse.  A
median along time keeps the harmonic part, a median along frequency the percussive part, and
soft (Wiener, power 2) masks split the spectrogram between them.  What the show reads is the
energy of each part per frame.
"""

from __future__ import annotations

import numpy as np


def _median(a: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Median filter of odd ``width`` along ``axis`` (edges padded by reflection), in row chunks."""
    half = width // 2
    moved = np.moveaxis(a, axis, -1)
    out = np.empty_like(moved)
    step = 256
    for i in range(0, moved.shape[0], step):
        part = np.pad(moved[i : i + step], ((0, 0), (half, half)), mode="reflect")
        out[i : i + step] = np.median(np.lib.stride_tricks.sliding_window_view(part, width, axis=-1), axis=-1)
    return np.moveaxis(out, -1, axis)


def masks(mag: np.ndarray, time_width: int = 17, freq_width: int = 17, power: float = 2.0):
    """Soft masks ``(harmonic, percussive)`` for a ``(frames, bins)`` magnitude spectrogram."""
    s = mag.astype(np.float32)
    h = _median(s, time_width | 1, axis=0)
    p = _median(s, freq_width | 1, axis=1)
    hp, pp = h**power, p**power
    total = hp + pp + 1e-12
    return hp / total, pp / total


def energies(mag: np.ndarray, time_width: int = 17, freq_width: int = 17) -> tuple[np.ndarray, np.ndarray]:
    """RMS magnitude of the harmonic and the percussive part per frame."""
    mh, mp = masks(mag, time_width, freq_width)
    return (np.sqrt(np.mean((mag * mh) ** 2, axis=1)), np.sqrt(np.mean((mag * mp) ** 2, axis=1)))
