"""The record output: every frame encoded to a video file (H.264 through :class:`VideoRecorder`).

``installation run --record FILE`` and ``installation render`` add one with a fixed-step clock,
so the file is the show as it should look, identical on every run.  A ``type = "record"`` entry
in a show's ``[[outputs]]`` records a live run frame by frame beside its window (its ``path``
is relative to the show file).
"""

from __future__ import annotations

from pathlib import Path

from .base import Canvas, Frame, OutputError
from .video import VideoRecorder


class RecordOutput:
    """Options: ``path`` (the video file), ``crf`` (H.264 quality, 0 = lossless, default 18)."""

    def __init__(self, path: str | Path, crf: int = 18):
        if not isinstance(path, (str, Path)) or not str(path):
            raise ValueError(f"path must be a file name, got {path!r}")
        if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
            raise ValueError(f"crf must be an integer 0 … 51, got {crf!r}")
        self.path = Path(path)
        self.crf = crf
        self.recorder: VideoRecorder | None = None

    def open(self, canvas: Canvas) -> None:
        self.path = canvas.resolve(self.path)
        try:
            self.recorder = VideoRecorder(self.path, canvas.size, canvas.fps, crf=self.crf)
        except (OSError, ValueError) as exc:  # av raises OSError subclasses for files it cannot open
            raise OutputError(f"cannot write {self.path}: {exc}") from None

    def write(self, frame: Frame) -> None:
        if self.recorder is None:
            raise RuntimeError("the recording output is not open (call open() first)")
        self.recorder.write(frame.rgb())

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()

    def describe(self) -> str:
        return f"record {self.path}"
