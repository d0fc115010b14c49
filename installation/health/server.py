"""``GET /status``: the health snapshot as JSON over HTTP, on loopback unless told otherwise.

Standard-library server in a daemon thread; it only calls the snapshot function, which reads
plain attributes, so a slow or hostile client never touches the render loop.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path not in ("/", "/status", "/healthz"):
            self._send(404, {"error": f"no such path {path!r}; try /status"})
            return
        try:
            doc = self.server.snapshot()
        except Exception as exc:  # the endpoint reports; it never raises into the server thread
            self._send(500, {"status": "error", "error": f"{type(exc).__name__}: {exc}"})
            return
        if path == "/healthz":
            ok = doc.get("status") == "running"
            self._send(200 if ok else 503, {"status": doc.get("status")})
        else:
            self._send(200, doc)

    def _send(self, code: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc, default=str).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("status %s " + fmt, self.client_address[0], *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    snapshot: Callable[[], dict[str, Any]]


class StatusServer:
    """Serve ``snapshot()`` at ``http://host:port/status`` (port 0 picks a free one: see :attr:`port`)."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]], port: int = 8787, host: str = "127.0.0.1"):
        self._server = _Server((host, port), _Handler)
        self._server.snapshot = snapshot
        bound_host, bound_port = self._server.server_address[:2]
        self.host: str = bound_host if isinstance(bound_host, str) else bound_host.decode()  # AF_INET: a str
        self.port: int = bound_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.25}, name="status-http", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/status"

    def start(self) -> StatusServer:
        self._thread.start()
        log.info("status endpoint at %s", self.url, extra={"event": "status_endpoint", "url": self.url})
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
