"""OSC over UDP: one reader thread that checks, decodes and enqueues, nothing else.

Not python-osc's ThreadingOSCUDPServer (a thread per datagram, bursts lost); our own socket
loop reads datagrams back to back into a large receive buffer and decodes them with python-osc's
packet parser.  Per datagram: source allowlist, then a structural check of our own
(:mod:`.osc_wire`: python-osc trusts the sizes a bundle claims and loops forever on a zero or
negative one), then decoding (bundles are flattened, their time tags ignored: events apply on
the next frame), then a per-source token-bucket rate limit per message.  Everything refused is
counted; on Linux the kernel's own overflow count (``SO_RXQ_OVFL``) is read too, so a burst is
accounted for to the last datagram.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from pythonosc.osc_packet import OscPacket

from .config import OscConfig
from .events import ControlEvent, EventQueue
from .osc_wire import check_datagram
from .stats import Counters

SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)  # Linux value; Python does not export it
MAX_DATAGRAM = 65535


class Allowlist:
    """Source addresses allowed to send; ``"*"`` allows any."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = list(entries)
        self.any = "*" in entries
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries if e != "*"]
        self._cache: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        if self.any:
            return True
        hit = self._cache.get(host)
        if hit is None:
            try:
                ip = ipaddress.ip_address(host)
                hit = any(ip in net for net in self.networks)
            except ValueError:
                hit = False
            if len(self._cache) < 4096:
                self._cache[host] = hit
        return hit


class RateLimiter:
    """Token bucket per source: ``burst`` messages at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, max_sources: int = 1024) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_sources = max_sources
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def allow(self, source: str, now: float) -> bool:
        bucket = self._buckets.get(source)
        if bucket is None:
            if len(self._buckets) >= self.max_sources:
                self._buckets.popitem(last=False)  # forget the stalest source, never grow without bound
            bucket = self._buckets[source] = [self.burst, now]
        else:
            self._buckets.move_to_end(source)
            tokens, last = bucket
            bucket[0] = min(self.burst, tokens + (now - last) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        return False


class OscServer:
    """Reads OSC datagrams on ``host:port`` in a thread and puts :class:`ControlEvent` on ``events``."""

    def __init__(
        self,
        events: EventQueue,
        host: str = "127.0.0.1",
        port: int = 9000,
        allowlist: Iterable[str] = ("127.0.0.1",),
        rate_limit: float = 1000.0,
        burst: int = 20000,
        recv_buffer: int = 4 * 1024 * 1024,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.events = events
        self.host, self.port = host, port
        self.allowlist = Allowlist(allowlist)
        self.limiter = RateLimiter(rate_limit, burst)
        self.recv_buffer = recv_buffer
        self.counters = counters if counters is not None else events.counters
        self.clock = clock
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._kernel_dropped = 0
        self.last_malformed: str | None = None  # why the latest refused datagram was refused
        self.loop_time: float | None = None  # when the reader last went round (stall detection)

    @classmethod
    def from_config(cls, events: EventQueue, config: OscConfig, counters: Counters | None = None) -> OscServer:
        return cls(
            events,
            config.host,
            config.port,
            config.allowlist,
            config.rate_limit,
            config.burst,
            config.recv_buffer,
            counters,
        )

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; with ``port=0`` the port the OS picked."""
        if self._sock is None:
            return self.host, self.port
        return self._sock.getsockname()[:2]

    def start(self) -> OscServer:
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.recv_buffer)
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
            except OSError:
                pass  # not Linux: kernel drops stay invisible
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot listen for OSC on {self.host}:{self.port}: {exc.strerror}") from None
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"osc-in:{self.address[1]}", daemon=True)
        self._thread.start()
        return self

    def stalled(self, now: float, limit: float = 2.0) -> bool:
        """True when the reader thread has died or not gone round its loop for ``limit`` seconds."""
        if self._thread is None:
            return False
        return not self._thread.is_alive() or (self.loop_time is not None and now - self.loop_time > limit)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> OscServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- reading ----------------------------------------------------------------------------
    def _run(self) -> None:
        sock = self._sock
        assert sock is not None  # bound by start() before the thread runs
        cmsg_size = socket.CMSG_SPACE(4)
        while not self._stop.is_set():
            self.loop_time = self.clock()
            try:
                ready, _, _ = select.select([sock], [], [], 0.1)
                if not ready:
                    continue
                # drain everything queued in the kernel before looking at the stop flag again
                while True:
                    try:
                        data, anc, _flags, addr = sock.recvmsg(MAX_DATAGRAM, cmsg_size, socket.MSG_DONTWAIT)
                    except (BlockingIOError, InterruptedError):
                        break
                    for level, kind, payload in anc:
                        if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(payload) >= 4:
                            total = struct.unpack("I", payload[:4])[0]
                            if total > self._kernel_dropped:
                                self.counters.incr("kernel_dropped", total - self._kernel_dropped)
                                self._kernel_dropped = total
                    now = self.loop_time = self.clock()
                    self.handle_datagram(data, addr, now)
            except OSError:
                if self._stop.is_set():
                    return
                self.counters.incr("socket_errors")
                time.sleep(0.01)
            except Exception:  # never let one bad datagram end the reader
                self.counters.incr("errors")

    def handle_datagram(self, data: bytes, addr: tuple, now: float) -> int:
        """Check, decode and enqueue one datagram; returns how many events were queued.

        Socket-free so routing and safety are testable directly (see python-osc's dispatcher).
        """
        self.counters.incr("datagrams")
        self.counters.mark("datagram", now)
        host, port = addr[0], addr[1]
        if not self.allowlist.allows(host):
            self.counters.incr("not_allowed")
            return 0
        why = check_datagram(data)
        if why is not None:
            self.counters.incr("malformed")
            self.last_malformed = why
            return 0
        try:
            messages = [m.message for m in OscPacket(data).messages]
        except Exception:  # ParseError and anything a hostile datagram provokes in the parser
            self.counters.incr("malformed")
            return 0
        source = f"{host}:{port}"
        queued = 0
        for msg in messages:
            self.counters.incr("messages")
            address = msg.address
            if not isinstance(address, str) or not address.startswith("/"):
                self.counters.incr("malformed")
                continue
            if not self.limiter.allow(host, now):
                self.counters.incr("rate_limited")
                continue
            if self.events.put(ControlEvent(address, tuple(msg.params), source, now)):
                self.counters.incr("accepted")
                queued += 1
        return queued
