"""The running show: model / update / view.

* model  — :class:`App` state: the show, its timeline, one :class:`SceneRuntime` per active scene.
* update — :meth:`App.update` advances the clock, applies control actions, starts scenes shortly
  before they become visible and stops those no longer needed.
* view   — :meth:`App.view` asks each visible scene's mixer for its keyframe blend and has the
  compositor draw them; outputs read the result.

Network and device threads never call into here directly: they enqueue on
``app.control.events``, and :meth:`App.update` drains the queue once a frame into the parameter
registry; brightness, blackout, layer opacity, post-stage switches and the walks' control state
are read from the registry every frame, so a value queued before a frame starts is in that frame.

Plugin faults cost only their scene: generators are built and run in their worker (with
deadlines, restarts and back-off, see :mod:`installation.engine.worker`); a faulted scene holds
its last good keyframe, and shows the show's fallback scene when it has none or the fault
outlasts ``hold_limit`` seconds.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import torch

from .clock import Clock
from .control.system import Control
from .engine.buffer import Keyframe, KeyframeBuffer
from .engine.mixer import KeyframeMixer
from .engine.post import PostChain
from .engine.source import KeyframeSource
from .engine.worker import GeneratorWorker, RestartPolicy
from .health.monitor import health_fields, idle_snapshot
from .plugins import PluginRegistry
from .render.compositor import Compositor, LayerDraw
from .show.playhead import Playhead
from .show.schema import GeneratorSpec, Scene, Show, Transition, WalkSpec
from .show.timeline import LayerState
from .walks.factory import make_walk

log = logging.getLogger(__name__)


class SceneLoadError(RuntimeError):
    pass


def build_source(scene: Scene, registry: PluginRegistry, device: torch.device, show_seed: int = 0) -> KeyframeSource:
    """Instantiate the scene's generator, walk and post chain from the plugin registry."""
    gens, walks = registry.generators(), registry.walks()
    spec = scene.generator
    if spec.plugin not in gens:
        raise SceneLoadError(f"scene {scene.name!r}: unknown generator {spec.plugin!r}; available: {', '.join(sorted(gens))}")
    try:
        generator = gens[spec.plugin](checkpoint=spec.checkpoint, device=device, **spec.options())
    except TypeError as exc:
        raise SceneLoadError(f"scene {scene.name!r}: generator {spec.plugin!r}: {exc}") from exc
    if scene.walk.type not in walks:
        raise SceneLoadError(f"scene {scene.name!r}: unknown walk {scene.walk.type!r}; available: {', '.join(sorted(walks))}")
    try:
        walk = make_walk(walks[scene.walk.type], generator, scene.walk.seed + show_seed, scene.walk.options(),
                         scene.walk.space, scene.truncation)
    except (TypeError, ValueError) as exc:
        raise SceneLoadError(f"scene {scene.name!r}: walk {scene.walk.type!r}: {exc}") from exc
    post = PostChain.build([{"stage": p.stage, "mix": p.mix, **p.options()} for p in scene.post],
                           registry.post_processors(), device)
    return KeyframeSource(generator, walk, post, scene.keyframe_rate)


def default_fallback_scene() -> Scene:
    """What a failing scene shows when the show names no fallback: a slow built-in noise field."""
    return Scene(name="fallback", duration=3600.0, keyframe_rate=1.0, transition=0.0,
                 generator=GeneratorSpec(plugin="noisefield", size=128),
                 walk=WalkSpec(type="slerp", seeds=[101, 102, 103], transition=8.0))


@dataclass
class SceneRuntime:
    index: int
    worker: GeneratorWorker
    mixer: KeyframeMixer
    last_local_t: float = float("-inf")
    retired: list[Keyframe] = field(default_factory=list)


class App:
    def __init__(self, show: Show, registry: PluginRegistry, compositor: Compositor, clock: Clock,
                 device: torch.device | str = "cpu", preload: float = 3.0, playhead: Playhead | None = None,
                 control: Control | None = None, policy: RestartPolicy | None = None, hold_limit: float = 10.0):
        self.show = show
        self.playhead = playhead or Playhead(show)
        self.registry = registry
        self.compositor = compositor
        self.clock = clock
        self.device = torch.device(device)
        self.preload = preload
        self.runtimes: dict[int, SceneRuntime] = {}
        self.failed: dict[int, str] = {}
        self.t = 0.0
        self.layers: list[LayerState] = []
        # an offline render may wait longer for a slow model than a live show can
        self.policy = policy or (RestartPolicy(deadline=60.0) if clock.deterministic else RestartPolicy())
        self.hold_limit = hold_limit  # seconds a faulted scene may freeze before the fallback shows
        self.fallback: SceneRuntime | None = None
        self._source_control: tuple[dict, dict] | None = None  # (walk, post) control for newly built sources
        compositor.brightness = show.output.brightness
        # inputs are started by the runner; without it the queue still works (tests, replays)
        self.control = control if control is not None else Control.from_show(show)
        self._clock_t: float | None = None
        self._changes: dict = {}
        self._control_version = -1
        self._wall_prev: float | None = None
        self.fps = 0.0
        self.health = idle_snapshot  # the health monitor's snapshot, once one watches this app

    # -- update ---------------------------------------------------------------------------
    @property
    def timeline(self):
        return self.playhead.timeline

    def handle(self, address: str, *args) -> None:
        """Apply a control action (keyboard and OSC alike): GO, standby, next/prev, goto a cue or scene."""
        ph = self.playhead
        live = self.control.registry.get("/transition/time")
        tr = None if live is None else Transition(duration=float(live), curve="smooth" if live > 0 else "cut")
        if address in ("/scene/next", "/cue/go"):
            ph.go(tr)
        elif address in ("/cue/next", "/cue/prev"):
            ph.move_standby(1 if address == "/cue/next" else -1)
        elif address == "/scene/prev":
            cur = ph.timeline.current(self.t)
            n = len(ph.timeline.actions)
            k = (cur.cue if cur else 0) - 1
            ph.goto(k % n if self.show.loop else max(k, 0), tr)
        elif address == "/scene/index" and args:
            self.goto_scene(int(args[0]), tr)
        elif address in ("/cue/goto", "/scene") and args:
            k = ph.cue_index(args[0])
            if k is not None:
                ph.goto(k, tr)

    def goto_scene(self, index: int, transition: Transition | None = None) -> None:
        """Fire the first cue that plays scene ``index`` (with that cue's transition unless overridden)."""
        index = min(max(int(index), 0), len(self.show.scenes) - 1)
        k = self.playhead.cue_index(self.show.scenes[index].name)
        if k is not None:
            self.playhead.goto(k, transition)

    # -- control --------------------------------------------------------------------------
    #: value parameters that are requests to act, not state: handled, then put back
    ACTIONS = ("/scene", "/scene/index", "/cue/goto")

    def apply_control(self, dt: float, clock_t: float) -> None:
        """Drain the control queue: triggers and jump requests go to :meth:`handle`; uniforms are set."""
        fc = self.control.frame(dt, clock_t)
        reg = self.control.registry
        for address, times in fc.triggers.items():
            for _ in range(times):
                self.handle(address)
        for address in self.ACTIONS:
            if address in fc.changes:
                self.handle(address, fc.changes[address])
                reg.reset(address)  # the same scene or cue can be asked for again
        self.compositor.brightness = 0.0 if reg.get("/output/blackout") else (
            self.show.output.brightness * reg.get("/output/brightness", 1.0))
        self._changes = fc.changes

    def walk_control(self) -> dict:
        """Control state for walks (``Walk.latent(t, control)``), keyed by address.

        Only values that are set: ``/walk/truncation`` stays out until it is sent, so a scene's own
        truncation holds until the performer takes it over.
        """
        reg = self.control.registry
        return {a: v for a, v in reg.values().items()
                if v is not None and (a.startswith("/walk/") or a.startswith("/direction/"))}

    def post_control(self) -> dict:
        """``{stage: (enabled, mix)}`` for the show's post stages (see :class:`PostChain`)."""
        reg = self.control.registry
        return {p.stage: (bool(reg.get(f"/post/{p.stage}/enabled", True)), float(reg.get(f"/post/{p.stage}/mix", 1.0)))
                for scene in self.show.scenes for p in scene.post}

    def _push_control(self) -> None:
        reg = self.control.registry
        if reg.version == self._control_version:
            return
        self._control_version = reg.version
        walk, post = self.walk_control(), self.post_control()
        self._source_control = (walk, post)  # generators built (or rebuilt) from now on start with these
        for rt in self.runtimes.values():  # replace, never mutate: workers read them from their thread
            source = rt.worker.source
            if source is not None:  # None: still being built in its worker
                source.control = walk
                source.post.control = post

    def update(self) -> float:
        clock_t = self.clock.tick()
        dt = 0.0 if self._clock_t is None else max(clock_t - self._clock_t, 0.0)
        self._clock_t = clock_t
        self.apply_control(dt, clock_t)
        self.layers = self.playhead.update(clock_t)
        self.t = self.playhead.t
        if self.playhead.remap is not None:
            self._adopt(self.playhead.show, self.playhead.remap)
        wanted = {layer.index for layer in self.layers}
        if self.playhead.hours is None or (self.playhead.position and self.playhead.position.open):
            wanted |= {layer.index for layer in self.playhead.timeline.layers_at(self.t + self.preload)}
        for index in wanted:
            if index not in self.runtimes and index not in self.failed:
                self._start(index)
        for index in list(self.runtimes):
            if index not in wanted:
                self._stop(index)
        self._push_control()
        if self.fallback is None or (self.fallback.worker.state == "failed" and self.fallback.index == -1):
            self._start_fallback()
        return self.t

    def _adopt(self, show: Show, remap: dict[int, int | None]) -> None:
        """A reloaded show: keep the workers of unchanged scenes (re-indexed), stop the rest."""
        runtimes, self.runtimes = self.runtimes, {}
        for old, rt in runtimes.items():
            new = remap.get(old)
            if new is None:
                self.runtimes[old] = rt
                self._stop(old)
            else:
                rt.index = new
                self.runtimes[new] = rt
        self.failed = {remap[i]: msg for i, msg in self.failed.items() if remap.get(i) is not None}
        self.show = show
        self.compositor.brightness = show.output.brightness
        try:
            self.control.relayout(show)
            self._control_version = -1
        except ValueError as exc:
            log.error("reloaded show: control layout kept as it was: %s", exc)

    def _runtime(self, scene: Scene, index: int) -> SceneRuntime:
        """A worker that builds the scene's generator off the render thread (and rebuilds it after faults)."""
        if self._source_control is None:
            self._source_control = (self.walk_control(), self.post_control())

        def build() -> KeyframeSource:  # runs in the worker thread: reads only the replaced-never-mutated dicts
            source = build_source(scene, self.registry, self.device, self.show.show.seed)
            source.control, source.post.control = self._source_control
            return source

        worker = GeneratorWorker(None, KeyframeBuffer(capacity=4), name=scene.name, build=build,
                                 rate=scene.keyframe_rate, policy=self.policy, permanent=(SceneLoadError,),
                                 now=self.clock.now if self.clock.deterministic else time.monotonic)
        if not self.clock.deterministic:
            worker.start()
        return SceneRuntime(index, worker, KeyframeMixer(worker, self.clock.deterministic))

    def _start(self, index: int) -> None:
        self.runtimes[index] = self._runtime(self.show.scenes[index], index)

    def _start_fallback(self) -> None:
        named = self.show.show.fallback
        if self.fallback is not None:  # the named fallback failed too: use the built-in one
            log.error("fallback scene %r failed: %s", self.fallback.worker.name, self.fallback.worker.last_error)
            self._release_runtime(self.fallback)
            named = None
        scene = next((s for s in self.show.scenes if s.name == named), None) or default_fallback_scene()
        self.fallback = self._runtime(scene, -1 if named else -2)  # -2: the built-in one, never replaced
        if not self.clock.deterministic:  # warm: one keyframe ready before any scene needs it
            self.fallback.worker.request(math.floor(self.t * scene.keyframe_rate))

    def _stop(self, index: int) -> None:
        rt = self.runtimes.pop(index)
        if rt.worker.state == "failed":  # a configuration error: do not retry each time it comes round
            self.failed[index] = rt.worker.last_error or "failed"
        self._release_runtime(rt)

    def _release_runtime(self, rt: SceneRuntime) -> None:
        rt.worker.stop()
        for kf in rt.worker.buffer.clear() + rt.retired + [k for k in (rt.mixer.shown_a, rt.mixer.shown_b) if k]:
            self.compositor.release(kf)

    # -- view -----------------------------------------------------------------------------
    def view(self) -> None:
        wall = self.clock.wall()
        draws = []
        reg = self.control.registry
        for slot, layer in enumerate(self.layers, 1):
            rt = self.runtimes.get(layer.index)
            blend = None
            if rt is not None:
                if layer.local_t < rt.last_local_t:  # the scene restarted (loop or seek)
                    rt.retired += rt.worker.buffer.clear()
                    rt.mixer = KeyframeMixer(rt.worker, self.clock.deterministic)
                    if rt.worker.source is not None:
                        rt.worker.source.restart()
                rt.last_local_t = layer.local_t
                rt.mixer.crossfade = reg.get("/crossfade/time")
                blend = rt.mixer.blend(layer.local_t, wall)
            if blend is None or blend.b is None or rt.worker.faulted_for() > self.hold_limit:
                blend = self._fallback_blend(wall) or blend
            if blend is None:
                continue
            live = reg.get(f"/layer/{slot}/opacity", 1.0)
            draws.append(LayerDraw(blend.a, blend.b, blend.mix, layer.opacity * layer.scene.output.opacity * live))
        self.compositor.compose(draws)
        self.compositor.present()
        self._release_unused()

    def _fallback_blend(self, wall: float):
        if self.fallback is None or self.fallback.worker.state == "failed":
            return None
        blend = self.fallback.mixer.blend(max(self.t, 0.0), wall)
        return blend if blend.b is not None else None

    def _release_unused(self) -> None:
        for rt in [*self.runtimes.values(), *([self.fallback] if self.fallback else [])]:
            rt.retired += rt.worker.buffer.take_evicted()
            keep = rt.mixer.in_use()
            still = []
            for kf in rt.retired:
                if id(kf) in keep:
                    still.append(kf)
                else:
                    self.compositor.release(kf)
            rt.retired = still

    def state(self) -> dict:
        """What controllers are shown (``/status/...``): scene, standing-by cue, fps, health, refusals."""
        cur = self.timeline.current(self.t)
        scene = self.show.scenes[cur.scene].name if cur is not None else ""
        failed = [f"scene {self.show.scenes[k].name} failed" for k in sorted(self.failed) if k < len(self.show.scenes)]
        state = {"scene": scene, "cue": self.standby_name(), "fps": round(self.fps, 1),
                 "health": self.control.health(failed), "rejected": self.control.rejected()}
        if self.control.osc_out.targets:  # the health endpoint's figures, for controllers too
            state.update(health_fields(self.health()))
        return state

    def standby_name(self) -> str:
        """The cue GO fires now, by name (a cue without a name is called by its scene or playlist)."""
        k = self.playhead.standing_by()
        actions = self.timeline.actions
        if k is None or not 0 <= k < len(actions):
            return ""
        cue = actions[k].cue
        return cue.name or cue.scene or cue.playlist or str(k)

    def publish(self) -> None:
        """Send the state to the show's OSC targets (on change, and at the heartbeat)."""
        wall = self.clock.wall()
        if self._wall_prev is not None and wall > self._wall_prev:
            inst = 1.0 / (wall - self._wall_prev)
            self.fps = inst if self.fps == 0.0 else 0.9 * self.fps + 0.1 * inst
        self._wall_prev = wall
        cur = self.timeline.current(self.t)
        if cur is not None:  # mirror the scene playing into the registry for /query replies
            self.control.registry.set("/scene", self.show.scenes[cur.scene].name, quiet=True)
            self.control.registry.set("/scene/index", cur.scene, quiet=True)
        self.control.publish(self.state(), self._changes)

    def frame(self) -> float:
        t = self.update()
        self.view()
        self.publish()
        return t

    def close(self) -> None:
        for index in list(self.runtimes):
            self._stop(index)
        if self.fallback is not None:
            self._release_runtime(self.fallback)
            self.fallback = None
        self.control.stop()
