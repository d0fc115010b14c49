"""The runtime's web page: status, next cues, schedule, health, a thumbnail and a control surface.

:class:`WebOutput` is an output the runner appends when a page is asked for (``[web] port`` or
``--web-port``): its ``write`` runs on the render thread, refreshes the page state a few times a
second and offers frames to the thumbnail encoder, never waiting for either reader.  The
:class:`~installation.web.server.WebServer` answers requests from that data and enqueues
control events.  See docs/web.md.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

from ..show.web_types import WebConfig, is_loopback
from .server import WebServer
from .state import page_state
from .thumbnail import Thumbnailer

log = logging.getLogger(__name__)

__all__ = ["WebOutput", "WebServer", "Thumbnailer", "page_state", "start_web", "resolve_token"]

STATE_INTERVAL = 0.25  # seconds between page-state refreshes on the render thread


class WebOutput:
    """Render-thread side of the page: page state and thumbnail frames (an ``Output``)."""

    def __init__(self, state: Callable[[], dict], thumbnailer: Thumbnailer) -> None:
        self._build = state
        self.thumbnailer = thumbnailer
        self.state: dict | None = None  # replaced whole; HTTP threads read it
        self.errors = 0
        self._last = -1e9

    def open(self, canvas: Any) -> None:
        self.thumbnailer.start()

    def write(self, frame: Any) -> None:
        now = time.monotonic()
        if now - self._last >= STATE_INTERVAL:
            self._last = now
            try:
                self.state = self._build()
            except Exception as exc:  # a show being reloaded: keep the last state, count it
                self.errors += 1
                log.debug("web page state failed: %s", exc)
        self.thumbnailer.offer(frame)

    def close(self) -> None:
        self.thumbnailer.close()

    def describe(self) -> str:
        return "web page"


def resolve_token(config: WebConfig, host: str) -> str | None:
    """None on loopback; else the show's token, $INSTALLATION_WEB_TOKEN, or a fresh random one."""
    if is_loopback(host):
        return None
    return config.token or os.environ.get("INSTALLATION_WEB_TOKEN") or secrets.token_urlsafe(16)


def start_web(
    app: Any, health: Callable[[], dict] | None, config: WebConfig, port: int, host: str | None = None
) -> tuple[WebOutput, WebServer]:
    """The page's output (append it to the run's outputs, open it) and its started server."""
    host = host or config.host
    output = WebOutput(lambda: page_state(app, health), Thumbnailer(config.thumbnail_fps, config.thumbnail_width))
    server = WebServer(
        app.control, lambda: output.state, lambda: output.thumbnailer.jpeg, port, host, resolve_token(config, host)
    ).start()
    return output, server
