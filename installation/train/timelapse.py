"""A timelapse of training: the fixed-seed samples every N steps, as a video.

Each frame is kept as a PNG in ``OUT/timelapse/`` (named by step), so a stopped and resumed run
keeps adding to the same film; the video is encoded from all of them (H.264, even size) when the
run ends or is stopped.  Every frame carries its step and kimg in a corner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import make_grid, write_image


class Timelapse:
    def __init__(self, video: Path | str, frames_dir: Path | str, every: int, fps: float = 10.0, crf: int = 18):
        if every < 1:
            raise ValueError("timelapse_every must be >= 1")
        self.video, self.frames_dir = Path(video), Path(frames_dir)
        self.every, self.fps, self.crf = int(every), float(fps), int(crf)

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def frames(self) -> list[Path]:
        return sorted(self.frames_dir.glob("step*.png"))

    def add(self, step: int, images_seen: int, samples: torch.Tensor) -> Path:
        import cv2

        grid = make_grid(samples)
        scale = max(1, 256 // max(grid.shape[:2]))  # small models are blown up so the label reads
        if scale > 1:
            grid = cv2.resize(grid, (grid.shape[1] * scale, grid.shape[0] * scale), interpolation=cv2.INTER_NEAREST)
        grid = np.ascontiguousarray(grid)
        text = f"step {step}  {images_seen / 1000:.1f} kimg"
        cv2.putText(grid, text, (5, grid.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(grid, text, (5, grid.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        self.frames_dir.mkdir(parents=True, exist_ok=True)
        return write_image(grid, self.frames_dir / f"step{step:07d}.png")

    def write(self) -> Path | None:
        """Encode every kept frame, in step order, to the video; ``None`` when there is none yet."""
        import av
        import cv2

        paths = self.frames()
        if not paths:
            return None
        first = _read(cv2, paths[0])
        h, w = (first.shape[0] + 1) // 2 * 2, (first.shape[1] + 1) // 2 * 2
        self.video.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.video.with_name(self.video.stem + ".tmp" + self.video.suffix)
        with av.open(str(tmp), "w") as container:
            stream = container.add_stream("libx264", rate=int(round(self.fps)))
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.options = {"crf": str(self.crf)}
            for p in paths:
                img = _read(cv2, p)
                canvas = np.zeros((h, w, 3), np.uint8)
                canvas[: img.shape[0], : img.shape[1]] = img[:h, :w]
                frame = av.VideoFrame.from_ndarray(canvas, format="bgr24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        tmp.replace(self.video)
        return self.video


def _read(cv2: Any, path: Path) -> np.ndarray:
    """A kept frame as BGR; cv2 answers ``None`` for an unreadable file, this names it instead."""
    img = cv2.imread(str(path))
    if img is None:
        raise OSError(f"cannot read the time-lapse frame {path}")
    return img
