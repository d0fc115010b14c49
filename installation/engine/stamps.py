"""What a worker needs to know of stamped walk changes (``[sync]``): place them, find what they reach.

The walk control of a synchronised show carries the changes stamped with the show time they were
scheduled for (:mod:`installation.control.stamps`); a worker adds its scene's origin (the show
time of local 0), so the walk counts each change from the same local time on every host.  A
keyframe made with an older log is stale from the earliest local time a newer change reaches.
"""

from __future__ import annotations

from ..walks.common import CHANGES_KEY, ORIGIN_KEY

__all__ = ["CHANGES_KEY", "newest", "placed", "reach", "stamped"]


def placed(walk: dict, origin: float | None) -> dict:
    """``walk`` with this scene's origin added (a new dict), when it carries stamped changes."""
    if origin is None or CHANGES_KEY not in walk:
        return walk
    return {**walk, ORIGIN_KEY: origin}


def stamped(control: tuple[dict, dict] | None) -> tuple:
    """The stamped entries ``((seq, show time, diff), ...)`` of a ``(walk, post)`` control, or ``()``."""
    if not control:
        return ()
    changes = control[0].get(CHANGES_KEY)
    return changes[1] if changes else ()


def newest(control: tuple[dict, dict] | None) -> int:
    entries = stamped(control)
    return entries[-1][0] if entries else -1


def reach(entries: tuple, seen: int, origin: float) -> float:
    """The earliest local time changes newer than ``seen`` take effect (``inf`` when there are none).

    Changes scheduled before the run began count from local 0.
    """
    out = float("inf")
    for seq, at, _ in reversed(entries):
        if seq <= seen:
            break
        out = min(out, max(at - origin, 0.0))
    return out
