"""How a worker reaches its plugin: in this process (a thread) or in a worker process of its own.

Both transports offer ``build(recipe)`` and ``make(index, control, restart)`` and raise
:class:`~installation.engine.faults.PluginFault` for anything the plugin does wrong, so
:class:`~installation.engine.worker.GeneratorWorker` has one fault and back-off logic.

* :class:`ThreadTransport` (``isolated = false``, for debugging): the source lives here.  A hang
  can only be abandoned by the worker (``enforces_deadline = False``); a native crash takes the
  runtime with it.
* :class:`ProcessTransport`: the source lives in a child (:mod:`installation.engine.child`).
  Deadlines are enforced here: past one the child is terminated, then killed, by pid.  A child
  that dies by a signal is a ``crash`` fault named after the signal.  ``close()`` is bounded.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import NoReturn

import torch

from .build import SceneLoadError, SourceRecipe, degrade_source
from .faults import PluginFault, classify, describe_exit
from .frames import FrameRing
from .source import KeyframeSource

log = logging.getLogger(__name__)

START_METHOD = "forkserver"  # a clean server process forks workers: never fork the GL/torch runtime
PRELOAD = ["torch", "installation.engine.child"]
_ctx_lock = threading.Lock()
_ctx = None


def _context():
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            _ctx = mp.get_context(START_METHOD)
            if START_METHOD == "forkserver":
                _ctx.set_forkserver_preload(PRELOAD)
        return _ctx


def _noop() -> None:
    pass


def warm_up(wait: bool = False) -> None:
    """Start the fork server now (it imports torch once: seconds), so the first worker starts fast.

    In a background thread unless ``wait``; the runner calls this before it opens the display.
    """

    def start():
        ctx = _context()
        if START_METHOD == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()
        if wait:  # a first (empty) child is forked only once the server has imported everything
            proc = ctx.Process(target=_noop, daemon=True)
            proc.start()
            proc.join()
            proc.close()

    if wait:
        start()
    else:
        threading.Thread(target=start, name="forkserver-warm-up", daemon=True).start()


def default_torch_threads() -> int:
    """A worker's torch threads: half the cores, at most 4 (several workers share the host)."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


class ThreadTransport:
    enforces_deadline = False

    def __init__(
        self,
        build: Callable[[], KeyframeSource] | None = None,
        source=None,
        from_recipe: Callable[[SourceRecipe], tuple] | None = None,
    ):
        self._build = build
        self._from_recipe = from_recipe
        self.source = source
        self.pid = None

    def build(self, recipe: SourceRecipe | None, timeout: float) -> list[str]:
        if recipe is not None and self._from_recipe is not None:
            source, notes = self._from_recipe(recipe)
        else:
            if self._build is None:  # the worker builds only when it was given something to build from
                raise RuntimeError("nothing to build the source from (no build callable or recipe)")
            source, notes = self._build(), []
            if recipe is not None:
                source.control, source.post.control = recipe.control
        self.source = source
        return notes

    def make(self, index: int, timeout: float, control=None, restart: bool = False):
        source = self.source
        if control is not None:  # replaced, never mutated: the render thread may hold the old dicts
            source.control, source.post.control = control
        if restart:
            source.restart()
        notes: list[str] = []
        t0 = time.perf_counter()
        for _ in range(8):
            try:
                return source.make(index), notes, time.perf_counter() - t0
            except Exception as exc:
                kind = classify(exc)
                if kind == "oom":
                    note = degrade_source(source)
                    if note is not None:
                        notes.append(note)
                        continue
                raise PluginFault(kind, f"{type(exc).__name__}: {exc}") from exc
        raise PluginFault("oom", "still out of memory after degrading")

    def close(self, grace: float = 0.0) -> None:
        pass

    def kill(self) -> None:
        pass


class ProcessTransport:
    enforces_deadline = True

    def __init__(
        self,
        name: str,
        memory_mb: float | None = None,
        torch_threads: int | None = None,
        stopping: Callable[[], bool] = lambda: False,
    ):
        self.name = name
        self.memory_mb = memory_mb
        self.torch_threads = torch_threads or default_torch_threads()
        self._stopping = stopping
        self.proc: BaseProcess | None = None
        self.conn: Connection | None = None
        self.ring: FrameRing | None = None
        self.source = None  # the source lives in the child
        self.pid: int | None = None
        self.pids: list[int] = []  # every child started (tests check they are gone)
        self._lock = threading.Lock()
        self._rss_limit: float | None = None  # MiB; CUDA workers only (their address space cannot be capped)
        self._rss_checked = 0.0
        self._ring_failed = False  # no shared memory to be had: keyframes through the pipe

    # -- lifecycle -------------------------------------------------------------------------
    def build(self, recipe: SourceRecipe | None, timeout: float) -> list[str]:
        if recipe is None:  # the worker isolates only sources it has a recipe for
            raise ValueError("a worker process builds its source from a recipe")
        self.close()
        ctx = _context()
        parent, child = ctx.Pipe()
        options = {"parent_pid": os.getpid(), "memory_mb": self.memory_mb, "torch_threads": self.torch_threads}
        from .child import child_main

        proc = ctx.Process(target=child_main, args=(child, recipe, options), name=f"plugin {self.name}", daemon=True)
        with self._lock:
            proc.start()
            self.proc, self.conn, self.pid = proc, parent, proc.pid
            self.pids.append(proc.pid)
        child.close()
        msg = self._recv(timeout, "build")
        if msg[0] == "build_failed":
            _, permanent, kind, message = msg
            self.close()
            if permanent:
                raise SceneLoadError(message)
            raise PluginFault(kind, message)
        info = msg[1]
        if self.memory_mb and str(recipe.device).startswith("cuda"):
            self._rss_limit = info.get("rss_mb", 0.0) + self.memory_mb
        return list(info.get("notes", []))

    def close(self, grace: float = 0.3) -> None:
        """End the child (a polite stop when idle, else SIGTERM then SIGKILL) and free the ring; bounded."""
        with self._lock:
            proc, conn, ring = self.proc, self.conn, self.ring
            self.proc = self.conn = self.ring = None
            self.pid = None
        if proc is not None:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: no Python handler in the child, so it ends even inside C code
                proc.join(grace)
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
            if proc.exitcode is not None:
                proc.close()
        if conn is not None:
            conn.close()
        if ring is not None:
            ring.close()

    def kill(self) -> None:
        """Signal the child now (any thread; the driver thread finishes the cleanup)."""
        proc = self.proc
        if proc is not None and proc.pid is not None:
            try:
                os.kill(proc.pid, 15)
            except (ProcessLookupError, ValueError):
                pass

    # -- keyframes -------------------------------------------------------------------------
    def make(self, index: int, timeout: float, control=None, restart: bool = False):
        conn = self.conn
        if conn is None:
            raise PluginFault("crash", "worker process is not running")
        try:
            if control is not None:
                conn.send(("control", control[0], control[1]))
            if restart:
                conn.send(("restart",))
            conn.send(("make", index))
        except OSError as exc:
            self._crashed(f"pipe closed ({exc})")
        msg = self._recv(timeout, "make")
        if msg[0] == "fault":
            _, _, kind, message, notes = msg
            fault = PluginFault(kind, message)
            fault.notes = notes
            raise fault
        _, _, slot, shape, payload, seconds, notes = msg
        if slot == "cuda":
            frame = payload.clone()  # our own copy; the child's tensor is released with the message
            del payload
        elif slot is None:
            frame = torch.frombuffer(bytearray(payload), dtype=torch.float32).reshape(shape)
            if not self._ring_failed:
                self._resize_ring(frame.numel() * 4)
        else:
            ring = self.ring
            if ring is None:  # closed under us (stop) while the keyframe was on its way
                raise PluginFault("crash", "worker process is not running")
            frame = ring.read(slot, shape)
        return frame, list(notes), seconds

    def _resize_ring(self, nbytes: int) -> None:
        old = self.ring
        try:
            ring = FrameRing.create(nbytes, slots=2)
        except OSError as exc:  # /dev/shm full or missing: keyframes keep coming through the pipe
            log.warning("no shared memory for %s keyframes (%s); using the pipe", self.name, exc)
            self._ring_failed = True
            return
        conn = self.conn
        if conn is None:  # closed meanwhile (stop)
            ring.close()
            return
        try:
            conn.send(("ring", ring.name, ring.slot_bytes, ring.slots))
        except OSError:
            ring.close()
            return
        self.ring = ring
        if old is not None:  # the child attaches the new one before its next frame
            old.close()

    def _recv(self, timeout: float, phase: str):
        end = time.perf_counter() + timeout
        proc, conn = self.proc, self.conn
        if proc is None or conn is None:  # closed under us (stop) before the wait began
            raise PluginFault("crash", "worker process is not running")
        while True:
            remaining = end - time.perf_counter()
            try:
                if conn.poll(max(0.0, min(0.05, remaining))):
                    return conn.recv()
                alive = proc.is_alive()
            except (EOFError, OSError, ValueError):  # closed under us (stop) or the child is gone
                alive = False
            if self._stopping():
                self.close(0.1)
                raise PluginFault("hang", "stopped while waiting")
            if not alive:
                self._crashed("pipe closed")
            if self._rss_limit is not None and self._over_memory(proc.pid):
                self.close(0.0)
                raise PluginFault(
                    "oom", f"worker process over its memory cap ({self._rss_limit:.0f} MiB resident); killed"
                )
            if remaining <= 0:
                self.close()
                raise PluginFault("hang", f"no result after {timeout:g} s ({phase}); worker process killed")

    def _over_memory(self, pid: int | None) -> bool:
        """The RSS watchdog (CUDA workers), read from /proc a few times a second."""
        limit = self._rss_limit
        if limit is None or pid is None:
            return False
        now = time.perf_counter()
        if now - self._rss_checked < 0.2:
            return False
        self._rss_checked = now
        try:
            with open(f"/proc/{pid}/statm") as fh:
                rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            return False
        return rss > limit

    def _crashed(self, why: str) -> NoReturn:
        proc = self.proc
        code = None
        if proc is not None:
            try:
                proc.join(0.5)
                code = proc.exitcode
            except ValueError:
                pass
        self.close(0.1)
        kind = "oom" if code == -9 and self.memory_mb else "crash"
        raise PluginFault(kind, f"worker process {describe_exit(code) if code is not None else why}")
