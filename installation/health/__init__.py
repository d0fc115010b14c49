"""Unattended operation: health figures, the status endpoint, structured logs and the heartbeat.

``health_snapshot()`` returns the running show's status as a plain dict (the same document
``GET /status`` serves), for any other channel that wants to report it (e.g. OSC replies).
"""

from __future__ import annotations

from .heartbeat import Heartbeat, read_heartbeat
from .logs import JsonFormatter, RateLimit, setup_logging
from .monitor import HealthMonitor, health_snapshot
from .server import StatusServer

__all__ = [
    "HealthMonitor",
    "health_snapshot",
    "StatusServer",
    "Heartbeat",
    "read_heartbeat",
    "JsonFormatter",
    "RateLimit",
    "setup_logging",
]
