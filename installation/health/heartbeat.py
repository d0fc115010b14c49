"""The heartbeat file a supervised runtime writes and its supervisor watches.

Written by the render loop itself (not a side thread), so a stalled loop stops the beat.  Each
beat replaces the file atomically with ``{"pid", "wall", "t", "frames"}``: the wall-clock time
of the beat and the show time of the frame, from which the supervisor computes where to
resume after a restart.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Beat:
    pid: int
    wall: float  # time.time() of the beat
    t: float  # show time of the last frame
    frames: int


class Heartbeat:
    def __init__(self, path: Path | str, interval: float = 1.0):
        self.path = Path(path)
        self.interval = interval
        self._last = float("-inf")
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def beat(self, t: float, frames: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "wall": time.time(), "t": t, "frames": frames}))
        os.replace(tmp, self.path)


def read_heartbeat(path: Path | str) -> Beat | None:
    """The last beat, or ``None`` when there is none (or it is unreadable)."""
    try:
        doc = json.loads(Path(path).read_text())
        return Beat(int(doc["pid"]), float(doc["wall"]), float(doc["t"]), int(doc["frames"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
