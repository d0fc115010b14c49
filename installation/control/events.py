"""Control events and the bounded queue between input threads and the render loop.

Input threads (OSC, MIDI, audio, serial, replay) call :meth:`EventQueue.put`; the render loop
calls :meth:`EventQueue.drain` once a frame.  The queue is bounded so a flood cannot grow memory
without limit; what does not fit is counted in ``dropped`` instead of blocking the producer
(a blocked UDP reader loses datagrams in the kernel where nobody can count them).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from .stats import Counters


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """One input message.

    ``address`` is an OSC-style path: OSC messages keep theirs, MIDI becomes ``/midi/cc/CH/N`` or
    ``/midi/note/CH/N``, serial sensors ``/serial/NAME``, audio ``/audio/level`` and ``/audio/onset``.
    ``source`` names the sender (``"127.0.0.1:53211"``, ``"midi:nanoKONTROL2"``); ``arrival`` is
    :func:`time.monotonic` when the input thread received it.  ``at`` is the show time a
    synchronised host scheduled it for (``[sync]``: the same on every host), else ``None``.
    """

    address: str
    args: tuple = ()
    source: str = ""
    arrival: float = field(default_factory=time.monotonic)
    at: float | None = None

    @property
    def value(self):
        """The first argument, or ``None`` for an argument-less message (a bare trigger)."""
        return self.args[0] if self.args else None


class EventQueue:
    """Thread-safe bounded FIFO; full means the newest event is dropped and counted."""

    def __init__(self, maxsize: int = 65536, counters: Counters | None = None) -> None:
        if maxsize < 1:
            raise ValueError("EventQueue maxsize must be at least 1")
        self.maxsize = maxsize
        self.counters = counters if counters is not None else Counters()
        self._items: deque[ControlEvent] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self.accepted = 0
        self.dropped = 0

    def put(self, event: ControlEvent) -> bool:
        """Append ``event``; returns False (and counts ``queue_full``) when the queue is full."""
        with self._lock:
            if len(self._items) >= self.maxsize:
                self.dropped += 1
                full = True
            else:
                self._items.append(event)
                self.accepted += 1
                full = False
                self._not_empty.notify()
        if full:
            self.counters.incr("queue_full")
        return not full

    def drain(self, limit: int | None = None) -> list[ControlEvent]:
        """Remove and return queued events in arrival order (at most ``limit``)."""
        with self._lock:
            if limit is None or limit >= len(self._items):
                out = list(self._items)
                self._items.clear()
            else:
                out = [self._items.popleft() for _ in range(limit)]
        return out

    def wait(self, timeout: float) -> bool:
        """Block until an event is queued or ``timeout`` passes; True when something is queued."""
        with self._not_empty:
            if self._items:
                return True
            self._not_empty.wait(timeout)
            return bool(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
