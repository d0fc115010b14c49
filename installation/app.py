"""The running show: model / update / view.

* model  — :class:`App` state: the show, its timeline, one :class:`SceneRuntime` per active scene.
* update — :meth:`App.update` advances the clock, applies control actions, starts scenes shortly
  before they become visible and stops those no longer needed.
* view   — :meth:`App.view` asks each visible scene's mixer for its keyframe blend and has the
  compositor draw them; outputs read the result.

Network and device threads never call into here directly: they enqueue, and the loop drains
once a frame.  A scene whose plugin fails to load is logged and shown as black; the show goes on.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch

from .clock import Clock
from .engine.buffer import Keyframe, KeyframeBuffer
from .engine.mixer import KeyframeMixer
from .engine.post import PostChain
from .engine.source import KeyframeSource
from .engine.worker import GeneratorWorker
from .plugins import PluginRegistry
from .render.compositor import Compositor, LayerDraw
from .show.playhead import Playhead
from .show.schema import Scene, Show
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
                 device: torch.device | str = "cpu", preload: float = 3.0, playhead: Playhead | None = None):
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
        compositor.brightness = show.output.brightness

    # -- update ---------------------------------------------------------------------------
    @property
    def timeline(self):
        return self.playhead.timeline

    def handle(self, address: str, *args) -> None:
        """Apply a control action (keyboard and OSC alike): GO, standby, next/prev, goto a cue or scene."""
        ph = self.playhead
        if address in ("/scene/next", "/cue/go"):
            ph.go()
        elif address in ("/cue/next", "/cue/prev"):
            ph.move_standby(1 if address == "/cue/next" else -1)
        elif address == "/scene/prev":
            cur = ph.timeline.current(self.t)
            n = len(ph.timeline.actions)
            k = (cur.cue if cur else 0) - 1
            ph.goto(k % n if self.show.loop else max(k, 0))
        elif address == "/scene/index" and args:
            self.goto_scene(int(args[0]))
        elif address in ("/cue/goto", "/scene") and args:
            k = ph.cue_index(args[0])
            if k is not None:
                ph.goto(k)

    def goto_scene(self, index: int) -> None:
        """Fire the first cue that plays scene ``index`` (with that cue's transition)."""
        index = min(max(int(index), 0), len(self.show.scenes) - 1)
        k = self.playhead.cue_index(self.show.scenes[index].name)
        if k is not None:
            self.playhead.goto(k)

    def update(self) -> float:
        clock_t = self.clock.tick()
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

    def _start(self, index: int) -> None:
        scene = self.show.scenes[index]
        try:
            source = build_source(scene, self.registry, self.device, self.show.show.seed)
        except Exception as exc:
            self.failed[index] = f"{type(exc).__name__}: {exc}"
            log.error("scene %r could not start: %s", scene.name, self.failed[index])
            return
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
        for layer in self.layers:
            rt = self.runtimes.get(layer.index)
            if rt is None:
                continue
            if layer.local_t < rt.last_local_t:  # the scene restarted (loop or seek)
                rt.retired += rt.worker.buffer.clear()
                rt.mixer = KeyframeMixer(rt.worker, self.clock.deterministic)
                rt.worker.source.restart()
            rt.last_local_t = layer.local_t
            blend = rt.mixer.blend(layer.local_t, wall)
            draws.append(LayerDraw(blend.a, blend.b, blend.mix, layer.opacity * layer.scene.output.opacity))
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

    def frame(self) -> float:
        t = self.update()
        self.view()
        return t

    def close(self) -> None:
        for index in list(self.runtimes):
            self._stop(index)
