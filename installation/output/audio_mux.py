"""Put a soundtrack into a rendered video: remux the video stream untouched and add AAC audio.

Run after the video is written (the encoder knows nothing of sound).  The video's packets are
copied, not re-encoded, so the frames stay bit for bit what the render drew; the audio is the
track from show time ``start`` for ``duration`` seconds, so audio sample 0 and video frame 0 are
the same instant (AAC's encoder delay is written as the stream's start offset by the muxer).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

AUDIO_RATE = 48000


def _samples(path: Path, start: float, duration: float) -> np.ndarray:
    """The track as float32 ``(channels=2, n)`` at 48 kHz, from ``start`` for ``duration`` (silence-padded)."""
    import av

    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    x = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0), np.float32)
    a, n = int(round(start * AUDIO_RATE)), int(round(duration * AUDIO_RATE))
    x = x[:, a : a + n]
    if x.shape[1] < n:
        x = np.pad(x, ((0, 0), (0, n - x.shape[1])))
    return np.ascontiguousarray(x, dtype=np.float32)


def add_audio(
    video: str | Path, audio: str | Path, start: float = 0.0, duration: float | None = None, bitrate: int = 192000
) -> None:
    """Rewrite ``video`` in place with ``audio`` (from ``start`` s for ``duration`` s, default: the video's length)."""
    import av

    video, audio = Path(video), Path(audio)
    tmp = video.with_name(video.stem + ".mux" + video.suffix)
    with av.open(str(video)) as src:
        vin = src.streams.video[0]
        if duration is None:
            duration = (
                float(vin.frames / vin.average_rate)
                if vin.frames and vin.average_rate
                else float(src.duration or 0) / 1e6
            )
        pcm = _samples(audio, start, duration)
        # the encoder's B-frame delay shows frame 0 a little after 0: the audio starts with it
        first = min((p.pts for p in src.demux(vin) if p.pts is not None), default=0)
        lead = int(round(float(first * vin.time_base) * AUDIO_RATE)) if vin.time_base is not None else 0
        src.seek(0)
        with av.open(str(tmp), "w") as dst:
            vout = dst.add_stream_from_template(vin)
            aout = dst.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            aout.bit_rate = bitrate
            for packet in src.demux(vin):
                if packet.dts is None:
                    continue
                packet.stream = vout
                dst.mux(packet)
            step = 1024
            for i in range(0, pcm.shape[1], step):
                frame = av.AudioFrame.from_ndarray(pcm[:, i : i + step], format="fltp", layout="stereo")
                frame.sample_rate = AUDIO_RATE
                frame.pts = lead + i
                dst.mux(aout.encode(frame))
            dst.mux(aout.encode(None))
    os.replace(tmp, video)
