"""Art-Net and sACN outputs: the map's channel levels, at most 44 packets a second per universe.

``write`` runs on the render thread and does little: when a packet is due (every 1/``rate``
seconds of wall time, ``rate`` ≤ 44, the DMX refresh limit) it takes the map's levels from
``frame.rgb()`` (region means over a strided view) and ``frame.values()`` (parameters), and hands
them to the sender thread; a newer set replaces one not yet sent (latest wins).  The sender owns
the UDP socket and never blocks the loop; ``close`` sends what is pending, then stops.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time

from installation.api import OptionError, OutputError

from .mapping import parse_map
from .packets import ARTNET_PORT, SACN_PORT, artdmx, e131

log = logging.getLogger(__name__)

MAX_RATE = 44.0


class _DmxOutput:
    protocol = "dmx"
    default_port = 0
    universes = (0, 0)

    def __init__(self, map=None, target: str = "127.0.0.1", port: int | None = None, rate: float = MAX_RATE, **extra):
        if extra:
            key = sorted(extra)[0]
            raise OptionError(
                key,
                "unknown key",
                f"a {self.protocol} output takes map, target, port, rate"
                + (", source, priority" if self.protocol == "sacn" else ""),
            )
        try:
            ipaddress.ip_address(target)
        except (ValueError, TypeError):
            raise OptionError(
                "target", f"must be an IP address (the node or console to send to), got {target!r}"
            ) from None
        port = self.default_port if port is None else port
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise OptionError("port", f"must be a UDP port 1 … 65535, got {port!r}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= MAX_RATE:
            raise OptionError(
                "rate", f"must be packets per second per universe, 0 < rate <= {MAX_RATE:g}, got {rate!r}"
            )
        self.entries = parse_map(map, self.universes)
        self.target, self.port, self.rate = target, port, float(rate)
        self.channels: dict[int, bytearray] = {e.universe: bytearray(512) for e in self.entries}
        self._cond = threading.Condition()
        self._pending: dict[int, bytes] | None = None
        self._stop = False
        self._next_due = 0.0
        self._sequence = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.sent = 0

    def open(self, canvas) -> None:
        family = socket.AF_INET6 if ipaddress.ip_address(self.target).version == 6 else socket.AF_INET
        try:
            self._sock = socket.socket(family, socket.SOCK_DGRAM)
            self._sock.connect((self.target, self.port))
        except OSError as exc:
            raise OutputError(
                f"cannot send {self.protocol} to {self.target}:{self.port}: {exc.strerror or exc}"
            ) from None
        self._thread = threading.Thread(target=self._run, name=f"{self.protocol} {self.target}", daemon=True)
        self._thread.start()

    def write(self, frame) -> None:
        now = time.monotonic()
        if now < self._next_due:
            return
        self._next_due = max(self._next_due + 1.0 / self.rate, now)
        rgb = frame.rgb() if any(e.region is not None for e in self.entries) else None
        values = frame.values() if any(e.parameter is not None for e in self.entries) else {}
        for e in self.entries:
            data = self.channels[e.universe]
            data[e.channel - 1 : e.channel - 1 + e.width] = bytes(e.levels(rgb, values))
        with self._cond:
            self._pending = {u: bytes(d) for u, d in self.channels.items()}
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._pending is None:
                    return
                universes, self._pending = self._pending, None
            self._send(universes)

    def _send(self, universes: dict[int, bytes]) -> None:
        self._sequence = self._sequence % 255 + 1  # 1 … 255; 0 would mean "no sequencing"
        sock = self._sock
        if sock is None:  # closed (the thread is joined before the socket closes)
            return
        for universe, data in universes.items():
            try:
                sock.send(self.packet(universe, self._sequence, data))
                self.sent += 1
            except OSError as exc:  # an unreachable node costs packets, never the loop
                log.warning("%s to %s:%d universe %d: %s", self.protocol, self.target, self.port, universe, exc)

    def packet(self, universe: int, sequence: int, data: bytes) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        if self._thread is not None:
            with self._cond:
                self._stop = True
                self._cond.notify()
            self._thread.join(timeout=5)  # the pending levels are sent first
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def describe(self) -> str:
        return f"{self.protocol} {self.target}:{self.port} universes {sorted(self.channels)}"


class ArtNetOutput(_DmxOutput):
    """``[[outputs]] type = "artnet"``: ArtDmx to ``target`` (default 127.0.0.1) on UDP 6454."""

    protocol = "artnet"
    default_port = ARTNET_PORT
    universes = (0, 0x7FFF)

    def packet(self, universe: int, sequence: int, data: bytes) -> bytes:
        return artdmx(universe, sequence, data)


class SacnOutput(_DmxOutput):
    """``[[outputs]] type = "sacn"``: E1.31 unicast to ``target`` (default 127.0.0.1) on UDP 5568;
    ``source`` names this sender on the console, ``priority`` 0 … 200 (default 100)."""

    protocol = "sacn"
    default_port = SACN_PORT
    universes = (1, 63999)

    def __init__(
        self,
        map=None,
        target: str = "127.0.0.1",
        port: int | None = None,
        rate: float = MAX_RATE,
        source: str = "installation",
        priority: int = 100,
        **extra,
    ):
        if not isinstance(source, str) or not source:
            raise OptionError("source", f"must be a non-empty name, got {source!r}")
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 200:
            raise OptionError("priority", f"must be an integer 0 … 200, got {priority!r}")
        super().__init__(map, target, port, rate, **extra)
        self.source, self.priority = source, priority
        self.cid = os.urandom(16)  # one sender identity per run, as E1.31 asks

    def packet(self, universe: int, sequence: int, data: bytes) -> bytes:
        return e131(universe, sequence, data, self.cid, self.source, self.priority)
