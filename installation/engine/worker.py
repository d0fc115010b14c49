"""The generator worker: one thread per active scene, latest request wins.

The render loop calls :meth:`GeneratorWorker.request` with the keyframe it will want next and
returns at once.  If the model is slower than requests arrive, older pending requests are
replaced (and counted), never queued: the show always moves toward *now*.  Errors in the model
are caught and counted here; they cost this scene's keyframes, never the render loop.
"""
from __future__ import annotations

import logging
import threading
import time

from .buffer import Keyframe, KeyframeBuffer
from .source import KeyframeSource

log = logging.getLogger(__name__)


class GeneratorWorker:
    def __init__(self, source: KeyframeSource, buffer: KeyframeBuffer | None = None, name: str = "worker"):
        self.source = source
        self.buffer = buffer or KeyframeBuffer()
        self.name = name
        self._pending: int | None = None
        self._busy_index: int | None = None
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.produced = 0
        self.replaced = 0   # requests superseded before they ran (latest wins)
        self.errors = 0
        self.last_error: str | None = None
        self.last_duration = 0.0

    # -- render-thread side: never blocks on the model ------------------------------------
    def request(self, index: int) -> None:
        with self._cond:
            if index == self._busy_index or index == self._pending or self.buffer.get(index) is not None:
                return
            if self._pending is not None:
                self.replaced += 1
            self._pending = index
            self._cond.notify()

    def start(self) -> "GeneratorWorker":
        self._thread = threading.Thread(target=self._run, name=f"generator-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- synchronous path for deterministic (fixed-step) renders ---------------------------
    def ensure(self, index: int) -> Keyframe:
        """Make keyframe ``index`` in the calling thread unless it is already buffered."""
        kf = self.buffer.get(index)
        if kf is None:
            kf = self._produce(index)
        return kf

    # -- worker-thread side ----------------------------------------------------------------
    def _produce(self, index: int) -> Keyframe:
        t0 = time.perf_counter()
        frame = self.source.make(index)
        self.last_duration = time.perf_counter() - t0
        kf = Keyframe(index=index, t=self.source.time_of(index), frame=frame, arrival=time.perf_counter())
        self.buffer.put(kf)
        self.produced += 1
        return kf

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                index, self._pending = self._pending, None
                self._busy_index = index
            try:
                self._produce(index)
            except Exception as exc:  # the scene loses a keyframe; the show goes on
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("generator %s failed on keyframe %d: %s", self.name, index, self.last_error)
            finally:
                with self._cond:
                    self._busy_index = None
