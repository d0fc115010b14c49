"""Read wav / mp3 / flac (anything FFmpeg reads) to mono float32 at one sample rate, through av."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class AudioError(ValueError):
    """A sound file that cannot be read; the message names the file."""


def load(path: str | Path, samplerate: int = 22050) -> np.ndarray:
    """The file's first audio stream, mixed to mono, resampled to ``samplerate``, as float32 in [-1, 1]."""
    import av

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such sound file")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:  # type: ignore[attr-defined]
        raise AudioError(f"{path}: not a sound file av can read ({exc})") from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=samplerate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:  # type: ignore[attr-defined]
            raise AudioError(f"{path}: broken audio ({exc})") from None
    x = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if x.size == 0:
        raise AudioError(f"{path}: the audio stream is empty")
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def write_wav(path: str | Path, x: np.ndarray, samplerate: int) -> None:
    """16-bit PCM mono wav (the standard library's wave module: no encoder involved)."""
    import wave

    pcm = (np.clip(np.asarray(x, np.float64), -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(samplerate)
        w.writeframes(pcm.tobytes())


def track_seconds(path: str | Path) -> float:
    """The length of a sound file in seconds (decoded, so it is exact for every container)."""
    return float(load(path, 8000).size) / 8000.0
