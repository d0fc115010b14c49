"""The ``[web]`` table: the runtime's web page and its OSCQuery service (see docs/web.md).

Here, in the show layer, because the show schema embeds it; the servers that read it live in
``installation.web`` and ``installation.control.oscquery``.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from ..problems import StrictModel


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``): only then may a page go without a token."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebConfig(StrictModel):
    """The status and control page (off unless ``port`` is set or ``--web-port`` is given) and
    the OSCQuery service (on whenever the show listens for OSC, except in offline renders)."""

    port: int | None = Field(None, ge=0, le=65535, description="serve the page here (0: any free port); unset: no page")
    host: str = Field("127.0.0.1", description="address the page listens on; anything but loopback needs a token")
    token: str | None = Field(
        None,
        min_length=8,
        description="the page's access token (default: "
        "$INSTALLATION_WEB_TOKEN, or a random one logged at start when host is not loopback)",
    )
    thumbnail_fps: float = Field(2.0, gt=0, le=15, description="how often the page's thumbnail is refreshed")
    thumbnail_width: int = Field(320, ge=32, le=1920, description="thumbnail width in pixels (height keeps the aspect)")
    oscquery: bool = Field(
        True, description="serve and advertise the OSC parameters over OSCQuery (_oscjson._tcp) when OSC input is on"
    )
    oscquery_port: int = Field(
        0, ge=0, le=65535, description="HTTP port of the OSCQuery tree (0: any free port, advertised by mDNS)"
    )

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if v != "localhost":
            try:
                ipaddress.ip_address(v)
            except ValueError:
                raise ValueError(f"web host {v!r} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)") from None
        return v
