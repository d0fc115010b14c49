"""The record output: every frame encoded to a video file (H.264 through :class:`VideoRecorder`).

``installation run --record FILE`` and ``installation render`` add one with a fixed-step clock,
so the file is the show as it should look, identical on every run.  A ``type = "record"`` entry
in a show's ``[[outputs]]`` records a live run frame by frame beside its window (its ``path``
is relative to the show file).
"""

from __future__ import annotations

from pathlib import Path

from .base import EXIT_RECORDING, Canvas, Frame, OutputError  # noqa: F401 - EXIT_RECORDING: named here too
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


def lost_recordings(outputs: list) -> list[str]:
    """One line per record output whose recording stopped before the run ended (a disk that filled),
    naming the file and what it kept; read after the outputs are closed.  The run exits non-zero on one."""
    lines = []
    for output in outputs:
        recorder = getattr(output, "recorder", None)
        if not isinstance(recorder, VideoRecorder) or recorder.failed is None:
            continue
        error = recorder.failed.strerror or str(recorder.failed)
        frames, seconds = _decodable(recorder.path)
        size = recorder.path.stat().st_size / 1e6 if recorder.path.exists() else 0.0
        lines.append(
            f"recording {recorder.path} stopped early ({error}): kept {frames} frames "
            f"({seconds:.1f} s, {size:.1f} MB), which decode; the show rendered on without it"
        )
    return lines


def _decodable(path: Path) -> tuple[int, float]:
    """Frames and seconds in what is left of a recording, from its packets (no decoding)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            n = sum(1 for p in container.demux(stream) if p.size)
            rate = float(stream.average_rate or stream.base_rate or 0) or None
    except (OSError, av.error.FFmpegError, IndexError):
        return 0, 0.0
    return n, (n / rate if rate else 0.0)
