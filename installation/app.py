"""The running show: model / update / view.

* model  — :class:`App` state: the show, its timeline, one :class:`SceneRuntime` per active scene.
* update — :meth:`App.update` advances the clock, applies control actions, starts scenes shortly
  before they become visible and stops those no longer needed.
* view   — :meth:`App.view` asks each visible scene's mixer for its keyframe blend and has the
  compositor draw them; outputs read the result.

Network and device threads never call into here directly: they enqueue on
``app.control.events``, and :meth:`App.update` drains the queue once a frame into the parameter
registry; brightness, blackout, layer opacity and the walks' control state are read from the
registry every frame, so a value that arrives before a frame starts is in that frame.  A scene whose plugin fails to load is logged and shown as black; the show goes on.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch

from .clock import Clock
from .control.system import Control
from .engine.buffer import Keyframe, KeyframeBuffer
from .engine.mixer import KeyframeMixer
from .engine.post import PostChain
from .engine.source import KeyframeSource
from .engine.worker import GeneratorWorker
from .plugins import PluginRegistry
from .render.compositor import Compositor, LayerDraw
from .show.schema import Scene, Show
from .show.timeline import LayerState, Timeline

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
        walk = walks[scene.walk.type](latent_dim=generator.latent_dim, seed=scene.walk.seed + show_seed, **scene.walk.options())
    except TypeError as exc:
        raise SceneLoadError(f"scene {scene.name!r}: walk {scene.walk.type!r}: {exc}") from exc
    post = PostChain.build([{"stage": p.stage, **p.options()} for p in scene.post], registry.post_processors(), device)
    return KeyframeSource(generator, walk, post, scene.keyframe_rate)


@dataclass
class SceneRuntime:
    index: int
    worker: GeneratorWorker
    mixer: KeyframeMixer
    last_local_t: float = float("-inf")
    retired: list[Keyframe] = field(default_factory=list)


class App:
    def __init__(self, show: Show, registry: PluginRegistry, compositor: Compositor, clock: Clock,
                 device: torch.device | str = "cpu", preload: float = 3.0, control: Control | None = None):
        self.show = show
        self.timeline = Timeline(show)
        self.registry = registry
        self.compositor = compositor
        self.clock = clock
        self.device = torch.device(device)
        self.preload = preload
        self.runtimes: dict[int, SceneRuntime] = {}
        self.failed: dict[int, str] = {}
        self.offset = 0.0  # shifted by /scene/next and /scene/prev
        self.t = 0.0
        self.layers: list[LayerState] = []
        compositor.brightness = show.output.brightness
        # control inputs are started by the runner; without it the queue still works (tests, replays)
        self.control = control if control is not None else Control.from_show(show)
        self._clock_t: float | None = None
        self._changes: dict = {}
        self.standby: int | None = None
        self._walk_version = -1
        self._wall_prev: float | None = None
        self.fps = 0.0

    # -- update ---------------------------------------------------------------------------
    def standby_index(self) -> int:
        """The scene ``/cue/go`` goes to: the one after the current, unless moved by ``/cue/next|prev``."""
        if self.standby is not None:
            return self.standby
        i, _, _ = self.timeline.scene_index_at(self.t)
        return (i + 1) % len(self.show.scenes)

    def handle(self, address: str) -> None:
        """Apply a control action (keyboard and OSC triggers alike).

        Until shows carry their own cue lists, cues are the scenes: ``/cue/go`` plays the
        standing-by scene (the next one, with its transition; any other one as a cut) and
        ``/cue/next`` / ``/cue/prev`` move the standby without firing.
        """
        n = len(self.show.scenes)
        if address in ("/cue/next", "/cue/prev"):
            self.standby = (self.standby_index() + (1 if address == "/cue/next" else -1)) % n
            return
        if address == "/cue/go":
            i, _, _ = self.timeline.scene_index_at(self.t)
            target, self.standby = self.standby_index(), None
            if target != (i + 1) % n:
                self.goto_scene(target)
                return
        if address in ("/scene/next", "/cue/go"):
            i, local, _ = self.timeline.scene_index_at(self.t)
            self.offset += self.show.scenes[i].duration - local
        elif address == "/scene/prev":
            i, local, _ = self.timeline.scene_index_at(self.t)
            self.offset -= local + self.show.scenes[(i - 1) % len(self.show.scenes)].duration

    def goto_scene(self, index: int) -> None:
        """Cut to scene ``index`` (past its own fade-in), keeping the loop count."""
        i, local, loops = self.timeline.scene_index_at(self.t)
        scene = self.show.scenes[index]
        base = loops * self.timeline.length if self.show.loop else 0.0
        target = base + self.timeline.starts[index] + min(scene.transition, 0.5 * scene.duration)
        self.offset += target - self.t
        self.t = target

    def apply_control(self, dt: float) -> None:
        """Drain the control queue and act on it: triggers, scene jumps, uniforms, walk state."""
        fc = self.control.frame(dt, self._clock_t)
        for address, times in fc.triggers.items():
            for _ in range(times):
                self.handle(address)
                self.t = self.clock.now() + self.offset
        names = [s.name for s in self.show.scenes]
        if "/scene" in fc.changes and fc.changes["/scene"] in names:
            self.goto_scene(names.index(fc.changes["/scene"]))
        elif "/scene/index" in fc.changes and fc.changes["/scene/index"] < len(names):
            self.goto_scene(fc.changes["/scene/index"])
        if fc.changes.get("/cue/goto") in names:
            self.goto_scene(names.index(fc.changes["/cue/goto"]))
            self.control.registry.reset("/cue/goto")  # so the same cue can be fired again
        reg = self.control.registry
        self.compositor.brightness = 0.0 if reg.get("/output/blackout") else (
            self.show.output.brightness * reg.get("/output/brightness", 1.0))
        self._changes = fc.changes

    def walk_control(self) -> dict:
        """The control state walks receive (``Walk.latent(t, control)``); a new dict when it changes."""
        reg = self.control.registry
        k = 0
        directions = []
        while f"/direction/{k}" in reg:
            directions.append(reg.get(f"/direction/{k}"))
            k += 1
        return {"speed": reg.get("/walk/speed"), "direction": reg.get("/walk/direction"),
                "truncation": reg.get("/walk/truncation"), "directions": tuple(directions)}

    def post_control(self) -> dict:
        """``{stage: (enabled, mix)}`` for every post stage of the show (see :class:`PostChain`)."""
        reg = self.control.registry
        out = {}
        for scene in self.show.scenes:
            for p in scene.post:
                out[p.stage] = (bool(reg.get(f"/post/{p.stage}/enabled", True)), float(reg.get(f"/post/{p.stage}/mix", 1.0)))
        return out

    def update(self) -> float:
        clock_t = self.clock.tick()
        dt = 0.0 if self._clock_t is None else max(clock_t - self._clock_t, 0.0)
        self._clock_t = clock_t
        self.t = clock_t + self.offset
        self.apply_control(dt)
        self.layers = self.timeline.layers_at(self.t)
        wanted = {layer.index for layer in self.layers}
        wanted |= {layer.index for layer in self.timeline.layers_at(self.t + self.preload)}
        for index in wanted:
            if index not in self.runtimes and index not in self.failed:
                self._start(index)
        for index in list(self.runtimes):
            if index not in wanted:
                self._stop(index)
        reg = self.control.registry
        if reg.version != self._walk_version:  # replace, never mutate: workers read it from their thread
            self._walk_version = reg.version
            state, post = self.walk_control(), self.post_control()
            for rt in self.runtimes.values():
                rt.worker.source.control = state
                rt.worker.source.post.control = post
        i, _, _ = self.timeline.scene_index_at(self.t)
        reg.set("/scene", self.show.scenes[i].name, quiet=True)
        reg.set("/scene/index", i, quiet=True)
        return self.t

    def _start(self, index: int) -> None:
        scene = self.show.scenes[index]
        try:
            source = build_source(scene, self.registry, self.device, self.show.show.seed)
        except Exception as exc:
            self.failed[index] = f"{type(exc).__name__}: {exc}"
            log.error("scene %r could not start: %s", scene.name, self.failed[index])
            return
        source.control = self.walk_control()
        source.post.control = self.post_control()
        worker = GeneratorWorker(source, KeyframeBuffer(capacity=4), name=scene.name)
        if not self.clock.deterministic:
            worker.start()
        self.runtimes[index] = SceneRuntime(index, worker, KeyframeMixer(worker, self.clock.deterministic))

    def _stop(self, index: int) -> None:
        rt = self.runtimes.pop(index)
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
            if rt is None:
                continue
            if layer.local_t < rt.last_local_t:  # the scene restarted (loop or seek)
                rt.retired += rt.worker.buffer.clear()
                rt.mixer = KeyframeMixer(rt.worker, self.clock.deterministic)
            rt.last_local_t = layer.local_t
            blend = rt.mixer.blend(layer.local_t, wall)
            draws.append(LayerDraw(blend.a, blend.b, blend.mix, layer.opacity * reg.get(f"/layer/{slot}/opacity", 1.0)))
        self.compositor.compose(draws)
        self.compositor.present()
        self._release_unused()

    def _release_unused(self) -> None:
        for rt in self.runtimes.values():
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
        """What controllers are shown (``/status/...``): scene, cue standing by, fps, health, inputs refused."""
        i, _, _ = self.timeline.scene_index_at(self.t)
        names = [s.name for s in self.show.scenes]
        standby = names[self.standby_index()] if (self.show.loop or self.standby is not None or i + 1 < len(names)) else ""
        failed = [f"scene {self.show.scenes[k].name} failed" for k in sorted(self.failed)]
        return {"scene": names[i], "cue": standby, "fps": round(self.fps, 1), "health": self.control.health(failed),
                "rejected": self.control.rejected()}

    def publish(self) -> None:
        wall = self.clock.wall()
        if self._wall_prev is not None and wall > self._wall_prev:
            inst = 1.0 / (wall - self._wall_prev)
            self.fps = inst if self.fps == 0.0 else 0.9 * self.fps + 0.1 * inst
        self._wall_prev = wall
        self.control.publish(self.state(), self._changes)

    def frame(self) -> float:
        t = self.update()
        self.view()
        self.publish()
        return t

    def close(self) -> None:
        for index in list(self.runtimes):
            self._stop(index)
        self.control.stop()
