"""Video recorder: RGB frames encoded with av (libx264, yuv420p) at the output resolution."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


class VideoRecorder:
    """Write RGB uint8 ``[H, W, 3]`` frames; :meth:`close` finalises the file (always call it)."""

    def __init__(self, path: Path | str, size: tuple[int, int], fps: float, crf: int = 18, codec: str = "libx264"):
        w, h = size
        if w % 2 or h % 2:
            raise ValueError(f"yuv420p needs even dimensions, got {w}x{h}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), mode="w")
        rate = Fraction(fps).limit_denominator(1001)
        self.stream = self.container.add_stream(codec, rate=rate)
        self.time_base = 1 / rate
        self.stream.codec_context.time_base = self.time_base
        self.stream.width, self.stream.height = w, h
        self.stream.pix_fmt = "yuv420p"
        # one encoder thread: bit-exact output across runs and machines, and CPU left for models
        self.stream.thread_count = 1
        self.stream.options = {"crf": str(crf), "preset": "veryfast"}
        self.frames = 0
        self.closed = False

    def write(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        # explicit timestamps: x264's rate control reads frame durations, and left unset they
        # are whatever the encoder guesses, which made identical frames encode differently
        frame.pts = self.frames
        frame.time_base = self.time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self.closed:
            return
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        self.closed = True


def read_video(path: Path | str) -> tuple[list[np.ndarray], float]:
    """Decode every frame of ``path`` as RGB uint8; returns (frames, fps). For tests and tools."""
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
    return frames, fps
