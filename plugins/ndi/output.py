"""An NDI sender fed from the render loop without ever blocking it.

``write`` runs on the render thread: when a frame is due (at most ``fps`` per second of show time)
it copies ``frame.rgb()`` into the one pending slot and returns; the sender thread takes the
newest pending frame (an older one not yet sent is dropped: latest frame wins), scales it to
``size``, converts it to RGBX/RGBA and hands it to the SDK with ``send_send_video_async_v2``,
which compresses on the SDK's own threads.  The async call requires the buffer to stay valid
until the next call, so the sender alternates two buffers.  Each NDI frame carries the show
frame's index as its timecode (``index * 10_000_000 / fps``), so a receiver can tell which show
frame it got.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from installation.api import OptionError, OutputError

from .library import load_ndi, release_ndi

log = logging.getLogger(__name__)

#: NDI timecodes count 100 ns ticks
TICKS = 10_000_000


def _size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 16 <= v <= 8192 for v in size)
    ):
        raise OptionError("size", f"must be [width, height], two integers 16 … 8192, got {size!r}")
    if size[0] % 2 or size[1] % 2:
        raise OptionError("size", f"must be even in both directions (NDI sends 4:2:2 video), got {list(size)}")
    return int(size[0]), int(size[1])


class NdiOutput:
    """Options: ``name`` (the NDI source name), ``size = [W, H]`` (default: the canvas), ``fps``
    (default: the show's), ``alpha`` (send RGBA with an opaque alpha instead of RGBX)."""

    def __init__(
        self,
        name: str = "installation",
        size=None,
        fps: float | None = None,
        alpha: bool = False,
        groups: str | None = None,
    ):
        if not isinstance(name, str) or not name.strip():
            raise OptionError("name", f"must be a non-empty string, got {name!r}")
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240):
            raise OptionError("fps", f"must be a number in (0, 240], got {fps!r}")
        if not isinstance(alpha, bool):
            raise OptionError("alpha", f"must be true or false, got {alpha!r}")
        if groups is not None and not isinstance(groups, str):
            raise OptionError("groups", f"must be a string of NDI group names, got {groups!r}")
        self.name, self.size, self.fps, self.alpha, self.groups = name, _size(size), fps, alpha, groups
        self._ndi = self._sender = None
        self._cond = threading.Condition()
        self._pending: np.ndarray | None = None
        self._pending_index = 0
        self._stop = False
        self._thread: threading.Thread | None = None
        self._next_due: float | None = None
        self._buffers: list[np.ndarray] | None = None
        self.sent = self.dropped = self.offered = 0

    def open(self, canvas) -> None:
        self.size = self.size or tuple(canvas.size)
        self.fps = float(self.fps or canvas.fps)
        self._ndi = ndi = load_ndi()
        settings = ndi.SendCreate()
        settings.ndi_name = self.name
        settings.clock_video = False  # this output paces itself; a clocked send would sleep in the SDK
        if self.groups:
            settings.groups = self.groups
        self._sender = ndi.send_create(settings)
        if self._sender is None:
            release_ndi(ndi)
            self._ndi = None
            raise OutputError(f"NDI cannot create the sender {self.name!r}")
        self._thread = threading.Thread(target=self._run, name=f"ndi-send {self.name}", daemon=True)
        self._thread.start()

    def write(self, frame) -> None:
        # due by show time: a live run sends at most `fps` frames a second; a fixed-step render
        # (faster or slower than real time) sends the frames that fall on the output's rate
        assert self.fps is not None  # set by open
        period = 1.0 / self.fps
        due = self._next_due
        if due is None:
            self._next_due = frame.t + period
        else:
            early = due - frame.t
            if period / 4 < early <= 2 * period:  # not yet due (far earlier: the show jumped back)
                return
            self._next_due = frame.t + period if early > 2 * period else max(due + period, frame.t)
        rgb = np.array(frame.rgb())  # a copy: frame.rgb() is shared and valid only during this call
        with self._cond:
            if self._pending is not None:
                self.dropped += 1
            self._pending, self._pending_index = rgb, frame.index
            self.offered += 1
            self._cond.notify()

    def _run(self) -> None:
        ndi: Any = self._ndi  # the SDK module (untyped), set by open before this thread starts
        assert self.size is not None and self.fps is not None
        w, h = self.size
        fps = self.fps
        # owned by the output, not this thread: the SDK may read the last one until send_destroy
        self._buffers = buffers = [np.full((h, w, 4), 255, np.uint8) for _ in range(2)]
        turn = 0
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop or self._pending is None:
                    return
                rgb, index, self._pending = self._pending, self._pending_index, None
            try:
                buf = buffers[turn]
                turn ^= 1
                if rgb.shape[1] != w or rgb.shape[0] != h:
                    import cv2

                    rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
                buf[..., :3] = rgb
                video = ndi.VideoFrameV2()
                video.data = buf
                video.FourCC = ndi.FOURCC_VIDEO_TYPE_RGBA if self.alpha else ndi.FOURCC_VIDEO_TYPE_RGBX
                video.frame_rate_N, video.frame_rate_D = _rate(fps)
                video.timecode = round(index * TICKS / fps)
                ndi.send_send_video_async_v2(self._sender, video)
                self.sent += 1
            except Exception:  # a send that fails costs that frame, never the render loop
                log.exception("NDI output %r failed to send frame %d", self.name, index)

    def close(self) -> None:
        if self._thread is not None:
            with self._cond:
                self._stop = True
                self._cond.notify()
            self._thread.join(timeout=5)
            self._thread = None
        if self._sender is not None:
            self._ndi.send_destroy(self._sender)  # waits for the last async frame to be sent
            self._sender = None
        self._buffers = None
        if self._ndi is not None:
            release_ndi(self._ndi)
            self._ndi = None
        log.info(
            "NDI output %r: %d frames offered, %d sent, %d dropped for newer ones",
            self.name,
            self.offered,
            self.sent,
            self.dropped,
        )

    def describe(self) -> str:
        return (
            f"ndi {self.name!r} {self.size[0]}x{self.size[1]} @ {self.fps:g} fps" if self.size else f"ndi {self.name!r}"
        )


def _rate(fps: float) -> tuple[int, int]:
    """NDI frame rates are fractions: 30 → 30/1, 29.97 → 30000/1001, 12.5 → 25/2."""
    if abs(fps * 1001 / 1000 - round(fps * 1001 / 1000)) < 1e-3 and abs(fps - round(fps)) > 1e-3:
        return round(fps * 1001), 1001
    from fractions import Fraction

    f = Fraction(fps).limit_denominator(1000)
    return f.numerator, f.denominator
