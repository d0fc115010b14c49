"""Cues and live control on every host at one show time.

An input message that reaches any host (OSC, MIDI, a key) is not applied there at once: it is
given a show time ``cue_lead`` seconds ahead, sent to the other hosts, and put in this host's
:class:`CueSchedule`; each host applies it on its first frame at or after that show time.  Show
time is shared, so the cue lands on the same show time everywhere.  Messages from the peer bus
are only scheduled, never sent on again; audio features and OSC queries stay local.

Each host keeps the cues it played (the last :data:`HISTORY`); a host that starts, or restarts
after a kill, says hello and the others send them again, so it replays them on its first frame
and stands where they stand (the scene a GO moved to, a fader's value), not where the timeline
alone would put it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from ..control.events import ControlEvent, EventQueue
from .epoch import Message, wire_args

log = logging.getLogger(__name__)

#: sources of events that are never forwarded: the peer bus itself
PEER_SOURCE = "sync:"
LOCAL_PREFIXES = ("/audio/",)
HISTORY = 512
#: show seconds within which copies of one broadcast message count as one cue (a double tap is slower)
COPY_WINDOW = 0.05


def _log_cue(address: str, at: float, sender: str) -> None:
    log.info(
        "sync: %s scheduled at show time %.3f s%s",
        address,
        at,
        f" (from host {sender})" if sender else "",
        extra={"event": "sync_cue", "address": address, "at": at, "sender": sender},
    )


class CueSchedule:
    """Events waiting for their show time; ``due(show_t)`` is drained once a frame by the control.

    One message sent to a broadcast or multicast address reaches every host, and every host
    schedules and sends on its own copy: copies from different hosts with one source, address and
    arguments within :data:`COPY_WINDOW` s of show time are one cue, played at the earliest copy's
    time (ties by host id), so every host keeps the same one.
    """

    def __init__(self) -> None:
        self._heap: list[list] = []  # [at, order, event, msg, cancelled]
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._seen: set[tuple[str, int]] = set()  # (sender, cue number): a cue that comes twice plays once
        self._seen_order: deque[tuple[str, int]] = deque()
        self._pending: dict[tuple, list] = {}  # (source, address, args) -> the waiting entry
        self._played: deque[Message] = deque(maxlen=HISTORY)
        self.copies = 0  # copies of one broadcast cue dropped

    def add(self, at: float, event: ControlEvent, msg: Message | None = None) -> None:
        """``msg``: the cue as it travels, kept once played for hosts that start later."""
        entry = [at, next(self._order), event, msg, False]
        with self._lock:
            if msg is not None:
                self._remember((msg.host, msg.seq))
                if msg.source and not self._first_copy(entry, msg):
                    return
            heapq.heappush(self._heap, entry)

    def _first_copy(self, entry: list, msg: Message) -> bool:
        """Whether ``entry`` is to wait (it is the earliest copy of its cue); cancels a later one."""
        key = (msg.source, msg.address, msg.args)
        other = self._pending.get(key)
        if other is not None and not other[4] and other[3].host != msg.host and abs(other[0] - msg.at) < COPY_WINDOW:
            self.copies += 1
            if (other[0], other[3].host) <= (msg.at, msg.host):
                return False
            other[4] = True  # the copy waiting is the later one: this one plays instead
        self._pending[key] = entry
        return True

    def _remember(self, key: tuple[str, int]) -> None:
        self._seen.add(key)
        self._seen_order.append(key)
        if len(self._seen_order) > 4 * HISTORY:
            self._seen.discard(self._seen_order.popleft())

    def add_peer(self, msg: Message) -> bool:
        """A cue from another host; False for a repeat (a datagram that came twice, a resent history)."""
        with self._lock:
            if (msg.host, msg.seq) in self._seen:
                return False
        self.add(msg.at, ControlEvent(msg.address, msg.args, source=f"{PEER_SOURCE}{msg.host}"), msg)
        _log_cue(msg.address, msg.at, msg.host)
        return True

    def due(self, show_t: float) -> list[ControlEvent]:
        out: list[ControlEvent] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= show_t:
                at, _, event, msg, cancelled = heapq.heappop(self._heap)
                if msg is not None and msg.source:
                    key = (msg.source, msg.address, msg.args)
                    if self._pending.get(key, [None] * 5)[3] is msg:
                        del self._pending[key]
                if cancelled:
                    continue
                out.append(replace(event, at=at))  # walks record the change at ``at``, not at this frame
                if msg is not None:
                    self._played.append(msg)
        return out

    def played(self) -> list[Message]:
        """The cues played so far, oldest first (what a starting host is sent)."""
        with self._lock:
            return list(self._played)

    def __len__(self) -> int:
        with self._lock:
            return sum(not e[4] for e in self._heap)


class ForwardingQueue(EventQueue):
    """The control queue of a synchronised host: what its inputs put is scheduled and sent on."""

    def __init__(
        self,
        inner: EventQueue,
        schedule: CueSchedule,
        cue_time: Callable[[], float],
        send: Callable[[float, int, ControlEvent, tuple], Message | None],
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
        msg = self.send(at, next(self._seq), event, args)
        self.schedule.add(at, event, msg)  # the original event, so a reply still finds its sender
        _log_cue(event.address, at, "")
        self.accepted += 1
        return True
