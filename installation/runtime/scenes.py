"""Scene lifecycle: a generator worker per scene that is (about to be) visible, and the fallback.

Scenes start ``preload`` seconds before they become visible and stop when no longer wanted; a
scene whose worker failed for good (a configuration error) is remembered and not retried each
time it comes round.  A faulted scene holds its last good keyframe; the show's fallback scene
(or a built-in one) stands in when there is none or the fault outlasts ``hold_limit``.

:meth:`SceneSet.plan` is the update-time half of drawing: it asks the workers for the keyframes
this frame needs (through each scene's :class:`KeyframeMixer`) and returns the layers that
``view`` blends.  Nothing here draws.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine.buffer import Keyframe
from ..engine.mixer import KeyframeMixer
from ..engine.worker import GeneratorWorker
from ..render.fit import Fit
from ..show.schema import Scene, Show
from ..show.timeline import LayerState
from .snapshot import LayerPlan

log = logging.getLogger(__name__)

#: fallback index of a show-named fallback scene / of the built-in one (never replaced)
NAMED_FALLBACK, BUILTIN_FALLBACK = -1, -2


@dataclass
class SceneRuntime:
    index: int
    worker: GeneratorWorker
    mixer: KeyframeMixer
    last_local_t: float = float("-inf")
    retired: list[Keyframe] = field(default_factory=list)


class SceneSet:
    """The running scenes of a show, keyed by scene index, plus the fallback.

    ``new_worker(scene, index)`` makes a worker for a scene (the app knows plugins, devices and
    clocks); ``builtin_fallback()`` is the scene shown when the show names no fallback or its
    fallback fails too; ``release(kf)`` frees a keyframe's GL texture.
    """

    def __init__(
        self,
        new_worker: Callable[[Scene, int], GeneratorWorker],
        builtin_fallback: Callable[[], Scene],
        release: Callable[[Keyframe], None],
        deterministic: bool,
        hold_limit: float = 10.0,
        locked: bool = False,
    ):
        self.new_worker = new_worker
        self.locked = locked  # live frames as a function of show time (hosts in lock-step)
        self.builtin_fallback = builtin_fallback
        self.release = release
        self.deterministic = deterministic
        self.hold_limit = hold_limit  # seconds a faulted scene may freeze before the fallback shows
        self.runtimes: dict[int, SceneRuntime] = {}
        self.failed: dict[int, str] = {}
        self.fallback: SceneRuntime | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def _runtime(self, scene: Scene, index: int) -> SceneRuntime:
        worker = self.new_worker(scene, index)
        return SceneRuntime(index, worker, KeyframeMixer(worker, self.deterministic, self.locked))

    def sync(self, show: Show, wanted: set[int]) -> None:
        """Start the wanted scenes that are not running (and have not failed), stop the rest."""
        for index in wanted:
            if index not in self.runtimes and index not in self.failed:
                self.runtimes[index] = self._runtime(show.scenes[index], index)
        for index in list(self.runtimes):
            if index not in wanted:
                self.stop(index)

    def stop(self, index: int) -> None:
        rt = self.runtimes.pop(index)
        if rt.worker.state == "failed":  # a configuration error: do not retry each time it comes round
            self.failed[index] = rt.worker.last_error or "failed"
        self._release_runtime(rt)

    def adopt(self, remap: dict[int, int | None]) -> None:
        """A reloaded show: keep the workers of unchanged scenes (re-indexed), stop the rest."""
        runtimes, self.runtimes = self.runtimes, {}
        for old, rt in runtimes.items():
            new = remap.get(old)
            if new is None:
                self.runtimes[old] = rt
                self.stop(old)
            else:
                rt.index = new
                self.runtimes[new] = rt
        self.failed = {new: msg for i, msg in self.failed.items() if (new := remap.get(i)) is not None}

    def keep_fallback(self, show: Show, t: float) -> None:
        """Make sure a fallback is running: the show's named one, or the built-in one when that failed."""
        if self.fallback is not None and not (
            self.fallback.worker.state == "failed" and self.fallback.index == NAMED_FALLBACK
        ):
            return
        named = show.show.fallback
        if self.fallback is not None:  # the named fallback failed too: use the built-in one
            log.error("fallback scene %r failed: %s", self.fallback.worker.name, self.fallback.worker.last_error)
            self._release_runtime(self.fallback)
            named = None
        scene = next((s for s in show.scenes if s.name == named), None) or self.builtin_fallback()
        self.fallback = self._runtime(scene, NAMED_FALLBACK if named else BUILTIN_FALLBACK)
        if not self.deterministic:  # warm: one keyframe ready before any scene needs it
            self.fallback.worker.request(math.floor(t * scene.keyframe_rate))

    def _release_runtime(self, rt: SceneRuntime) -> None:
        rt.worker.stop()
        for kf in rt.worker.buffer.clear() + rt.retired + [k for k in (rt.mixer.shown_a, rt.mixer.shown_b) if k]:
            self.release(kf)

    def all(self) -> list[SceneRuntime]:
        return [*self.runtimes.values(), *([self.fallback] if self.fallback else [])]

    def close(self) -> None:
        for index in list(self.runtimes):
            self.stop(index)
        if self.fallback is not None:
            self._release_runtime(self.fallback)
            self.fallback = None

    # -- keyframes for this frame -----------------------------------------------------------
    def plan(
        self,
        layers: list[LayerState],
        t: float,
        wall: float,
        crossfade: float | None,
        opacity: Callable[[int, LayerState], float],
        fit: Callable[[LayerState], Fit] | None = None,
    ) -> list[LayerPlan]:
        """Ask for this frame's keyframes and pick, per visible layer, the mixer ``view`` blends.

        A layer whose scene has nothing to show, or has been faulted longer than ``hold_limit``,
        shows the fallback instead.  ``opacity(slot, layer)`` is the layer's opacity this frame,
        ``fit(layer)`` how it fills the output (its scene's fit; the fallback shows in it too).
        """
        plans = []
        fallback_planned = False
        for slot, layer in enumerate(layers, 1):
            rt = self.runtimes.get(layer.index)
            mixer, local_t = None, layer.local_t
            if rt is not None:
                if layer.local_t < rt.last_local_t:  # the scene restarted (loop or seek)
                    rt.retired += rt.worker.buffer.clear()
                    rt.mixer = KeyframeMixer(rt.worker, self.deterministic, self.locked)
                    rt.worker.restart_source()
                if self.locked and not layer.scene.keyframe_beats:  # stamped walk changes count from here
                    rt.worker.set_origin(t - layer.local_t)
                rt.last_local_t = layer.local_t
                rt.mixer.crossfade = crossfade
                rt.mixer.plan(layer.local_t, wall)
                mixer = rt.mixer
            if mixer is None or not mixer.ready or (rt is not None and rt.worker.faulted_for() > self.hold_limit):
                fb = self.fallback
                if fb is not None and fb.worker.state != "failed":
                    if not fallback_planned:
                        fb.mixer.plan(max(t, 0.0), wall)
                        fallback_planned = True
                    if fb.mixer.ready:
                        mixer, local_t = fb.mixer, max(t, 0.0)
            if mixer is None:
                continue
            plans.append(LayerPlan(mixer, local_t, opacity(slot, layer), fit(layer) if fit else None))
        self._release_unused()
        return plans

    def _release_unused(self) -> None:
        """Free the textures of keyframes that left the buffers and are no longer shown."""
        for rt in self.all():
            rt.retired += rt.worker.buffer.take_evicted()
            keep = rt.mixer.in_use()
            still = []
            for kf in rt.retired:
                if id(kf) in keep:
                    still.append(kf)
                else:
                    self.release(kf)
            rt.retired = still
