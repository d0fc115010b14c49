"""UDP between the hosts of one show: epoch announcements twice a second, and cues.

One socket, bound to the show's ``[sync] port``, joined to its multicast group (or sending to a
broadcast address).  Multicast goes out with TTL 1: it stays on the venue's network segment, the
same one Link's own discovery (224.76.78.75, UDP 20808) needs.  Every datagram is checked by
:func:`~installation.sync.epoch.decode`; what is not ours is counted, never raised.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable

from ..show.sync_types import SyncConfig
from .epoch import BadMessage, Message, decode, encode

log = logging.getLogger(__name__)


def open_socket(cfg: SyncConfig) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("", cfg.port))
    if cfg.multicast:
        iface = socket.inet_aton(cfg.interface or "0.0.0.0")
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(cfg.address) + iface)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, struct.pack("b", 1))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)  # two hosts on one machine hear each other
        if cfg.interface:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, iface)
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.settimeout(0.1)
    return sock


class PeerBus:
    """A thread that receives (handing our messages to ``on_message``) and announces every ``interval`` s."""

    def __init__(
        self,
        cfg: SyncConfig,
        show: str,
        host: str,
        on_message: Callable[[Message], None],
        announce: Callable[[], Message | None],
        interval: float = 0.5,
    ):
        self.cfg, self.show, self.host = cfg, show, host
        self.on_message, self.announce, self.interval = on_message, announce, interval
        self.received = self.rejected = self.sent = self.send_errors = 0
        try:
            self.sock = open_socket(cfg)
        except OSError as exc:
            from ..problems import Unavailable

            raise Unavailable(
                f"[sync] cannot open UDP {cfg.address}:{cfg.port} for the other hosts: {exc.strerror or exc}"
            ) from None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sync-bus", daemon=True)

    def start(self) -> PeerBus:
        self._thread.start()
        return self

    def send(self, msg: Message) -> None:
        try:
            self.sock.sendto(encode(msg), (self.cfg.address, self.cfg.port))
            self.sent += 1
        except (OSError, BadMessage) as exc:  # a network that is down: the show plays on alone
            self.send_errors += 1
            if self.send_errors in (1, 100) or self.send_errors % 10000 == 0:
                log.warning("sync: cannot send to the other hosts: %s", exc, extra={"event": "sync_send_error"})

    def handle_datagram(self, data: bytes) -> None:
        try:
            msg = decode(data)
        except BadMessage:
            self.rejected += 1
            return
        if msg.show != self.show or msg.host == self.host:
            return
        self.received += 1
        self.on_message(msg)

    def _run(self) -> None:
        next_announce = 0.0
        import time

        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_announce:
                next_announce = now + self.interval
                try:
                    msg = self.announce()
                    if msg is not None:
                        self.send(msg)
                except Exception:  # as below: the bus must outlive a bug, or this host drifts alone
                    log.exception("sync: announcing failed")
            try:
                data, _ = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                self.handle_datagram(data)
            except Exception:  # a bug in a handler must not end the bus: the show would drift alone
                log.exception("sync: message handler failed")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
