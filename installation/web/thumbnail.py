"""The page's live thumbnail: a JPEG of a recent frame, encoded off the render thread.

:meth:`Thumbnailer.offer` runs on the render thread: at most ``fps`` times a second it takes a
copy of ``frame.rgb()`` (the readback every network output shares) and hands it to one encoder
thread through a one-slot mailbox, where a newer frame replaces one not yet encoded.  The loop
never waits for the encoder; HTTP threads read :attr:`Thumbnailer.jpeg`, a bytes object that is
replaced, never changed.  JPEG comes from PyAV's ``mjpeg`` encoder (a core dependency already).
"""

from __future__ import annotations

import logging
import threading
import time
from fractions import Fraction

import numpy as np

log = logging.getLogger(__name__)


def encode_jpeg(rgb: np.ndarray, width: int) -> bytes:
    """RGB uint8 ``[H, W, 3]`` scaled to ``width`` (aspect kept, even sizes) as baseline JPEG bytes."""
    import av

    h, w = rgb.shape[:2]
    width = max(2, min(width, w) // 2 * 2)
    height = max(2, round(h * width / w) // 2 * 2)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    frame = frame.reformat(width=width, height=height, format="yuvj420p")
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt, codec.time_base = width, height, "yuvj420p", Fraction(1, 25)
    packets = codec.encode(frame) + codec.encode(None)
    return b"".join(bytes(p) for p in packets)


class Thumbnailer:
    def __init__(self, fps: float = 2.0, width: int = 320) -> None:
        self.interval = 1.0 / fps
        self.width = width
        self.jpeg: bytes | None = None
        self.frame_index = -1  # of the frame in :attr:`jpeg`
        self.encoded = 0
        self.replaced = 0  # frames offered while the encoder was still busy (latest won)
        self.errors = 0
        self._last = -1e9
        self._slot: tuple[np.ndarray, int] | None = None
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="web-thumbnail", daemon=True)

    def start(self) -> Thumbnailer:
        self._thread.start()
        return self

    def offer(self, frame) -> None:
        """Render thread: copy the frame when one is due; never blocks on encoding."""
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        rgb = np.array(frame.rgb(), copy=True)  # the frame is not ours past this call
        with self._cond:
            if self._slot is not None:
                self.replaced += 1
            self._slot = (rgb, frame.index)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and not self._stop:
                    self._cond.wait()
                if self._stop or self._slot is None:
                    return
                rgb, index = self._slot
                self._slot = None
            try:
                self.jpeg, self.frame_index = encode_jpeg(rgb, self.width), index
                self.encoded += 1
            except Exception as exc:  # a thumbnail never costs the show
                self.errors += 1
                log.warning("web thumbnail could not be encoded: %s: %s", type(exc).__name__, exc)

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
