"""The web page's HTTP side: the page, ``/status``, ``/parameters``, ``/thumbnail.jpg``, ``POST /control``.

Standard-library server in daemon threads.  Requests only read plain data (the page state the
render thread swapped in, the registry's values under its lock, the latest JPEG's bytes) or
enqueue a :class:`ControlEvent` on the show's control queue, as every other input does; update
applies it at the next frame.  Nothing here calls into the app or waits for the render loop.

Off loopback every request but the page's script and style sheet needs the token (``?token=``, an ``X-Token`` header or
``Authorization: Bearer``); the page passes on the one it was opened with.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..control.events import ControlEvent
from ..problems import Unavailable

log = logging.getLogger(__name__)

STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
PUBLIC = ("/app.js", "/style.css")
MAX_BODY = 4096
READ_ONLY_PREFIX = "/status/"


def _static(name: str) -> bytes:
    return resources.files("installation.web").joinpath("static", name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    # -- routing ----------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        if url.path in PUBLIC:  # the page's script and style hold no show data: the page loads them plainly
            name, ctype = STATIC[url.path]
            self._send(200, _static(name), ctype)
            return
        if not self._authorised(url):
            return
        web = self.server.owner
        if url.path in STATIC:
            name, ctype = STATIC[url.path]
            self._send(200, _static(name), ctype)
        elif url.path == "/status":
            self._json(200, web.status())
        elif url.path == "/parameters":
            self._json(200, {"parameters": web.parameters()})
        elif url.path == "/thumbnail.jpg":
            jpeg = web.jpeg()
            if jpeg is None:
                self._json(503, {"error": "no frame yet"})
            else:
                self._send(200, jpeg, "image/jpeg")
        else:
            self._json(404, {"error": f"no such page {url.path!r}; try / or /status"})

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if not self._authorised(url):
            return
        if url.path != "/control":
            self._json(404, {"error": f"no such endpoint {url.path!r}; POST /control"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            self._json(413 if length > MAX_BODY else 400, {"error": f"body must be 1..{MAX_BODY} bytes of JSON"})
            return
        try:
            doc = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            self._json(400, {"error": "body is not JSON"})
            return
        code, answer = self.server.owner.control_request(doc, f"web:{self.client_address[0]}")
        self._json(code, answer)

    # -- helpers ----------------------------------------------------------------------------
    def _authorised(self, url) -> bool:
        token = self.server.owner.token
        if token is None:
            return True
        given = (parse_qs(url.query).get("token") or [None])[0] or self.headers.get("X-Token")
        auth = self.headers.get("Authorization") or ""
        if not given and auth.startswith("Bearer "):
            given = auth[7:]
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return True
        self._json(401, {"error": "this page needs its token: open it as /?token=TOKEN (logged at start)"})
        return False

    def _json(self, code: int, doc: Any) -> None:
        self._send(code, json.dumps(doc, default=str).encode(), "application/json")

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("web %s " + fmt, self.client_address[0], *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: WebServer


class WebServer:
    """The page at ``http://host:port/``.

    ``control`` is the show's :class:`~installation.control.system.Control` (its registry is read
    afresh on each request: a reloaded show replaces it); ``state`` returns the latest page state
    (see :mod:`installation.web.state`); ``jpeg`` the latest thumbnail bytes or None.
    """

    def __init__(
        self,
        control: Any,
        state: Callable[[], dict | None],
        jpeg: Callable[[], bytes | None],
        port: int = 0,
        host: str = "127.0.0.1",
        token: str | None = None,
    ) -> None:
        self.control, self._state, self.jpeg, self.token = control, state, jpeg, token
        try:
            self._server = _Server((host, port), _Handler)
        except OSError as exc:  # port taken, no such address: one line, exit 2
            raise Unavailable(
                f"cannot serve the web page on {host}:{port}: {exc.strerror or exc} "
                "(choose another --web-port / [web] port, or --web-host)"
            ) from None
        self._server.owner = self
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.25}, name="web-http", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def parameters(self) -> list[dict]:
        rows = self.control.registry.describe()
        for row in rows:
            row["writable"] = not row["address"].startswith(READ_ONLY_PREFIX)
        return rows

    def status(self) -> dict[str, Any]:
        doc = dict(self._state() or {"show": None})
        doc["params"] = self.control.registry.values()  # every declared (non-trigger) parameter, now
        return doc

    def control_request(self, doc: Any, source: str) -> tuple[int, dict]:
        """Check ``{"address": ..., "value": ...}`` against the registry and enqueue it."""
        if not isinstance(doc, dict) or not isinstance(doc.get("address"), str):
            return 400, {"error": 'send {"address": "/walk/speed", "value": 1.5}'}
        address, value = doc["address"], doc.get("value")
        registry = self.control.registry
        if address not in registry or address.startswith(READ_ONLY_PREFIX):
            return 400, {"error": f"{address!r} is not a parameter this page may set"}
        _, reason = registry.param(address).coerce(value)
        if reason is not None:
            return 400, {"error": f"{address}: {value!r} is {reason.replace('_', ' ')}"}
        args = () if value is None else (value,)
        if not self.control.events.put(ControlEvent(address, args, source=source)):
            return 503, {"error": "control queue full; try again"}
        return 202, {"queued": address}

    def start(self) -> WebServer:
        self._thread.start()
        shown = self.url + (f"?token={self.token}" if self.token else "")
        log.warning("web page at %s", shown, extra={"event": "web_page", "url": self.url})
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
