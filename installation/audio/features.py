"""Frame-wise features: level (RMS), band energies, spectral-flux onsets and novelty sections.

All features share one frame grid: frame ``k`` is centred on ``k * hop / samplerate`` seconds
(the signal is padded by half a window at both ends), so a feature's value at show time ``t`` is
read at frame ``t * samplerate / hop``.

- Onsets: log-compressed, half-wave rectified spectral flux (Bello et al. 2005, "A tutorial on
  onset detection in music signals"; Dixon 2006, "Onset detection revisited"), peaks picked with
  Dixon's adaptive threshold (local maximum, above the local mean by ``delta``, ``wait`` frames
  apart).  The flux window is short (512 samples) so that an onset lands within a frame of its time.
- Sections: Foote 2000 ("Automatic audio segmentation using a measure of audio novelty"): a
  checkerboard kernel slid along the diagonal of the self-similarity matrix of band energies;
  peaks of that novelty curve are section boundaries.
"""

from __future__ import annotations

import numpy as np

SAMPLERATE = 22050
HOP = 256
DEFAULT_BANDS = (("low", 20.0, 250.0), ("mid", 250.0, 4000.0), ("high", 4000.0, 11025.0))


def frames(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Centred, half-window padded frames ``(n_frames, n_fft)``; n_frames = 1 + len(x) // hop."""
    pad = n_fft // 2
    xp = np.pad(np.asarray(x, np.float64), (pad, pad + hop))
    n = 1 + len(x) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    return xp[idx]


def spectrogram(x: np.ndarray, n_fft: int = 2048, hop: int = HOP) -> np.ndarray:
    """Magnitude STFT ``(n_frames, n_fft // 2 + 1)`` with a Hann window."""
    return np.abs(np.fft.rfft(frames(x, n_fft, hop) * np.hanning(n_fft + 2)[1:-1], axis=1))


def rms(x: np.ndarray, hop: int = HOP, n: int = 1024) -> np.ndarray:
    """Root mean square of each frame, full scale = 1."""
    f = frames(x, n, hop)
    return np.sqrt(np.mean(f * f, axis=1))


def band_energies(mag: np.ndarray, samplerate: int, bands=DEFAULT_BANDS) -> dict[str, np.ndarray]:
    """RMS magnitude in each ``(name, lo_hz, hi_hz)`` band per frame (not yet normalised)."""
    n_fft = 2 * (mag.shape[1] - 1)
    freqs = np.arange(mag.shape[1]) * samplerate / n_fft
    out = {}
    for name, lo, hi in bands:
        sel = (freqs >= lo) & (freqs < hi)
        if not sel.any():
            raise ValueError(f"band {name!r} ({lo}-{hi} Hz) holds no FFT bin at {samplerate} Hz")
        out[name] = np.sqrt(np.mean(mag[:, sel] ** 2, axis=1))
    return out


def spectral_flux(x: np.ndarray, hop: int = HOP, n_fft: int = 512, compression: float = 100.0) -> np.ndarray:
    """Onset strength per frame: summed positive change of log(1 + C |X|) from the frame before."""
    logmag = np.log1p(compression * spectrogram(x, n_fft, hop))
    flux = np.zeros(logmag.shape[0])
    flux[1:] = np.maximum(logmag[1:] - logmag[:-1], 0.0).sum(axis=1)
    return flux


def pick_onsets(
    flux: np.ndarray, frame_rate: float, delta: float = 0.1, wait_s: float = 0.05, window_s: float = 0.1
) -> np.ndarray:
    """Frame indices of onsets (Dixon 2006): a local max, above mean + delta (flux scaled to max 1)."""
    if flux.size == 0 or flux.max() <= 0:
        return np.zeros(0, int)
    f = flux / flux.max()
    w = max(1, int(round(window_s * frame_rate)))
    wait = max(1, int(round(wait_s * frame_rate)))
    padded = np.pad(f, (w, w), mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1)
    local_max = f >= win.max(axis=1)
    mean_win = np.lib.stride_tricks.sliding_window_view(np.pad(f, (3 * w, w), mode="edge"), 4 * w + 1)
    above = f >= mean_win.mean(axis=1) + delta
    out: list[int] = []
    for k in np.flatnonzero(local_max & above):
        if not out or k - out[-1] >= wait:
            out.append(int(k))
    return np.asarray(out, int)


def novelty(feature: np.ndarray, kernel: int) -> np.ndarray:
    """Foote novelty of a ``(n_frames, dims)`` feature with a ``2 * kernel`` checkerboard kernel."""
    n = feature.shape[0]
    v = feature - feature.mean(axis=0)
    v = v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-9)
    ssm = v @ v.T
    g = np.exp(-0.5 * (np.linspace(-2, 2, 2 * kernel)) ** 2)
    sign = np.sign(np.arange(2 * kernel) - kernel + 0.5)
    ck = np.outer(g, g) * np.outer(sign, sign)
    padded = np.pad(ssm, kernel)
    nov = np.array([np.sum(padded[i : i + 2 * kernel, i : i + 2 * kernel] * ck) for i in range(n)])
    return np.maximum(nov, 0.0)


def sections_by_novelty(
    bands: np.ndarray, frame_rate: float, min_section_s: float = 4.0, block_s: float = 0.5, threshold: float = 0.3
) -> list[float]:
    """Section start times (seconds, the first is 0) from peaks of Foote novelty on band energies.

    Energies are pooled into ``block_s`` blocks (log) before the self-similarity matrix, so a
    minutes-long track costs a small matrix."""
    per = max(1, int(round(block_s * frame_rate)))
    n_blocks = bands.shape[0] // per
    if n_blocks < 4:
        return [0.0]
    pooled = np.log1p(bands[: n_blocks * per].reshape(n_blocks, per, -1).mean(axis=1) * 100.0)
    kernel = max(2, int(round(min_section_s / block_s / 2)))
    nov = novelty(pooled, kernel)
    if nov.max() <= 0:
        return [0.0]
    nov = nov / nov.max()
    starts = [0.0]
    min_gap = min_section_s / block_s
    for i in range(1, n_blocks - 1):
        if nov[i] >= threshold and nov[i] >= nov[i - 1] and nov[i] > nov[i + 1]:
            if (i - starts[-1] / block_s) >= min_gap:
                starts.append(i * block_s)
    return starts


def normalise(v: np.ndarray, percentile: float = 99.0) -> np.ndarray:
    """Scale to [0, 1] by a high percentile (one loud peak does not flatten the rest)."""
    ref = float(np.percentile(v, percentile)) if v.size else 0.0
    if ref <= 0:
        return np.zeros_like(v, dtype=np.float64)
    return np.clip(v / ref, 0.0, 1.0)
