"""The generator worker: one per active scene, latest request wins, plugin faults contained.

The render loop calls :meth:`GeneratorWorker.request` with the keyframe it will want next and
returns at once.  If the model is slower than requests arrive, older pending requests are
replaced (and counted), never queued: the show always moves toward *now*.

Plugin code is untrusted for liveness and for memory safety.  By default each scene's source runs
in a worker process of its own (:class:`~installation.engine.transport.ProcessTransport`), driven
by one thread here that never blocks longer than a deadline.  Every way a plugin can fail costs
only this worker:

* it raises, or returns NaN / a wrong shape (``check_frames``)  → fault ``error`` / ``bad_output``;
* it runs past ``RestartPolicy.deadline`` (hung in Python, or in C code holding the GIL)
  → fault ``hang``: the worker process is terminated, then killed, by pid;
* it crashes natively (segfault, abort) → fault ``crash``, named after the signal;
* it runs out of memory (device OOM, ``MemoryError``, the ``--plugin-memory`` cap) → fault
  ``oom``: the worker degrades (the generator's optional ``degrade()``, else the last post stage
  is dropped) and carries on; degrade steps survive a restart of the worker process.

After a fault the plugin is restarted fresh (a new process) once a back-off has passed; the
back-off doubles with each consecutive fault and resets after a good keyframe.  Meanwhile the
render loop keeps drawing the last good keyframe (or the show's fallback scene).

``RestartPolicy(isolated=False)`` keeps the source in this process, in a thread, for debugging:
a hang is then *abandoned* (a thread cannot be killed) and a native crash ends the runtime.

Deterministic renders call :meth:`ensure`, which waits for the keyframe, but never longer than
the build deadline while the plugin is being built plus the deadline for the keyframe: a miss is a
``hang`` fault and ``ensure`` returns ``None``.  :func:`interrupt_waits` (SIGTERM, Ctrl-C) ends
every such wait at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .buffer import Keyframe, KeyframeBuffer
from .build import SourceRecipe
from .faults import FAULT_KINDS, PluginFault, is_out_of_memory  # noqa: F401 - is_out_of_memory: public
from .policy import RestartPolicy, interrupt_waits, interrupted, reset_interrupt  # noqa: F401 - public here too
from .source import KeyframeSource
from .stamps import CHANGES_KEY, newest, placed, reach, stamped
from .transport import ProcessTransport, ThreadTransport

log = logging.getLogger(__name__)


class GeneratorWorker:
    """Makes keyframes for one scene off the render thread.

    Give ``recipe`` (a :class:`~installation.engine.build.SourceRecipe`) to build the source in a
    worker process when ``policy.isolated``; else ``build`` (a callable, run in the worker thread so
    loading weights never stalls the render loop) or a ready ``source`` keep it in this process.
    ``permanent`` lists exception types from building that retrying cannot fix (unknown plugin, bad
    options).  ``now`` measures back-off: wall time for live shows, show time for deterministic renders.
    """

    def __init__(
        self,
        source: KeyframeSource | None = None,
        buffer: KeyframeBuffer | None = None,
        name: str = "worker",
        *,
        build: Callable[[], KeyframeSource] | None = None,
        rate: float | None = None,
        policy: RestartPolicy | None = None,
        now: Callable[[], float] = time.monotonic,
        permanent: tuple[type, ...] = (),
        recipe: SourceRecipe | None = None,
        plugin: str | None = None,
        registry=None,
    ):
        if source is None and build is None and recipe is None:
            raise ValueError("a worker needs a source, a build callable or a recipe")
        self.buffer = buffer if buffer is not None else KeyframeBuffer()  # an empty buffer is falsy
        self.name = name
        if rate is None:
            if source is not None:
                rate = source.rate
            elif recipe is not None:
                rate = recipe.scene.keyframe_rate
            else:
                raise ValueError("a worker with only a build callable needs its keyframe rate")
        self.rate = float(rate)
        self.policy = policy or RestartPolicy()
        self.recipe = recipe
        self.plugin = plugin or (recipe.scene.generator.plugin if recipe is not None else None)
        self.isolated = bool(self.policy.isolated and recipe is not None and source is None)
        self._transport: ProcessTransport | ThreadTransport
        from_recipe: Callable[[SourceRecipe], tuple] | None = None
        if self.isolated:
            self._transport = ProcessTransport(
                name, self.policy.memory_mb, self.policy.torch_threads, stopping=lambda: self._stop
            )
        else:  # in this process: a recipe is built from the registry we already have
            if recipe is not None and build is None:
                from_recipe = (lambda r: r.build(registry)) if registry is not None else (lambda r: r.build())
            self._transport = ThreadTransport(build, source, from_recipe)
        self._can_rebuild = build is not None or from_recipe is not None or self.isolated
        self._now = now
        self._permanent = permanent
        self._pending: int | None = None
        self._busy: tuple[int, float, str] | None = None  # (index, started, phase)
        self._result: tuple[int, Keyframe | None] | None = None
        self._cond = threading.Condition()
        self._stop = False
        self._gen = 0  # bumped to abandon a hung thread (in-process transport)
        self._thread: threading.Thread | None = None
        self._thread_gen = -1
        self._threaded = False  # start() was called: live mode
        self._needs_build = source is None
        self._built_once = source is not None
        self._backoff = self.policy.backoff
        self._next_attempt = float("-inf")
        self._control: tuple[dict, dict] | None = recipe.control if recipe is not None else None
        self._control_sent: tuple[dict, dict] | None = None
        self._walk_raw: dict | None = self._control[0] if self._control else None
        self._origin: float | None = None  # set_origin: the scene's local time 0 in show time
        self._made: dict[int, int] = {}  # keyframe index -> newest stamped change it was made with
        self._busy_seq = -1
        self.invalidated = 0  # keyframes dropped because a stamped change reached them
        self._restart_pending = False
        self.state = "starting" if source is None else "ok"
        self.produced = 0
        self.replaced = 0  # requests superseded before they ran (latest wins)
        self.errors = 0
        self.faults = {k: 0 for k in FAULT_KINDS}
        self.restarts = 0
        self.abandoned = 0  # hung threads left behind (in-process transport only)
        self.degraded = 0
        self.degrade_notes: list[str] = []
        self._degrade_target = 0  # degrade steps a fresh source starts with (one more after an unrecovered oom)
        self.last_error: str | None = None
        self.last_fault: dict | None = None
        self.last_duration = 0.0
        self.faulted_since: float | None = None
        self.last_recovery: float | None = None  # seconds (``now`` units) from fault to next good keyframe

    @property
    def source(self) -> KeyframeSource | None:
        """The in-process source (``None`` while building, and always when isolated: it lives in the child)."""
        return self._transport.source

    @property
    def pid(self) -> int | None:
        """The worker process now running (isolated only)."""
        return self._transport.pid

    @property
    def pids(self) -> list[int]:
        """Every worker process started so far (isolated only)."""
        return list(getattr(self._transport, "pids", []))

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

    def set_control(self, walk: dict, post: dict) -> None:
        """The live control state for the next keyframe (replaced, never mutated; sent before the next make).

        Under ``[sync]`` the walk state carries stamped changes: keyframes made ahead with an older
        log, for local times at or after a new change, are dropped and made again (see :mod:`.stamps`).
        """
        with self._cond:
            self._walk_raw = walk
            self._control = (placed(walk, self._origin), post)
            self._invalidate()
            source = self.source
            if source is not None:  # in-process: at once, as the render thread always did
                source.control, source.post.control = self._control

    def set_origin(self, origin: float) -> None:
        """The show time at which this scene's local time is 0 (the render thread, each frame it shows).

        Only stamped walk changes (``[sync]``) need it, to count from the same local time everywhere.
        """
        origin = round(float(origin), 6)  # t - local_t: the same run start, whatever frame computed it
        with self._cond:
            if origin == self._origin:
                return
            self._origin = origin
            if self._walk_raw is None or CHANGES_KEY not in self._walk_raw:
                return
            self._control = (placed(self._walk_raw, origin), self._control[1] if self._control else {})
            self._invalidate()
            source = self.source
            if source is not None:
                source.control, source.post.control = self._control

    def _invalidate(self) -> None:
        """Drop buffered keyframes that a stamped change newer than their own log reaches (under the lock)."""
        entries = stamped(self._control)
        if not entries or self._origin is None:
            return
        for kf in self.buffer.snapshot():
            if kf.t >= reach(entries, self._made.get(kf.index, -1), self._origin):
                self.buffer.discard(kf.index)
                self._made.pop(kf.index, None)
                self.invalidated += 1

    def restart_source(self) -> None:
        """The scene starts over at local time 0: walks with history begin afresh (before the next keyframe)."""
        with self._cond:
            self._restart_pending = True

    def check(self) -> None:
        """Abandon an in-process worker thread past its deadline (isolated workers enforce their own)."""
        if self._transport.enforces_deadline:
            return
        with self._cond:
            busy = self._busy
            if busy is None:
                return
            limit = self.policy.build_deadline if busy[2] == "build" else self.policy.deadline
            if time.perf_counter() - busy[1] > limit:
                self._abandon(busy[0], f"no result after {limit:g} s ({busy[2]})")

    def start(self) -> GeneratorWorker:
        self._threaded = True
        self._spawn()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Bounded (about ``timeout`` s): the worker process is terminated, then killed, whatever it is doing."""
        with self._cond:
            self._stop = True
            self.state = "stopped"
            hung = self._busy is not None and time.perf_counter() - self._busy[1] > self.policy.deadline
            self._cond.notify_all()
        self._transport.kill()
        if self._thread is not None and not hung and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._transport.close(grace=0.2)

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

        The make runs in the worker thread and is waited for at most the build deadline (while
        building) plus the keyframe deadline, so a hung plugin costs one late frame, then its scene
        holds its last good keyframe through the back-off.
        """
        kf = self.buffer.get(index)
        if kf is not None:
            return kf
        if self.state in ("failed", "stopped") or self.in_backoff() or interrupted():
            return None
        if not self.running:
            self._spawn()
        with self._cond:
            self._result = None
            self._pending = index
            self._cond.notify_all()
            started = time.perf_counter()
            while not (self._result is not None and self._result[0] == index):
                if interrupted() or self._stop:
                    return None
                busy = self._busy
                if busy is not None and not self._transport.enforces_deadline:
                    limit = self.policy.build_deadline if busy[2] == "build" else self.policy.deadline
                    if time.perf_counter() - busy[1] > limit:
                        self._abandon(index, f"no result after {limit:g} s ({busy[2]})")
                        return None
                elif time.perf_counter() - started > self.policy.deadline + self.policy.build_deadline + 5.0:
                    return None  # the driver enforces both deadlines; this only guards against a lost wake-up
                self._cond.wait(0.05)
            return self._result[1]

    def status(self) -> dict:
        """Plain-data summary for health reports: plugin, scene, state, fault counts and the last fault."""
        return {
            "plugin": self.plugin,
            "scene": self.name,
            "isolated": self.isolated,
            "pid": self.pid,
            "state": self.state,
            "produced": self.produced,
            "replaced": self.replaced,
            "faults": dict(self.faults),
            "last_fault": dict(self.last_fault) if self.last_fault else None,
            "restarts": self.restarts,
            "abandoned_threads": self.abandoned,
            "degraded": self.degraded,
            "degrade_notes": list(self.degrade_notes),
            "last_error": self.last_error,
            "last_duration_s": round(self.last_duration, 4),
            "invalidated": self.invalidated,
            "last_recovery_s": None if self.last_recovery is None else round(self.last_recovery, 3),
        }

    # -- fault bookkeeping -------------------------------------------------------------------
    def _spawn(self) -> None:
        with self._cond:
            gen = self._gen
            self._thread_gen = gen
            self._thread = threading.Thread(
                target=self._run, args=(gen,), name=f"generator-{self.name}-{gen}", daemon=True
            )
        self._thread.start()

    def _abandon(self, index: int, reason: str) -> None:
        """In-process only: leave the current (hung) thread behind; a fresh one takes over after the back-off."""
        with self._cond:
            self._gen += 1
            self._busy = None
            self._pending = None
            self.abandoned += 1
            self._cond.notify_all()
        self._fault(self._gen, "hang", reason, index)
        if not self._can_rebuild:  # the hung thread still owns the only generator instance
            with self._cond:
                self.state = "failed"
            log.error(
                "generator %s hung and cannot be rebuilt; scene disabled",
                self.name,
                extra={"event": "plugin_failed", "scene": self.name, "plugin": self.plugin},
            )
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
            self.last_fault = {
                "kind": kind,
                "error": error,
                "keyframe": index,
                "at": round(self._now(), 3),
                "time": round(time.time(), 3),
            }  # at: back-off clock (show time in renders); time: epoch
            self.state = "backoff"
            if self._can_rebuild:
                self._needs_build = True
            self._cond.notify_all()
        log.warning(
            "plugin %s (scene %s) fault %s on keyframe %s: %s; restart in %.2g s",
            self.plugin,
            self.name,
            kind,
            index,
            error,
            wait,
            extra={
                "event": "plugin_fault",
                "scene": self.name,
                "plugin": self.plugin,
                "kind": kind,
                "keyframe": index,
                "backoff_s": wait,
                "error": error,
            },
        )

    def _note_degraded(self, notes: list[str], counted: bool = False) -> None:
        for note in notes:
            if not counted:
                self.faults["oom"] += 1
            self.degraded += 1
            self.degrade_notes.append(note)
            log.warning(
                "plugin %s (scene %s) out of memory; %s",
                self.plugin,
                self.name,
                note,
                extra={"event": "plugin_degraded", "scene": self.name, "plugin": self.plugin, "note": note},
            )

    # -- worker-thread side ----------------------------------------------------------------
    def _stopped(self, gen: int) -> bool:
        return self._stop or gen != self._gen

    def _run(self, gen: int) -> None:
        try:
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
                    index = self._pending
                    if index is None:  # the wait above ends with a request pending (or returns)
                        continue
                    self._pending = None
                    self._busy = (index, time.perf_counter(), "build" if self._needs_build else "make")
                kf = self._attempt(gen, index)
                with self._cond:
                    if gen != self._gen:
                        return
                    self._busy = None
                    self._result = (index, kf)
                    self._cond.notify_all()
        finally:
            if self.isolated and self._stop:
                self._transport.close(grace=0.1)

    def _recipe_now(self) -> SourceRecipe | None:
        """The recipe with the live control state and the degrade steps taken so far (a fresh child starts there)."""
        if self.recipe is None:
            return None
        from dataclasses import replace

        with self._cond:
            control = self._control or self.recipe.control
        return replace(self.recipe, control=control, degrade_steps=max(self.degraded, self._degrade_target))

    def _attempt(self, gen: int, index: int) -> Keyframe | None:
        if self._needs_build:
            recipe = self._recipe_now()
            try:
                notes = self._transport.build(recipe, self.policy.build_deadline)
            except PluginFault as fault:
                self._fault(gen, "build" if fault.kind == "error" else fault.kind, fault.message, index)
                return None
            except Exception as exc:  # noqa: BLE001 - anything a plugin's build raises is a fault
                if isinstance(exc, self._permanent):
                    with self._cond:
                        if gen == self._gen:
                            self.state, self.last_error = "failed", f"{type(exc).__name__}: {exc}"
                    log.error(
                        "scene %s cannot start: %s",
                        self.name,
                        exc,
                        extra={"event": "plugin_failed", "scene": self.name, "plugin": self.plugin},
                    )
                    return None
                self._fault(gen, "build", f"{type(exc).__name__}: {exc}", index)
                return None
            with self._cond:
                if gen != self._gen:
                    return None
                self._needs_build = False
                self._note_degraded(notes[self.degraded :], counted=True)  # a step taken for an oom fault
                self._control_sent = recipe.control if recipe is not None else None
                self._restart_pending = False  # a fresh source starts at the beginning
                self._busy = (index, time.perf_counter(), "make")
                if self._built_once or self.faults["build"]:  # a rebuild after a fault
                    self.restarts += 1
                    log.info(
                        "plugin %s (scene %s) restarted%s",
                        self.plugin,
                        self.name,
                        f" (worker process {self.pid})" if self.isolated else "",
                        extra={"event": "plugin_restart", "scene": self.name, "plugin": self.plugin, "pid": self.pid},
                    )
                self._built_once = True
        with self._cond:
            control = self._control if self._control is not self._control_sent else None
            self._control_sent = self._control
            self._busy_seq = newest(self._control)
            restart, self._restart_pending = self._restart_pending, False
        try:
            frame, notes, duration = self._transport.make(index, self.policy.deadline, control, restart)
        except PluginFault as fault:
            if gen == self._gen:
                notes = getattr(fault, "notes", None) or []
                self._note_degraded(notes)
                if fault.kind == "oom":  # not recovered in place (killed, or nothing left to degrade there)
                    self._degrade_target = self.degraded + 1
            self._fault(gen, fault.kind, fault.message, index)
            if self.isolated:  # restarted fresh after the back-off: free the old process now
                self._transport.close()
            return None
        return self._keep(gen, index, frame, notes, duration)

    def _keep(self, gen: int, index: int, frame, notes: list[str], duration: float) -> Keyframe | None:
        with self._cond:
            if gen != self._gen:  # abandoned while it ran: its result is not trusted
                return None
            self._note_degraded(notes)
            self.last_duration = duration
            kf = Keyframe(index=index, t=index / self.rate, frame=frame, arrival=time.perf_counter())
            entries = stamped(self._control)
            if entries and self._origin is not None and kf.t >= reach(entries, self._busy_seq, self._origin):
                self.invalidated += 1  # a change scheduled for its time came while it was made
                return None
            self._made[index] = self._busy_seq
            if len(self._made) > 64:
                for k in sorted(self._made)[:-16]:
                    del self._made[k]
            self.buffer.put(kf)
            self.produced += 1
            if self.faulted_since is not None:
                self.last_recovery = self._now() - self.faulted_since
                log.info(
                    "plugin %s (scene %s) recovered after %.3g s",
                    self.plugin,
                    self.name,
                    self.last_recovery,
                    extra={
                        "event": "plugin_recovered",
                        "scene": self.name,
                        "plugin": self.plugin,
                        "recovery_s": self.last_recovery,
                    },
                )
            self.faulted_since = None
            self.state = "ok"
            self._backoff = self.policy.backoff
        return kf
