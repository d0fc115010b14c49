"""``GET /status``: the health snapshot as JSON over HTTP, on loopback unless told otherwise.

One thread with a selector loop, not a thread per connection: an idle, half-open or slowloris
client costs a socket and a few bytes of buffer, never a thread, and is closed when its request
has not arrived within ``request_timeout`` seconds (however slowly it trickles in).  At most
``max_connections`` are kept; beyond that the oldest is dropped.  A client that resets the
connection or vanishes is counted and forgotten, without a traceback.  The server only calls the
snapshot function, which reads plain attributes, so no client ever touches the render loop.
"""

from __future__ import annotations

import json
import logging
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MAX_REQUEST = 8192  # bytes of request line and headers; a GET needs a few hundred


class _Conn:
    __slots__ = ("sock", "inbuf", "outbuf", "deadline", "born")

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.inbuf = b""
        self.outbuf = b""
        self.deadline = deadline
        self.born = time.monotonic()


def _response(code: int, doc: dict[str, Any]) -> bytes:
    reason = {
        200: "OK",
        400: "Bad Request",
        404: "Not Found",
        405: "Method Not Allowed",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }[code]
    body = json.dumps(doc, default=str).encode()
    head = (
        f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class StatusServer:
    """Serve ``snapshot()`` at ``http://host:port/status`` (port 0 picks a free one: see :attr:`port`)."""

    def __init__(
        self,
        snapshot: Callable[[], dict[str, Any]],
        port: int = 8787,
        host: str = "127.0.0.1",
        request_timeout: float = 5.0,
        max_connections: int = 512,
    ):
        self.snapshot = snapshot
        self.request_timeout = float(request_timeout)
        self.max_connections = int(max_connections)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind((host, port))
            self._listener.listen(128)
        except OSError:
            self._listener.close()
            raise
        self._listener.setblocking(False)
        self.host, self.port = self._listener.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._conns: dict[int, _Conn] = {}
        self._stop = threading.Event()
        self.counts: Counter[str] = Counter()  # served, timed_out, reset, evicted, bad_request
        self._thread = threading.Thread(target=self._run, name="status-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/status"

    @property
    def connections(self) -> int:
        return len(self._conns)

    def start(self) -> StatusServer:
        self._thread.start()
        log.info("status endpoint at %s", self.url, extra={"event": "status_endpoint", "url": self.url})
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        for conn in list(self._conns.values()):
            self._drop(conn)
        try:
            self._selector.unregister(self._listener)
        except (KeyError, ValueError):
            pass
        self._listener.close()
        self._selector.close()

    # -- the loop ---------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                events = self._selector.select(timeout=0.25)
            except OSError:
                continue
            for key, mask in events:
                if key.data is None:
                    self._accept()
                    continue
                conn = key.data
                try:
                    if mask & selectors.EVENT_READ:
                        self._read(conn)
                    if conn.outbuf and mask & selectors.EVENT_WRITE:
                        self._write(conn)
                except (ConnectionError, TimeoutError, OSError):
                    self.counts["reset"] += 1
                    self._drop(conn)
                except Exception:  # never let one client end the endpoint
                    log.debug("status client error", exc_info=True)
                    self.counts["errors"] += 1
                    self._drop(conn)
            self._expire()

    def _accept(self) -> None:
        for _ in range(64):
            try:
                sock, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. out of file descriptors: shed the oldest client
                self._evict_oldest()
                return
            sock.setblocking(False)
            if len(self._conns) >= self.max_connections:
                self._evict_oldest()
            conn = _Conn(sock, time.monotonic() + self.request_timeout)
            self._conns[sock.fileno()] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn) -> None:
        data = conn.sock.recv(4096)
        if not data:  # the client closed (or half-closed before asking anything)
            self._drop(conn)
            return
        if conn.outbuf:
            return  # already answering; extra bytes are ignored
        conn.inbuf += data
        if b"\r\n\r\n" not in conn.inbuf and b"\n\n" not in conn.inbuf:
            if len(conn.inbuf) > MAX_REQUEST:
                self.counts["bad_request"] += 1
                self._answer(conn, 400, {"error": "request too large"})
            return
        line = conn.inbuf.split(b"\n", 1)[0].decode("latin-1").strip()
        parts = line.split()
        if len(parts) < 2:
            self.counts["bad_request"] += 1
            self._answer(conn, 400, {"error": "bad request line"})
        elif parts[0] not in ("GET", "HEAD"):
            self._answer(conn, 405, {"error": f"{parts[0]} not allowed; GET /status"})
        else:
            self._answer(conn, *self._route(parts[1]))

    def _route(self, target: str) -> tuple[int, dict[str, Any]]:
        path = target.split("?", 1)[0].rstrip("/") or "/"
        if path not in ("/", "/status", "/healthz"):
            return 404, {"error": f"no such path {path!r}; try /status"}
        try:
            doc = self.snapshot()
        except Exception as exc:  # the endpoint reports; it never raises into the loop
            return 500, {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        if path == "/healthz":
            return (200 if doc.get("status") == "running" else 503), {"status": doc.get("status")}
        return 200, doc

    def _answer(self, conn: _Conn, code: int, doc: dict[str, Any]) -> None:
        conn.outbuf = _response(code, doc)
        conn.deadline = time.monotonic() + self.request_timeout  # time to take the answer
        self.counts["served"] += 1
        self._selector.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        self._write(conn)

    def _write(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.outbuf)
        except (BlockingIOError, InterruptedError):
            return
        conn.outbuf = conn.outbuf[sent:]
        if not conn.outbuf:
            try:
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self._drop(conn)

    def _expire(self) -> None:
        now = time.monotonic()
        for conn in [c for c in self._conns.values() if c.deadline < now]:
            self.counts["timed_out"] += 1
            self._drop(conn)

    def _evict_oldest(self) -> None:
        if self._conns:
            oldest = min(self._conns.values(), key=lambda c: c.born)
            self.counts["evicted"] += 1
            self._drop(oldest)

    def _drop(self, conn: _Conn) -> None:
        try:
            fd = conn.sock.fileno()
        except OSError:
            fd = -1
        if fd >= 0:
            self._conns.pop(fd, None)
            try:
                self._selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        else:
            for k, c in list(self._conns.items()):
                if c is conn:
                    del self._conns[k]
        conn.sock.close()
