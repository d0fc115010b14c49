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
                 device: torch.device | str = "cpu", preload: float = 3.0):
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

    # -- update ---------------------------------------------------------------------------
    def handle(self, address: str) -> None:
        """Apply a control action (keyboard now; OSC routes here too)."""
        if address in ("/scene/next", "/cue/go"):
            i, local, _ = self.timeline.scene_index_at(self.t)
            self.offset += self.show.scenes[i].duration - local
        elif address == "/scene/prev":
            i, local, _ = self.timeline.scene_index_at(self.t)
            self.offset -= local + self.show.scenes[(i - 1) % len(self.show.scenes)].duration

    def update(self) -> float:
        self.t = self.clock.tick() + self.offset
        self.layers = self.timeline.layers_at(self.t)
        wanted = {layer.index for layer in self.layers}
        wanted |= {layer.index for layer in self.timeline.layers_at(self.t + self.preload)}
        for index in wanted:
            if index not in self.runtimes and index not in self.failed:
                self._start(index)
        for index in list(self.runtimes):
            if index not in wanted:
                self._stop(index)
        return self.t

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
            rt.last_local_t = layer.local_t
            blend = rt.mixer.blend(layer.local_t, wall)
            draws.append(LayerDraw(blend.a, blend.b, blend.mix, layer.opacity))
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
