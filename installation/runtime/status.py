"""What the show reports: frame rate, the ``/status/...`` state, and sending it to controllers.

:meth:`StatusBoard.measure` runs in update (it moves the fps average and mirrors the scene now
playing into the registry at ``/status/scene`` and ``/status/scene/index``, where ``/query``
finds it; the command addresses ``/scene`` and ``/scene/index`` only ever hold requests).
:meth:`StatusBoard.state` and :meth:`StatusBoard.publish` only read.
"""

from __future__ import annotations

from typing import Any

from ..control.system import Control
from ..health.monitor import health_fields
from ..show.playhead import Playhead
from ..show.schema import Show

#: registry addresses the playing scene is mirrored to (state, not commands)
SCENE_STATE, SCENE_INDEX_STATE = "/status/scene", "/status/scene/index"


class StatusBoard:
    def __init__(self, control: Control, playhead: Playhead):
        self.control = control
        self.playhead = playhead
        self.fps = 0.0
        self._wall_prev: float | None = None

    def measure(self, show: Show, t: float, wall: float) -> None:
        """Update step: the smoothed frame rate, and the scene playing mirrored into the registry."""
        if self._wall_prev is not None and wall > self._wall_prev:
            inst = 1.0 / (wall - self._wall_prev)
            self.fps = inst if self.fps == 0.0 else 0.9 * self.fps + 0.1 * inst
        self._wall_prev = wall
        cur = self.playhead.timeline.current(t)
        reg = self.control.registry
        if cur is not None and SCENE_STATE in reg:
            reg.set(SCENE_STATE, show.scenes[cur.scene].name, quiet=True)
            reg.set(SCENE_INDEX_STATE, cur.scene, quiet=True)

    def standby_name(self) -> str:
        """The cue GO fires now, by name (a cue without a name is called by its scene or playlist)."""
        k = self.playhead.standing_by()
        actions = self.playhead.timeline.actions
        if k is None or not 0 <= k < len(actions):
            return ""
        cue = actions[k].cue
        return cue.name or cue.scene or cue.playlist or str(k)

    def state(self, show: Show, t: float, failed: dict[int, str], health: Any = None) -> dict[str, Any]:
        """What controllers are shown (``/status/...``): scene, standing-by cue, fps, health, refusals.

        ``health`` is the health monitor's snapshot callable (handed over, never read from a global)."""
        cur = self.playhead.timeline.current(t)
        scene = show.scenes[cur.scene].name if cur is not None else ""
        index = cur.scene if cur is not None else -1
        problems = [f"scene {show.scenes[k].name} failed" for k in sorted(failed) if k < len(show.scenes)]
        state = {
            "scene": scene,
            "scene/index": index,
            "cue": self.standby_name(),
            "fps": round(self.fps, 1),
            "health": self.control.health(problems),
            "rejected": self.control.rejected(),
        }
        if self.control.osc_out.targets and health is not None:  # the health endpoint's figures, for controllers too
            state.update(health_fields(health()))
        return state

    def publish(self, state: dict[str, Any], changes: dict[str, Any]) -> None:
        """Send the state to the show's OSC targets (on change, and at the heartbeat)."""
        self.control.publish(state, changes)
