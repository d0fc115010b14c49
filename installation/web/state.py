"""What the page shows, gathered on the render thread into plain data the HTTP threads only read.

:func:`page_state` runs inside the web output's ``write`` (the render thread, a few times a
second), so it may read the app's model without racing update; the result is a new dict each
time, swapped in whole.  Parameter values are not in it: the HTTP side reads those from the
parameter registry at request time (the registry takes its own lock), so ``/status`` answers
with the value a slider just set as soon as update has applied it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: how many cues after the one standing by the page lists
NEXT_CUES = 5


def cue_name(cue: Any, k: int) -> str:
    return cue.name or cue.scene or cue.playlist or str(k)


def page_state(app: Any, health: Callable[[], dict] | None) -> dict[str, Any]:
    """Scene, cues (standing by first), schedule, and the health snapshot's figures, as JSON-ready data."""
    state = dict(app.state())  # scene, cue (standby), fps, health, rejected
    show = app.show
    actions = app.timeline.actions
    playhead = app.playhead
    standby = playhead.standing_by()
    current = app.timeline.current(app.t)
    cues: list[dict] = []
    if standby is not None and actions:
        k, seen = standby, set()
        while k is not None and k not in seen and len(cues) < NEXT_CUES and 0 <= k < len(actions):
            seen.add(k)
            spec = actions[k].cue
            cues.append(
                {
                    "index": k,
                    "name": cue_name(spec, k),
                    "continue": spec.continue_,
                    "length": round(actions[k].pass_length, 3),
                }
            )
            k = app.timeline.following(k)
    schedule = None
    if show.schedule is not None:
        pos = playhead.position
        schedule = {
            "timezone": show.schedule.timezone,
            "hours": dict(show.schedule.hours),
            "closed": [str(d) for d in show.schedule.closed],
            "outside": show.schedule.outside,
            "open": None if pos is None else pos.open,
            "following": playhead.hours is not None,
        }
    return {
        "show": show.show.name,
        "t": round(app.t, 3),
        "scene": state.get("scene", ""),
        "scenes": [s.name for s in show.scenes],
        "cue": {
            "playing": None if current is None else cue_name(actions[current.cue].cue, current.cue),
            "standby": state.get("cue", ""),
            "next": cues,
        },
        "schedule": schedule,
        "fps": state.get("fps"),
        "health": state.get("health"),
        "rejected": state.get("rejected"),
        "monitor": _health(health),
    }


def _health(health: Callable[[], dict] | None) -> dict[str, Any]:
    if health is None:
        return {}
    try:
        snap = health()
    except Exception as exc:  # the page reports; it never raises into the loop
        return {"error": f"{type(exc).__name__}: {exc}"}
    keys = (
        "uptime_s",
        "fps",
        "target_fps",
        "frames",
        "dropped_frames",
        "frame_ms",
        "plugin_restarts",
        "plugin_faults",
        "supervisor_restarts",
        "failed_scenes",
        "memory",
        "control",
    )
    out = {k: snap[k] for k in keys if k in snap}
    out["plugins"] = {
        name: {k: p.get(k) for k in ("state", "faults", "restarts", "produced") if k in p}
        for name, p in (snap.get("plugins") or {}).items()
    }
    return out
