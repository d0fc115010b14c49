"""The running show: model / update / view (as in nannou).

* model  — :class:`App`: the show, its playhead, the running scenes (:class:`SceneSet`), the
  control routing and the status board; :attr:`App.snapshot` is what the last update planned.
* update — :meth:`App.update` is the only place state changes: it advances the clock, drains
  control events into actions and registry values, moves the playhead (cues, schedule, hot
  reload), starts scenes shortly before they become visible and stops those no longer needed,
  hands the live control state to the workers, asks the workers for this frame's keyframes and
  releases the textures of keyframes no longer shown.
* view   — :meth:`App.view` reads the snapshot and has the compositor draw it: it never asks for
  work.  The runner hands the drawn frame to every output.

Network and device threads never call into here directly: they enqueue on
``app.control.events``, and update drains the queue once a frame into the parameter registry;
brightness, blackout, layer opacity, post-stage switches and the walks' control state are read
from the registry every frame, so a value queued before a frame starts is in that frame.

Plugin faults cost only their scene: generators are built and run in their worker (with
deadlines, restarts and back-off, see :mod:`installation.engine.worker`); a faulted scene holds
its last good keyframe, and shows the show's fallback scene when it has none or the fault
outlasts ``hold_limit`` seconds (see :mod:`installation.runtime.scenes`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import torch

from .clock import Clock
from .control.events import ControlEvent
from .control.system import Control
from .engine.buffer import KeyframeBuffer
from .engine.build import SceneLoadError, SourceRecipe, build_source, default_fallback_scene  # noqa: F401
from .engine.worker import GeneratorWorker, RestartPolicy
from .health.monitor import idle_snapshot
from .plugins import PluginRegistry
from .render.compositor import Compositor
from .render.fit import Fit
from .runtime.routing import ControlRouting
from .runtime.scenes import BUILTIN_FALLBACK, SceneRuntime, SceneSet
from .runtime.snapshot import FrameSnapshot
from .runtime.status import StatusBoard
from .show.playhead import Playhead
from .show.schema import Scene, Show
from .show.timeline import LayerState

log = logging.getLogger(__name__)


class App:
    def __init__(
        self,
        show: Show,
        registry: PluginRegistry,
        compositor: Compositor,
        clock: Clock,
        device: torch.device | str = "cpu",
        preload: float = 3.0,
        playhead: Playhead | None = None,
        control: Control | None = None,
        policy: RestartPolicy | None = None,
        hold_limit: float = 10.0,
    ):
        self.show = show
        self.playhead = playhead or Playhead(show)
        self.registry = registry
        self.compositor = compositor
        self.clock = clock
        self.device = torch.device(device)
        self.preload = preload
        self.t = 0.0
        self.layers: list[LayerState] = []
        # an offline render may wait longer for a slow model than a live show can
        self.policy = policy or (RestartPolicy(deadline=60.0) if clock.deterministic else RestartPolicy())
        # inputs are started by the runner; without it the queue still works (tests, replays)
        self.control = control if control is not None else Control.from_show(show)
        self.routing = ControlRouting(self.control, self.playhead)
        self.status = StatusBoard(self.control, self.playhead)
        self.scenes = SceneSet(
            self._new_worker,
            default_fallback_scene,
            lambda kf: self.compositor.release(kf),
            clock.deterministic,
            hold_limit,
            locked=bool(getattr(clock, "lockstep", False)),  # several hosts drawing one show time
        )
        self.snapshot = FrameSnapshot(brightness=show.output.brightness)
        self._source_control: tuple[dict, dict] | None = None  # (walk, post) control for newly built sources
        self._clock_t: float | None = None
        compositor.brightness = show.output.brightness
        self.health = idle_snapshot  # the health monitor's snapshot, once one watches this app
        compositor.fit = Fit.of(show.output)

    # -- model: read-only views for health, tests and tools --------------------------------
    @property
    def timeline(self):
        return self.playhead.timeline

    @property
    def runtimes(self) -> dict[int, SceneRuntime]:
        return self.scenes.runtimes

    @property
    def fallback(self) -> SceneRuntime | None:
        return self.scenes.fallback

    @property
    def failed(self) -> dict[int, str]:
        return self.scenes.failed

    @property
    def hold_limit(self) -> float:
        return self.scenes.hold_limit

    @property
    def fps(self) -> float:
        return self.status.fps

    # -- update ---------------------------------------------------------------------------
    def handle(self, address: str, *args) -> None:
        """Queue a control action (a window key, a tool): it is applied by the next :meth:`update`."""
        self.control.events.put(ControlEvent(address, tuple(args), source="app"))

    def update(self) -> float:
        """Advance one frame: the only place the show's state changes. Returns show time."""
        clock_t = self.clock.tick()
        dt = 0.0 if self._clock_t is None else max(clock_t - self._clock_t, 0.0)
        self._clock_t = clock_t
        self.routing.apply(self.show, self.t, dt, clock_t)
        self.layers = self.playhead.update(clock_t)
        self.t = self.playhead.t
        if self.playhead.remap is not None:
            self._adopt(self.playhead.show, self.playhead.remap)
        wanted = {layer.index for layer in self.layers}
        if self.playhead.hours is None or (self.playhead.position and self.playhead.position.open):
            wanted |= {layer.index for layer in self.playhead.timeline.layers_at(self.t + self.preload)}
        self.scenes.sync(self.show, wanted)
        self._push_control()
        self.scenes.keep_fallback(self.show, self.t)
        wall = self.clock.wall()
        reg = self.control.registry
        plans = self.scenes.plan(
            self.layers,
            self.t,
            wall,
            reg.get("/crossfade/time"),
            lambda slot, layer: layer.opacity * layer.scene.output.opacity * reg.get(f"/layer/{slot}/opacity", 1.0),
            lambda layer: Fit.of(self.show.output, layer.scene),
        )
        self.snapshot = FrameSnapshot(self.t, wall, self.routing.brightness(self.show), tuple(plans))
        self.status.measure(self.show, self.t, wall)
        return self.t

    def _push_control(self) -> None:
        control = self.routing.source_control(self.show)
        if control is None:
            return
        self._source_control = control  # generators built (or rebuilt) from now on start with these
        for rt in self.scenes.runtimes.values():  # replace, never mutate: workers read them from their thread
            rt.worker.set_control(*control)

    def _adopt(self, show: Show, remap: dict[int, int | None]) -> None:
        """A reloaded show: keep the workers of unchanged scenes (re-indexed), stop the rest."""
        self.scenes.adopt(remap)
        self.show = show
        try:
            self.routing.relayout(show)
        except ValueError as exc:
            log.error("reloaded show: control layout kept as it was: %s", exc)

    def _new_worker(self, scene: Scene, index: int) -> GeneratorWorker:
        """A worker that builds the scene's generator off the render thread (and rebuilds it after faults)."""
        if self._source_control is None:
            self._source_control = (self.routing.walk_control(), self.routing.post_control(self.show))
        recipe = SourceRecipe.of(scene, self.registry, self.device, self.show.show.seed, self._source_control)
        # the built-in fallback is the runtime's own noise field, not plugin code: in this process, so
        # it draws from the first frames on (worker processes take seconds to start) and needs none of them
        policy = replace(self.policy, isolated=False) if index == BUILTIN_FALLBACK else self.policy
        worker = GeneratorWorker(
            None,
            KeyframeBuffer(capacity=4),
            name=scene.name,
            recipe=recipe,
            registry=self.registry,
            rate=scene.keyframe_rate,
            policy=policy,
            permanent=(SceneLoadError,),
            now=self.clock.now if self.clock.deterministic else time.monotonic,
        )
        if not self.clock.deterministic:
            worker.start()
        return worker

    # -- view -----------------------------------------------------------------------------
    def view(self) -> None:
        """Draw the snapshot into the canvas. Reads only: the mixers' blends never ask for work."""
        snap = self.snapshot
        self.compositor.brightness = snap.brightness
        self.compositor.compose(snap.draws())

    # -- status ---------------------------------------------------------------------------
    def state(self) -> dict:
        """What controllers are shown (``/status/...``): scene, standing-by cue, fps, health, refusals."""
        return self.status.state(self.show, self.t, self.scenes.failed, self.health)

    def standby_name(self) -> str:
        """The cue GO fires now, by name (a cue without a name is called by its scene or playlist)."""
        return self.status.standby_name()

    def publish(self) -> None:
        """Send the state to the show's OSC targets (on change, and at the heartbeat)."""
        self.status.publish(self.state(), self.routing.changes)

    def frame(self) -> float:
        """update, view, publish: one frame drawn into the canvas (the runner hands it to the outputs)."""
        t = self.update()
        self.view()
        self.publish()
        return t

    def close(self) -> None:
        self.scenes.close()
        self.control.stop()
