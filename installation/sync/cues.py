"""Cues and live control on every host at one show time.

An input message that reaches any host (OSC, MIDI, a key) is not applied there at once: it is
given a show time ``cue_lead`` seconds ahead, sent to the other hosts, and put in this host's
:class:`CueSchedule`; each host applies it on its first frame at or after that show time.  Show
time is shared, so the cue lands on the same show time everywhere.  Messages from the peer bus
are only scheduled, never sent on again; audio features and OSC queries stay local.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable

from ..control.events import ControlEvent, EventQueue
from .epoch import Message, wire_args

log = logging.getLogger(__name__)

#: sources of events that are never forwarded: the peer bus itself
PEER_SOURCE = "sync:"
LOCAL_PREFIXES = ("/audio/",)


class CueSchedule:
    """Events waiting for their show time; ``due(show_t)`` is drained once a frame by the control."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, ControlEvent]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}  # sender -> highest cue number applied (repeats are dropped)

    def add(self, at: float, event: ControlEvent) -> None:
        with self._lock:
            heapq.heappush(self._heap, (at, next(self._order), event))

    def add_peer(self, msg: Message) -> bool:
        """A cue from another host; False for a repeat (a datagram that came twice)."""
        with self._lock:
            if msg.seq <= self._seen.get(msg.host, -1):
                return False
            self._seen[msg.host] = msg.seq
            if len(self._seen) > 4096:
                self._seen.clear()
        self.add(msg.at, ControlEvent(msg.address, msg.args, source=f"{PEER_SOURCE}{msg.host}"))
        return True

    def due(self, show_t: float) -> list[ControlEvent]:
        out: list[ControlEvent] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= show_t:
                out.append(heapq.heappop(self._heap)[2])
        return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)


class ForwardingQueue(EventQueue):
    """The control queue of a synchronised host: what its inputs put is scheduled and sent on."""

    def __init__(
        self,
        inner: EventQueue,
        schedule: CueSchedule,
        cue_time: Callable[[], float],
        send: Callable[[float, int, ControlEvent, tuple], None],
        local_addresses: tuple[str, ...] = (),
    ):
        super().__init__(inner.maxsize, inner.counters)
        self.schedule, self.cue_time, self.send = schedule, cue_time, send
        self.local_addresses = set(local_addresses)
        self._seq = itertools.count()

    def _local(self, event: ControlEvent) -> bool:
        return (
            event.source.startswith(PEER_SOURCE)
            or event.address in self.local_addresses
            or event.address.startswith(LOCAL_PREFIXES)
        )

    def put(self, event: ControlEvent) -> bool:
        args = None if self._local(event) else wire_args(event.args)
        if args is None:
            return super().put(event)
        at = self.cue_time()
        self.schedule.add(at, event)  # the original, so a reply still finds its sender
        self.send(at, next(self._seq), event, args)
        self.accepted += 1
        return True
