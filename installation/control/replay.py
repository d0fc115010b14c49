"""Record control events to JSON lines and replay them with their original timing.

A rehearsal with the performer is recorded (the render loop writes what it drained), then
replayed to test a show, debug a binding or soak-test without any hardware.  One event a line:
``{"t": seconds since the first event, "address": "/1/fader1", "args": [0.5], "source": "..."}``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .events import ControlEvent, EventQueue
from .input_thread import InputThread


class ReplayError(ValueError):
    """A replay file is unreadable; the message names file and line."""


def _json_args(args: tuple) -> list:
    return [
        a
        for a in args
        if isinstance(a, (bool, int, float, str)) and not (isinstance(a, float) and not math.isfinite(a))
    ]


class EventRecorder:
    """Appends drained events to a JSON-lines file (call from the render loop)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = self.path.open("w")
        self._t0: float | None = None
        self.count = 0

    def record(self, events: Iterable[ControlEvent]) -> None:
        for ev in events:
            if self._t0 is None:
                self._t0 = ev.arrival
            line = {
                "t": round(ev.arrival - self._t0, 6),
                "address": ev.address,
                "args": _json_args(ev.args),
                "source": ev.source,
            }
            self._fh.write(json.dumps(line) + "\n")
            self.count += 1
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_events(path: str | Path) -> list[tuple[float, str, tuple, str]]:
    """``[(t, address, args, source)]`` sorted by ``t``; :class:`ReplayError` names file:line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read ({exc.strerror})") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(line)
            t, address = float(obj["t"]), obj["address"]
            args = tuple(obj.get("args", ()))
            if not isinstance(address, str) or not address.startswith("/") or not math.isfinite(t):
                raise ValueError("address must start with /")
        except (ValueError, KeyError, TypeError) as exc:
            raise ReplayError(f"{path}:{n}: not a control event ({exc})") from None
        out.append((t, address, args, str(obj.get("source", "replay"))))
    out.sort(key=lambda e: e[0])
    return out


class Replay(InputThread):
    """Enqueues a recorded file's events in a thread, ``speed`` times real time, optionally looping."""

    def __init__(
        self,
        events: EventQueue,
        path: str | Path,
        speed: float = 1.0,
        loop: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.events = events
        self.path = Path(path)
        self.items = read_events(self.path)
        self.speed = speed
        self.loop = loop
        self.clock = clock
        self._init_thread()

    def feed_all(self) -> int:
        """Enqueue everything at once (tests, and offline renders driven by a fixed-step clock)."""
        now = self.clock()
        return sum(self.events.put(ControlEvent(a, args, f"replay:{src}", now)) for _, a, args, src in self.items)

    def start(self) -> Replay:
        self._spawn(f"replay:{self.path.name}")
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                t0 = self.clock()
                for t, address, args, src in self.items:
                    delay = t0 + t / self.speed - self.clock()
                    if delay > 0 and self._stop.wait(delay):
                        return
                    self.events.put(ControlEvent(address, args, f"replay:{src}", self.clock()))
                if not self.loop or not self.items:
                    return
        finally:
            self.done.set()

    def stop(self) -> None:
        self._join()


class ShowTimeReplay:
    """Recorded events keyed to show time, drained by the render loop (no thread, deterministic)."""

    def __init__(self, path: str | Path, speed: float = 1.0, start: float = 0.0, loop: bool = False) -> None:
        self.path = Path(path)
        self.items = read_events(self.path)
        self.speed, self.start, self.loop = speed, start, loop
        self.length = (self.items[-1][0] / speed) if self.items else 0.0
        self._next = 0
        self._cycle = 0

    def due(self, show_t: float) -> list[ControlEvent]:
        """Events whose time has come at show time ``show_t`` (each delivered once, in order)."""
        out: list[ControlEvent] = []
        while self.items:
            if self._next >= len(self.items):
                if not self.loop or self.length <= 0:
                    break
                self._next, self._cycle = 0, self._cycle + 1
            t, address, args, src = self.items[self._next]
            at = self.start + self._cycle * self.length + t / self.speed
            if at > show_t:
                break
            out.append(ControlEvent(address, args, f"replay:{src}", at))
            self._next += 1
        return out
