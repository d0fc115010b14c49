"""The generator worker: one thread per active scene, latest request wins, plugin faults contained.

The render loop calls :meth:`GeneratorWorker.request` with the keyframe it will want next and
returns at once.  If the model is slower than requests arrive, older pending requests are
replaced (and counted), never queued: the show always moves toward *now*.

Plugin code is untrusted for liveness.  Every way a plugin can fail costs only this worker:

* it raises, or returns NaN / a wrong shape (``check_frames``)  → fault ``error`` / ``bad_output``;
* it runs past ``RestartPolicy.deadline`` → fault ``hang``.  A Python thread cannot be killed, so
  the thread is *abandoned*: a generation counter makes anything it returns later be ignored,
  and a fresh thread builds a fresh generator instance;
* it runs out of device memory → fault ``oom``: the worker degrades (the generator's optional
  ``degrade()`` method, else the last post stage is dropped) and carries on.

After a fault the generator is rebuilt (when a ``build`` callable was given) once a back-off has
passed; the back-off doubles with each consecutive fault and resets after a good keyframe.
Meanwhile the render loop keeps drawing the last good keyframe (or the show's fallback scene).

Deterministic renders call :meth:`ensure`, which waits for the keyframe — but never longer than
the deadline: a miss is a ``hang`` fault and ``ensure`` returns ``None``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import torch

from .buffer import Keyframe, KeyframeBuffer
from .source import KeyframeSource

log = logging.getLogger(__name__)

FAULT_KINDS = ("error", "bad_output", "hang", "oom", "build")


@dataclass
class RestartPolicy:
    """Deadlines and back-off for one plugin (seconds)."""

    deadline: float = 10.0        # one keyframe; longer counts as hung
    build_deadline: float = 120.0  # building the generator (loading weights)
    backoff: float = 0.5          # first wait after a fault
    factor: float = 2.0           # growth per consecutive fault
    backoff_limit: float = 30.0


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA OOM (``torch.cuda.OutOfMemoryError`` or the older RuntimeError text) or host MemoryError."""
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


class GeneratorWorker:
    """Makes keyframes for one scene off the render thread.

    ``source`` may be ``None`` when ``build`` is given: the generator is then built in the
    worker thread, so loading weights never stalls the render loop.  ``permanent`` lists
    exception types from ``build`` that retrying cannot fix (unknown plugin, bad options).
    ``now`` measures back-off: wall time for live shows, show time for deterministic renders.
    """

    def __init__(self, source: KeyframeSource | None = None, buffer: KeyframeBuffer | None = None,
                 name: str = "worker", *, build: Callable[[], KeyframeSource] | None = None,
                 rate: float | None = None, policy: RestartPolicy | None = None,
                 now: Callable[[], float] = time.monotonic, permanent: tuple[type, ...] = ()):
        if source is None and build is None:
            raise ValueError("a worker needs a source or a build callable")
        self.source = source
        self.buffer = buffer or KeyframeBuffer()
        self.name = name
        self.rate = float(rate if rate is not None else source.rate)
        self.policy = policy or RestartPolicy()
        self._build = build
        self._now = now
        self._permanent = permanent
        self._pending: int | None = None
        self._busy: tuple[int, float, str] | None = None  # (index, started, phase)
        self._result: tuple[int, Keyframe | None] | None = None
        self._cond = threading.Condition()
        self._stop = False
        self._gen = 0                  # bumped to abandon a hung thread
        self._thread: threading.Thread | None = None
        self._thread_gen = -1
        self._threaded = False         # start() was called: live mode
        self._needs_build = source is None
        self._built_once = source is not None
        self._backoff = self.policy.backoff
        self._next_attempt = float("-inf")
        self.state = "starting" if source is None else "ok"
        self.produced = 0
        self.replaced = 0   # requests superseded before they ran (latest wins)
        self.errors = 0
        self.faults = {k: 0 for k in FAULT_KINDS}
        self.restarts = 0
        self.abandoned = 0  # hung threads left behind
        self.degraded = 0
        self.degrade_notes: list[str] = []
        self.last_error: str | None = None
        self.last_duration = 0.0
        self.faulted_since: float | None = None
        self.last_recovery: float | None = None  # seconds (``now`` units) from fault to next good keyframe

    # -- render-thread side: never blocks on the model ------------------------------------
    def request(self, index: int) -> None:
        self.check()
        with self._cond:
            if self.state in ("failed", "stopped"):
                return
            if (self._busy and index == self._busy[0]) or index == self._pending or self.buffer.get(index) is not None:
                return
            if self._pending is not None:
                self.replaced += 1
            self._pending = index
            self._cond.notify_all()

    def check(self) -> None:
        """Abandon the worker thread if it is past its deadline (called by the render loop)."""
        with self._cond:
            busy = self._busy
            if busy is None:
                return
            limit = self.policy.build_deadline if busy[2] == "build" else self.policy.deadline
            if time.perf_counter() - busy[1] > limit:
                self._abandon(busy[0], f"no result after {limit:g} s ({busy[2]})")

    def start(self) -> "GeneratorWorker":
        self._threaded = True
        self._spawn()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stop = True
            self.state = "stopped"
            hung = self._busy is not None and time.perf_counter() - self._busy[1] > self.policy.deadline
            self._cond.notify_all()
        if self._thread is not None and not hung and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """A live thread of the current generation (abandoned hung threads do not count)."""
        return self._thread is not None and self._thread.is_alive() and self._thread_gen == self._gen

    def in_backoff(self) -> bool:
        return self.state == "backoff" and self._now() < self._next_attempt

    def faulted_for(self) -> float:
        """How long (``now`` units) the worker has gone without a good keyframe since its last fault."""
        return 0.0 if self.faulted_since is None else self._now() - self.faulted_since

    # -- synchronous path for deterministic (fixed-step) renders ---------------------------
    def ensure(self, index: int) -> Keyframe | None:
        """Keyframe ``index``, made now if not buffered; ``None`` when the plugin faults or is backing off.

        The make runs in the worker thread and is waited for at most the deadline, so a hung
        plugin costs one late frame, then its scene holds its last good keyframe.
        """
        kf = self.buffer.get(index)
        if kf is not None:
            return kf
        if self.state in ("failed", "stopped") or self.in_backoff():
            return None
        if not self.running:
            self._spawn()
        limit = self.policy.deadline + (self.policy.build_deadline if self._needs_build else 0.0)
        with self._cond:
            self._result = None
            self._pending = index
            self._cond.notify_all()
            end = time.perf_counter() + limit
            while not (self._result is not None and self._result[0] == index):
                remaining = end - time.perf_counter()
                if remaining <= 0:
                    self._abandon(index, f"no result after {limit:g} s")
                    return None
                self._cond.wait(remaining)
            return self._result[1]

    def set_control(self, walk: dict, post: dict) -> None:
        """Hand the live control state to the source: ``walk`` for ``Walk.latent(t, control)``,
        ``post`` as ``{stage: (enabled, mix)}`` for the post chain.

        The dicts are replaced, never mutated, so the worker thread reads a consistent pair.
        Before the source is built this is a no-op: the app's build callable applies the same
        state to a new source.
        """
        source = self.source
        if source is not None:
            source.control = walk
            source.post.control = post

    def restart_source(self) -> None:
        """The scene started again (loop or seek): the source's walk starts from its beginning."""
        source = self.source
        if source is not None:
            source.restart()

    def status(self) -> dict:
        """Plain-data summary for health reports."""
        return {
            "state": self.state,
            "produced": self.produced,
            "replaced": self.replaced,
            "faults": dict(self.faults),
            "restarts": self.restarts,
            "abandoned_threads": self.abandoned,
            "degraded": self.degraded,
            "degrade_notes": list(self.degrade_notes),
            "last_error": self.last_error,
            "last_duration_s": round(self.last_duration, 4),
            "last_recovery_s": None if self.last_recovery is None else round(self.last_recovery, 3),
        }

    # -- fault bookkeeping -------------------------------------------------------------------
    def _spawn(self) -> None:
        with self._cond:
            gen = self._gen
            self._thread_gen = gen
            self._thread = threading.Thread(target=self._run, args=(gen,), name=f"generator-{self.name}-{gen}", daemon=True)
        self._thread.start()

    def _abandon(self, index: int, reason: str) -> None:
        """Leave the current (hung) thread behind; a fresh one takes over after the back-off."""
        with self._cond:
            self._gen += 1
            self._busy = None
            self._pending = None
            self.abandoned += 1
            self._cond.notify_all()
        self._fault(self._gen, "hang", reason, index)
        if self._build is None:  # the hung thread still owns the only generator instance
            with self._cond:
                self.state = "failed"
            log.error("generator %s hung and cannot be rebuilt; scene disabled", self.name,
                      extra={"event": "plugin_failed", "scene": self.name})
            return
        if self._threaded and not self._stop:
            self._spawn()

    def _fault(self, gen: int, kind: str, error: str, index: int | None) -> None:
        with self._cond:
            if gen != self._gen or self._stop:
                return
            self.faults[kind] += 1
            self.errors += 1
            self.last_error = error
            wait = self._backoff
            self._next_attempt = self._now() + wait
            self._backoff = min(self._backoff * self.policy.factor, self.policy.backoff_limit)
            if self.faulted_since is None:
                self.faulted_since = self._now()
            self.state = "backoff"
            if self._build is not None:
                self._needs_build = True
            self._cond.notify_all()
        log.warning("generator %s fault (%s) on keyframe %s: %s; restart in %.2g s", self.name, kind, index, error, wait,
                    extra={"event": "plugin_fault", "scene": self.name, "kind": kind, "keyframe": index,
                           "backoff_s": wait, "error": error})

    def _degrade(self) -> str | None:
        """Make the next keyframe cheaper after an out-of-memory error; ``None`` when nothing is left."""
        if self.source is None:
            return None
        fn = getattr(self.source.generator, "degrade", None)
        note = fn() if callable(fn) else None
        post = self.source.post
        if not note and post.stages:
            stage = post.stages.pop()
            names = getattr(post, "names", None)
            name = names.pop() if names and len(names) == len(post.stages) + 1 else type(stage).__name__
            note = f"dropped post stage {name}"
        if not note:
            return None
        note = note if isinstance(note, str) else f"generator degraded to {getattr(self.source.generator, 'resolution', '?')}"
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        self.degraded += 1
        self.degrade_notes.append(note)
        return note

    # -- worker-thread side ----------------------------------------------------------------
    def _stopped(self, gen: int) -> bool:
        return self._stop or gen != self._gen

    def _run(self, gen: int) -> None:
        while True:
            with self._cond:
                while not self._stopped(gen):
                    if self._pending is not None and self.state != "failed":
                        wait = self._next_attempt - self._now() if self.state == "backoff" else 0.0
                        if wait <= 0 or not self._threaded:
                            break
                        self._cond.wait(min(wait, 0.5))
                    else:
                        self._cond.wait(0.5)
                if self._stopped(gen):
                    return
                index, self._pending = self._pending, None
                self._busy = (index, time.perf_counter(), "build" if self._needs_build else "make")
            kf = self._attempt(gen, index)
            with self._cond:
                if gen != self._gen:
                    return
                self._busy = None
                self._result = (index, kf)
                self._cond.notify_all()

    def _attempt(self, gen: int, index: int) -> Keyframe | None:
        if self._needs_build:
            try:
                source = self._build()
            except Exception as exc:
                if isinstance(exc, self._permanent):
                    with self._cond:
                        if gen == self._gen:
                            self.state, self.last_error = "failed", f"{type(exc).__name__}: {exc}"
                    log.error("scene %s cannot start: %s", self.name, exc, extra={"event": "plugin_failed", "scene": self.name})
                    return None
                self._fault(gen, "build", f"{type(exc).__name__}: {exc}", index)
                return None
            with self._cond:
                if gen != self._gen:
                    return None
                self.source, self._needs_build = source, False
                self._busy = (index, time.perf_counter(), "make")
                if self._built_once or self.faults["build"]:  # a rebuild after a fault
                    self.restarts += 1
                    log.info("generator %s restarted", self.name, extra={"event": "plugin_restart", "scene": self.name})
                self._built_once = True
        for _ in range(8):  # out of memory: degrade and retry at once, a few times at most
            try:
                return self._produce_checked(gen, index)
            except Exception as exc:
                kind = "bad_output" if isinstance(exc, ValueError) else "error"
                if is_out_of_memory(exc):
                    kind = "oom"
                    note = self._degrade()
                    if note is not None and gen == self._gen:
                        with self._cond:
                            self.faults["oom"] += 1
                        log.warning("generator %s out of memory; %s", self.name, note,
                                    extra={"event": "plugin_degraded", "scene": self.name, "note": note})
                        continue
                self._fault(gen, kind, f"{type(exc).__name__}: {exc}", index)
                return None
        self._fault(gen, "oom", "still out of memory after degrading", index)
        return None

    def _produce_checked(self, gen: int, index: int) -> Keyframe | None:
        t0 = time.perf_counter()
        frame = self.source.make(index)
        with self._cond:
            if gen != self._gen:  # abandoned while it ran: its result is not trusted
                return None
            self.last_duration = time.perf_counter() - t0
            kf = Keyframe(index=index, t=self.source.time_of(index), frame=frame, arrival=time.perf_counter())
            self.buffer.put(kf)
            self.produced += 1
            if self.faulted_since is not None:
                self.last_recovery = self._now() - self.faulted_since
                log.info("generator %s recovered after %.3g s", self.name, self.last_recovery,
                         extra={"event": "plugin_recovered", "scene": self.name, "recovery_s": self.last_recovery})
            self.faulted_since = None
            self.state = "ok"
            self._backoff = self.policy.backoff
        return kf
