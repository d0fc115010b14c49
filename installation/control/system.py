"""The control layer as the running show sees it: one object, drained once a frame.

:class:`Control` owns the event queue, the counters, the parameter registry, the router
(bindings, learn, queries), OSC out and the input sources.  The app calls :meth:`Control.frame`
once a frame with the clock's ``dt`` and acts on the triggers and changes it returns, then
:meth:`Control.publish` with the show state for controllers.  Inputs that cannot start (port in
use, no MIDI device) are logged and reported in ``health``; the show goes on without them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import audio_beats
from .config import BindingSpec, ControlConfig
from .events import ControlEvent, EventQueue
from .osc_out import OscOut
from .params import ParameterRegistry
from .replay import EventRecorder, ShowTimeReplay
from .router import ControlRouter
from .stamps import ChangeLog, runs, walk_values
from .standard import ShowLayout, build_registry
from .stats import Counters

log = logging.getLogger(__name__)

# counters that mean an input was refused; their sum is reported as ``rejected`` in health
REJECT_COUNTERS = (
    "not_allowed",
    "malformed",
    "rate_limited",
    "kernel_dropped",
    "queue_full",
    "unknown_address",
    "wrong_type",
    "out_of_range",
    "errors",
)


@dataclass
class FrameControl:
    """What one frame's drain produced for the app."""

    events: list[ControlEvent]
    triggers: dict[str, int] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)


def layout_from_show(show: Any, config: ControlConfig) -> ShowLayout:
    """Scene names, cue names, layer count and post stages of a show (duck-typed on the schema)."""
    scenes = [s.name for s in getattr(show, "scenes", [])]
    # a show without a cue list has one cue per scene, named after it
    cues = [c.name or c.scene or c.playlist for c in getattr(show, "cues", []) or []] or scenes
    cues = list(dict.fromkeys(cues))
    stages: list[str] = []
    for s in getattr(show, "scenes", []):
        for p in getattr(s, "post", []) or []:
            if p.stage not in stages:
                stages.append(p.stage)
    # a scene transition shows two scenes at once: layer 1 the outgoing, layer 2 the incoming
    return ShowLayout(scenes=scenes, cues=cues, layers=2, post_stages=stages, directions=config.directions)


def _tables(show: Any) -> tuple[ControlConfig, list[BindingSpec]]:
    config = getattr(show, "control", None)
    if not isinstance(config, ControlConfig):  # absent (the schema's default is {}) or plain data
        config = ControlConfig.model_validate(config or {})
    bindings = [
        b if isinstance(b, BindingSpec) else BindingSpec.model_validate(b)
        for b in getattr(show, "bindings", None) or ()
    ]
    return config, bindings


class Control:
    def __init__(
        self,
        layout: ShowLayout,
        config: ControlConfig | None = None,
        bindings: Iterable[BindingSpec] = (),
        record: str | Path | None = None,
        track: Any = None,
    ) -> None:
        self.config = config or ControlConfig()
        self.counters = Counters()
        self.events = EventQueue(self.config.queue_size, self.counters)
        self.registry: ParameterRegistry = build_registry(layout, self.config, self.counters)
        self.osc_out = OscOut.from_config(self.config.osc_out, self.counters)
        self.router = ControlRouter(
            self.registry,
            bindings,
            self.config.combine,
            self.counters,
            self.config.osc.query_address,
            responder=self.osc_out,
            on_learn=lambda spec: log.warning("learned binding:\n%s", spec.to_toml()),
        )
        self.inputs: dict[str, Any] = {}
        self.input_failures: dict[str, str] = {}
        self.recorder = EventRecorder(record) if record else None
        rp = self.config.replay
        self.show_replay = (
            ShowTimeReplay(rp.path, rp.speed, rp.start, rp.loop) if rp is not None and rp.timing == "show" else None
        )
        self.track = track  # the soundtrack's features (audio_file.TrackSource), drained at show time
        self.timed: list[Any] = []  # more sources drained at show time (``due(show_t)``): synced cues
        self.changes = ChangeLog()  # walk changes at the show times they were scheduled for (sync)
        self.beats = audio_beats.beat_source(track)  # the playhead's beat (cues at_beat): the track's, or followed

    @staticmethod
    def track_of(show: Any, audio: str | Path | None = None) -> Any:
        """The show's ``[audio]`` track (or ``audio``, a file that overrides it) as a TrackSource."""
        cfg = getattr(show, "audio", None)
        if cfg is None and audio is None:
            return None
        from .audio_file import TrackSource

        source = getattr(show, "source", None)
        return TrackSource.from_config(cfg, source.parent if source else None, audio)

    @classmethod
    def from_show(cls, show: Any, record: str | Path | None = None, audio: str | Path | None = None) -> Control:
        config, bindings = _tables(show)
        return cls(layout_from_show(show, config), config, bindings, record, cls.track_of(show, audio))

    def relayout(self, show: Any) -> None:
        """A reloaded show: its addresses and bindings replace ours, values of addresses that remain
        are kept, inputs keep running (their settings apply at the next start).  On a bad binding
        the old layout stays and ValueError says why."""
        config, bindings = _tables(show)
        registry = build_registry(layout_from_show(show, config), config, self.counters)
        router = ControlRouter(
            registry,
            bindings,
            config.combine,
            self.counters,
            self.config.osc.query_address,
            responder=self.osc_out,
            on_learn=self.router.on_learn,
        )
        for address, value in self.registry.values().items():
            if address in registry and value is not None and registry.param(address).coerce(value)[1] is None:
                registry.set(address, value, quiet=True)
        self.registry, self.router = registry, router

    # -- inputs -----------------------------------------------------------------------------
    def osc_declared(self) -> bool:
        """The show asks for OSC input: it has a ``[control.osc]`` table (without ``enabled = false``).

        A show without one never opens a port (it used to bind 0.0.0.0:9000 by default)."""
        c = self.config
        return c.osc.enabled and ("osc" in c.model_fields_set or "enabled" in c.osc.model_fields_set)

    def wanted_inputs(self, offline: bool = False) -> dict[str, dict]:
        """``{input name: options}`` for the inputs this show enables.

        ``offline`` (a fixed-step render): none that listen, since live input in a render would make
        it differ from run to run; a show-timed replay still plays (it is drained per frame)."""
        c = self.config
        wanted: dict[str, dict] = {}
        if offline:
            return wanted
        if self.osc_declared():
            wanted["osc"] = c.osc.model_dump()
        if c.midi.enabled:
            wanted["midi"] = {"port": c.midi.port}
        if c.audio.enabled:
            wanted["audio"] = c.audio.model_dump(exclude={"enabled"})
        if c.serial.enabled:
            wanted["serial"] = {"port": c.serial.port, "baud": c.serial.baud}
        if c.replay is not None and c.replay.timing == "wall":
            wanted["replay"] = c.replay.model_dump(exclude={"timing", "start"})
        return wanted

    def start_inputs(self, factories: dict | None = None, offline: bool = False) -> None:
        """Start the enabled inputs through the ``register_inputs`` factories (built-ins by default);
        ``offline`` starts none (see :meth:`wanted_inputs`)."""
        if factories is None:
            from .builtin_inputs import register_inputs

            factories = register_inputs()
        for name, options in self.wanted_inputs(offline).items():
            factory = factories.get(name)
            if factory is None:
                self.input_failures[name] = f"no input source {name!r} is registered"
                continue
            try:
                self.inputs[name] = factory(self.events, **options).start()
            except Exception as exc:  # a missing device costs that input, never the show
                self.input_failures[name] = f"{type(exc).__name__}: {exc}"
                log.error("control input %s could not start: %s", name, self.input_failures[name])

    def stop(self) -> None:
        for inp in self.inputs.values():
            try:
                inp.stop()
            except Exception:
                pass
        self.inputs.clear()
        self.osc_out.close()
        if self.recorder is not None:
            self.recorder.close()

    # -- per frame --------------------------------------------------------------------------
    def frame(self, dt: float, show_t: float | None = None) -> FrameControl:
        """Drain the queue (and show-timed replay events due at ``show_t``), apply events and
        bindings, return triggers and changed values."""
        events = self.events.drain()
        if self.show_replay is not None and show_t is not None:
            events = self.show_replay.due(show_t) + events
        if self.track is not None and show_t is not None:
            events = self.track.due(show_t) + events
        for source in self.timed if show_t is not None else ():
            events = source.due(show_t) + events
        if self.recorder is not None and events:
            self.recorder.record(events)
        audio_beats.observe(self.beats, events, show_t)
        if any(e.at is not None for e in events):
            self._apply_stamped(events, dt)
        else:
            self.router.update(events, dt)
        return FrameControl(events, self.registry.pop_triggers(), self.registry.pop_changes())

    def _apply_stamped(self, events: list[ControlEvent], dt: float) -> None:
        """Scheduled events (``[sync]``): in order, one run per show time, logging walk changes at it."""
        for at, run in runs(events):
            if at is None:
                self.router.apply(run)
                continue
            before = walk_values(self.registry.values())
            self.router.apply(run)
            self.changes.add(at, before, walk_values(self.registry.values()))
        self.router.step(dt)

    def rejected(self) -> int:
        snap = self.counters.snapshot()
        return sum(snap.get(k, 0) for k in REJECT_COUNTERS)

    def health(self, extra: Iterable[str] = ()) -> str:
        """``ok`` or ``degraded: ...`` naming failed inputs and anything else the app reports."""
        problems = [f"{name} input down" for name in self.input_failures]
        now = time.monotonic()
        problems += [
            f"{name} input stalled"
            for name, inp in self.inputs.items()
            if callable(getattr(inp, "stalled", None)) and inp.stalled(now)
        ]
        problems += list(extra)
        return "ok" if not problems else "degraded: " + "; ".join(problems)

    def publish(self, state: dict[str, Any], changes: dict[str, Any] | None = None) -> None:
        self.osc_out.publish(state, changes)
