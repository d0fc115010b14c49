"""Control routing: one frame's drained control events become show actions and frame values.

Triggers (``/cue/go``, ``/scene/next`` ...) and jump requests (``/scene NAME``, ``/scene/index
N``, ``/cue/goto NAME``) move the playhead; the jump values are put back afterwards so the same
scene or cue can be asked for again.  Everything else stays in the parameter registry, where
update reads it: the output gain, the walks' control state and the post chain's switches.
Runs on the render thread only, inside the app's update.
"""

from __future__ import annotations

from typing import Any

from ..control.system import Control
from ..show.playhead import Playhead
from ..show.schema import Show, Transition
from ..walks.common import CHANGES_KEY

#: value parameters that are requests to act, not state: handled, then put back
ACTIONS = ("/scene", "/scene/index", "/cue/goto")


class ControlRouting:
    def __init__(self, control: Control, playhead: Playhead):
        self.control = control
        self.playhead = playhead
        if getattr(playhead, "beats", None) is None:  # the runner may have chosen another (a Link session)
            playhead.beats = getattr(control, "beats", None)
        self.changes: dict[str, Any] = {}  # this frame's changed values (echoed to controllers)
        self._version = -1

    @property
    def registry(self):
        return self.control.registry

    def live_transition(self) -> Transition | None:
        """``/transition/time`` when set: the transition of scene changes fired live."""
        live = self.registry.get("/transition/time")
        if live is None:
            return None
        return Transition(duration=float(live), curve="smooth" if live > 0 else "cut")

    def handle(self, show: Show, t: float, address: str, *args) -> None:
        """Apply a control action (keyboard and OSC alike): GO, standby, next/prev, goto a cue or scene."""
        ph = self.playhead
        tr = self.live_transition()
        if address in ("/scene/next", "/cue/go"):
            ph.go(tr)
        elif address in ("/cue/next", "/cue/prev"):
            ph.move_standby(1 if address == "/cue/next" else -1)
        elif address == "/scene/prev":
            cur = ph.timeline.current(t)
            n = len(ph.timeline.actions)
            k = (cur.cue if cur else 0) - 1
            ph.goto(k % n if show.loop else max(k, 0), tr)
        elif address == "/scene/index" and args:
            self.goto_scene(show, int(args[0]), tr)
        elif address in ("/cue/goto", "/scene") and args:
            cue = ph.cue_index(args[0])
            if cue is not None:
                ph.goto(cue, tr)

    def goto_scene(self, show: Show, index: int, transition: Transition | None = None) -> None:
        """Fire the first cue that plays scene ``index`` (with that cue's transition unless overridden)."""
        index = min(max(int(index), 0), len(show.scenes) - 1)
        k = self.playhead.cue_index(show.scenes[index].name)
        if k is not None:
            self.playhead.goto(k, transition)

    def apply(self, show: Show, t: float, dt: float, clock_t: float) -> None:
        """Drain the control queue: triggers and jump requests go to :meth:`handle`."""
        fc = self.control.frame(dt, clock_t)
        reg = self.registry
        for address, times in fc.triggers.items():
            for _ in range(times):
                self.handle(show, t, address)
        for address in ACTIONS:
            if address in fc.changes:
                self.handle(show, t, address, fc.changes[address])
                reg.reset(address)  # the same scene or cue can be asked for again
        self.changes = fc.changes

    def brightness(self, show: Show) -> float:
        """The output gain this frame: the show's brightness times ``/output/brightness``, 0 on blackout."""
        reg = self.registry
        return 0.0 if reg.get("/output/blackout") else show.output.brightness * reg.get("/output/brightness", 1.0)

    def walk_control(self) -> dict:
        """Control state for walks (``Walk.latent(t, control)``), keyed by address.

        Only values that are set: ``/walk/truncation`` stays out until it is sent, so a scene's own
        truncation holds until the performer takes it over.
        """
        walk = {
            a: v
            for a, v in self.registry.values().items()
            if v is not None and (a.startswith("/walk/") or a.startswith("/direction/"))
        }
        changes = getattr(self.control, "changes", None)
        if changes:  # [sync]: the show times walk changes were scheduled for
            walk[CHANGES_KEY] = changes.snapshot()
        return walk

    def post_control(self, show: Show) -> dict:
        """``{stage: (enabled, mix)}`` for the show's post stages (see :class:`PostChain`)."""
        reg = self.registry
        return {
            p.stage: (bool(reg.get(f"/post/{p.stage}/enabled", True)), float(reg.get(f"/post/{p.stage}/mix", 1.0)))
            for scene in show.scenes
            for p in scene.post
        }

    def source_control(self, show: Show) -> tuple[dict, dict] | None:
        """``(walk, post)`` control when the registry changed since the last call, else ``None``."""
        if self.registry.version == self._version:
            return None
        self._version = self.registry.version
        return self.walk_control(), self.post_control(show)

    def relayout(self, show: Show) -> None:
        """A reloaded show: the registry follows its layout (scenes, cues, layers, post stages)."""
        self.control.relayout(show)
        self._version = -1
