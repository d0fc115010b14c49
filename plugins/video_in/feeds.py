"""Where ``video_in`` frames come from: a reader thread per live feed, a seeking reader for files.

Every feed gives RGB uint8 ``[H, W, 3]`` at the generator's size.  Live feeds (:class:`NdiFeed`,
:class:`CameraFeed`) keep only the newest frame; :class:`FileFeed` returns frame ``n`` of a file.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: live feeds still running: stopped and joined at exit, before the interpreter tears down a
#: thread that is inside the NDI SDK (which aborts the process: "terminate called ...")
_running: weakref.WeakSet[LiveFeed] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for feed in list(_running):
        feed.close()


def fit(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to ``size`` (width, height) when it differs."""
    w, h = size
    if rgb.shape[1] == w and rgb.shape[0] == h:
        return rgb
    import cv2

    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)


class LiveFeed:
    """A thread that reads frames and keeps the newest; :meth:`latest` never waits."""

    def __init__(self, size: tuple[int, int], what: str):
        self.size, self.what = size, what
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._stop = threading.Event()
        self.received = 0
        self._thread = threading.Thread(target=self._guard, name=f"video_in {what}", daemon=True)

    def start(self) -> LiveFeed:
        _running.add(self)
        self._thread.start()
        return self

    def latest(self) -> np.ndarray | None:
        with self._lock:
            return self._frame

    def _put(self, rgb: np.ndarray) -> None:
        frame = np.ascontiguousarray(fit(rgb, self.size))
        with self._lock:
            self._frame = frame
            self.received += 1

    def _guard(self) -> None:
        try:
            self.run(self._stop)
        except Exception:  # the feed is lost; the scene shows its last frame (or black)
            log.exception("video_in %s stopped", self.what)

    def run(self, stop: threading.Event) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3)
        _running.discard(self)


class NdiFeed(LiveFeed):
    """An NDI source found by name: ``HOST (NAME)`` or just ``NAME``; ``extra_ips`` for discovery
    without multicast (a comma-separated list, as the NDI SDK takes it)."""

    def __init__(self, name: str, size: tuple[int, int], extra_ips: str | None = None):
        try:
            import NDIlib  # noqa: F401
        except ImportError:
            raise ValueError(
                "source = \"ndi:...\" needs the ndi-python package: pip install 'installation[ndi]'"
            ) from None
        super().__init__(size, f"ndi:{name}")
        self.name, self.extra_ips = name, extra_ips

    def matches(self, ndi_name: str) -> bool:
        return ndi_name == self.name or ndi_name.endswith(f"({self.name})")

    def run(self, stop: threading.Event) -> None:
        import NDIlib as ndi

        if not ndi.initialize():
            raise RuntimeError("NDIlib.initialize() failed")
        settings = ndi.FindCreate()
        settings.show_local_sources = True
        if self.extra_ips:
            settings.extra_ips = self.extra_ips
        finder = ndi.find_create_v2(settings)
        receiver = None
        try:
            source = None
            while source is None and not stop.is_set():
                ndi.find_wait_for_sources(finder, 200)
                source = next((s for s in ndi.find_get_current_sources(finder) if self.matches(s.ndi_name)), None)
            if source is None:
                return
            rc = ndi.RecvCreateV3()
            rc.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
            receiver = ndi.recv_create_v3(rc)
            ndi.recv_connect(receiver, source)
            log.info("video_in: receiving NDI source %r", source.ndi_name)
            while not stop.is_set():
                kind, video, _, _ = ndi.recv_capture_v2(receiver, 200)
                if kind == ndi.FRAME_TYPE_VIDEO:
                    try:
                        self._put(np.array(video.data[..., :3]))
                    finally:
                        ndi.recv_free_video_v2(receiver, video)
        finally:
            if receiver is not None:
                ndi.recv_destroy(receiver)
            ndi.find_destroy(finder)


class CameraFeed(LiveFeed):
    """A camera (V4L2 index) through OpenCV."""

    def __init__(self, index: int, size: tuple[int, int]):
        super().__init__(size, f"camera {index}")
        self.index = index

    def run(self, stop: threading.Event) -> None:
        import cv2

        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            raise RuntimeError(f"camera {self.index} cannot be opened (no such device, or in use)")
        try:
            while not stop.is_set():
                ok, bgr = cap.read()
                if not ok:
                    time.sleep(0.05)
                    continue
                self._put(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        finally:
            cap.release()


class FileFeed:
    """Frame ``n`` of a video file (looping), read sequentially and seeking only when asked out of order."""

    def __init__(self, path: Path, size: tuple[int, int] | None):
        import cv2

        self.path = path
        if not path.is_file():
            raise ValueError(f"video file {path} does not exist")
        self.cap = cv2.VideoCapture(str(path))
        if not self.cap.isOpened():
            raise ValueError(f"{path}: OpenCV cannot read this video")
        self.count = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.fps = float(self.cap.get(cv2.CAP_PROP_FPS)) or 25.0
        native = (int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if self.count <= 0 or native[0] <= 0:
            raise ValueError(f"{path}: no video frames")
        self.size = size or native
        self._next = 0
        self._last: tuple[int, np.ndarray] | None = None

    def frame_at(self, t: float) -> np.ndarray:
        import cv2

        n = int(np.floor(t * self.fps + 1e-6)) % self.count
        if self._last is not None and self._last[0] == n:
            return self._last[1]
        if n != self._next:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, n)
        ok, bgr = self.cap.read()
        if not ok:
            raise RuntimeError(f"{self.path}: cannot read frame {n}")
        self._next = n + 1
        rgb = fit(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.size)
        self._last = (n, rgb)
        return rgb

    def close(self) -> None:
        self.cap.release()
