"""Video recorder: RGB frames encoded with av (libx264, yuv420p) at the output resolution.

Recordings must survive what a venue does to them:

* **kill -9, power cut.**  ``.mp4``/``.mov``/``.m4v`` files are written as fragmented MP4
  (``movflags=frag_keyframe+empty_moov+default_base_moof``) with a keyframe — and so a fragment —
  every second, each flushed to the file as it completes: a killed recording decodes up to its
  last complete fragment (all but the last second or two).  Other containers (``.mkv``) are
  streamable by design.
* **An unwritable place.**  :func:`open_check` tries the path before the first frame (a read-only
  mount, a path under a regular file, a directory in the way) and raises :class:`RecordingError`
  naming it; :class:`VideoRecorder` calls it too.
* **A disk that fills.**  Bytes go through :class:`_Sink`, which sees the ``OSError`` itself (ffmpeg's
  own file layer does not report a failed write to the muxer), logs one error, cuts the file back to
  the last complete fragment so what was written decodes, and drops every later frame: the show
  renders on, the recording has stopped.

Fixed-step renders stay frame-for-frame identical: one encoder thread, explicit timestamps, a
fixed keyframe interval, frames converted to yuv420p here, and x264's macroblock tree off (both
of the last two made identical input encode differently now and then).
"""

from __future__ import annotations

import logging
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

log = logging.getLogger(__name__)

FRAGMENTED = {".mp4", ".m4v", ".mov"}
MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"


class RecordingError(Exception):
    """The recording cannot be written where it was asked for (the message names the path)."""


def open_check(path: Path | str) -> Path:
    """Make sure a recording can be created at ``path`` before anything is rendered; returns it.

    Creates missing parent folders, then creates (and removes) a probe file beside the target, so
    a read-only mount is found even by root, for whom permission bits do not count.
    """
    path = Path(path)
    if path.is_dir():
        raise RecordingError(f"cannot record to {path}: it is a folder; give a file name such as {path / 'out.mp4'}")
    parent = path.parent
    for up in (parent, *parent.parents):
        if up.exists():
            if not up.is_dir():
                raise RecordingError(f"cannot record to {path}: {up} is a file, not a folder")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(f"{path} is not writable")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise RecordingError(f"cannot record to {path}: {reason} ({parent})") from None
    return path


class _Sink:
    """The file object av writes through: sees write errors and keeps the file decodable."""

    def __init__(self, path: Path):
        self.path = path
        self.name = str(path)  # av picks the muxer from the name
        self.file = open(path, "wb", buffering=0)  # unbuffered: a full disk shows at the write that hit it
        self.error: OSError | None = None
        self.good = 0  # file size at the last complete fragment (or header)

    def write(self, data) -> int:
        n = len(data)
        if self.error is None:
            try:
                view = memoryview(data)
                while view:
                    view = view[self.file.write(view) :]
            except OSError as exc:
                self.error = exc
                self._cut()
        return n  # after a failure: swallowed, so the encoder and the show carry on

    def _cut(self) -> None:
        """Drop the partial fragment a failed write left, so the file ends on a complete one."""
        try:
            self.file.truncate(self.good)
            self.file.seek(self.good)
        except OSError:
            pass

    def mark(self) -> None:
        """Between muxer calls the file ends on a fragment boundary (flush_packets): remember it."""
        if self.error is None:
            self.good = self.file.tell()

    def flush(self) -> None:
        pass  # unbuffered

    def tell(self) -> int:
        return self.file.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.file.seek(offset, whence)

    def close(self) -> None:
        try:
            self.file.close()
        except OSError as exc:
            self.error = self.error or exc


class VideoRecorder:
    """Write RGB uint8 ``[H, W, 3]`` frames; :meth:`close` finalises the file (always call it).

    :attr:`failed` holds the error that stopped the recording (a full disk), else ``None``.
    """

    def __init__(self, path: Path | str, size: tuple[int, int], fps: float, crf: int = 18, codec: str = "libx264"):
        w, h = size
        if w % 2 or h % 2:
            raise ValueError(f"yuv420p needs even dimensions, got {w}x{h}")
        self.path = open_check(path)
        self.failed: OSError | None = None
        rate = Fraction(fps).limit_denominator(1001)
        options: dict[str, str] = {}
        if self.path.suffix.lower() in FRAGMENTED:
            # a fragment per keyframe, flushed as it completes: everything before the last one decodes
            options = {"movflags": MOVFLAGS, "flush_packets": "1"}
        try:
            self._sink = _Sink(self.path)
        except OSError as exc:
            raise RecordingError(f"cannot record to {self.path}: {exc.strerror or exc}") from None
        try:
            self.container = av.open(self._sink, mode="w", options=options)  # the muxer from the sink's name
        except (av.error.FFmpegError, ValueError) as exc:
            self._sink.close()
            self.path.unlink(missing_ok=True)
            raise RecordingError(
                f"cannot record to {self.path}: no video format for {self.path.suffix!r} "
                f"(use .mp4, .mov or .mkv): {exc}"
            ) from None
        # a video codec (the caller's choice, libx264 by default): typed as any stream kind for a str name
        self.stream = cast(av.VideoStream, self.container.add_stream(codec, rate=rate))
        self.time_base = 1 / rate
        self.stream.codec_context.time_base = self.time_base
        self.stream.width, self.stream.height = w, h
        self.stream.pix_fmt = "yuv420p"
        # one encoder thread: bit-exact output across runs and machines, and CPU left for models
        self.stream.thread_count = 1
        codec_options: dict[str, object] = {"crf": str(crf), "preset": "veryfast", "g": str(max(1, round(float(rate))))}
        if codec == "libx264":
            # macroblock-tree rate control made about one encode in a hundred differ (measured with
            # torch loaded, threads=1, identical input); off, 1000 of 1000 encodes were identical
            codec_options["x264-params"] = "mbtree=0"
        self.stream.options = codec_options
        self.frames = 0
        self.closed = False

    def write(self, rgb: np.ndarray) -> None:
        if self.failed is not None or self.closed:
            return
        # convert here with a fresh converter: the encoder's own cached one (PyAV reuses an
        # SwsContext across frames) made identical input encode differently in ~1 run of 10
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="yuv420p")
        # explicit timestamps: x264's rate control reads frame durations, and left unset they
        # are whatever the encoder guesses, which made identical frames encode differently
        frame.pts = self.frames
        frame.time_base = self.time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1
        self._after_mux()

    def _after_mux(self) -> None:
        if self._sink.error is None:
            self._sink.mark()
            return
        self.failed = self._sink.error
        log.error(
            "recording %s stopped after %d frames: %s; the show goes on, the %.1f MB written decode",
            self.path,
            self.frames,
            self.failed.strerror or self.failed,
            self._sink.good / 1e6,
            extra={
                "event": "recording_failed",
                "path": str(self.path),
                "frames": self.frames,
                "error": str(self.failed),
            },
        )

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self.failed is None:
                for packet in self.stream.encode():
                    self.container.mux(packet)
                self.container.close()
                self._after_mux()
            else:
                self.container.close()  # writes go nowhere now; frees the encoder
        finally:
            self._sink.close()


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, box end) of the MP4 boxes in ``data[start:end]``; a box running past ``end`` ends it."""
    pos = start
    while pos + 8 <= end:
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        head = 8
        if size == 1:
            if pos + 16 > end:
                return
            size, head = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            return
        yield kind, pos + head, pos + size
        pos += size


def salvage(path: Path | str) -> int | None:
    """Cut a fragmented MP4 whose writer died back to its last complete fragment; return its frame count.

    Reads box headers only (the ``mdat`` payloads are skipped), so it is quick on long files.
    ``None`` when ``path`` is missing or not a fragmented MP4 (nothing is changed then).
    """
    path = Path(path)
    try:
        with open(path, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            good, frames, pending, seen_moov = 0, 0, None, False
            pos = 0
            while pos + 16 <= size or pos + 8 <= size:
                f.seek(pos)
                head = f.read(16)
                n, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if n == 1 and len(head) == 16:
                    n = int.from_bytes(head[8:16], "big")
                elif n == 0:
                    n = size - pos
                if n < 8 or pos + n > size:
                    break  # a box the writer did not finish
                if kind == b"moov":
                    seen_moov, good = True, pos + n
                elif kind == b"moof":
                    f.seek(pos)
                    pending = _samples(f.read(n))
                elif kind == b"mdat" and pending is not None:
                    frames, pending, good = frames + pending, None, pos + n
                elif kind not in (b"ftyp", b"free", b"skip", b"mdat"):
                    good = pos + n if pending is None else good  # mfra, sidx, ...: a finished file's trailer
                pos += n
            if not seen_moov:
                return None
            if good < size:
                f.truncate(good)
                log.warning(
                    "recording %s: cut a partial fragment (%d bytes) left by a stopped writer; %d frames decode",
                    path,
                    size - good,
                    frames,
                    extra={"event": "recording_salvaged", "path": str(path), "frames": frames},
                )
            return frames
    except OSError:
        return None


def recorded_fps(path: Path | str) -> Fraction | None:
    """The frame rate a recording was written at (as :class:`VideoRecorder` rounds it), or ``None``."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
    except (av.error.FFmpegError, IndexError, OSError):
        return None
    return Fraction(rate).limit_denominator(1001) if rate else None


def _samples(moof: bytes) -> int:
    """Sample (frame) count of one ``moof``: the sum of its ``trun`` boxes' counts."""
    count = 0
    for kind, a, b in _boxes(moof, 8, len(moof)):
        if kind == b"traf":
            for k2, a2, b2 in _boxes(moof, a, b):
                if k2 == b"trun" and b2 - a2 >= 8:
                    count += int.from_bytes(moof[a2 + 4 : a2 + 8], "big")
    return count


def read_video(path: Path | str) -> tuple[list[np.ndarray], float]:
    """Decode every frame of ``path`` as RGB uint8; returns (frames, fps). For tests and tools."""
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
    return frames, fps
