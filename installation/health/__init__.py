"""Unattended operation: health figures, the status endpoint, structured logs and the heartbeat.

``HealthMonitor(app, fps).snapshot()`` returns the running show's status as a plain dict (the
document ``GET /status`` serves); the runner hands that callable to the status server and to the
app (``app.health``, for OSC replies): nothing is reached through module state.
"""

from __future__ import annotations

from .heartbeat import Heartbeat, read_heartbeat
from .logs import JsonFormatter, RateLimit, setup_logging
from .monitor import HealthMonitor, health_fields, idle_snapshot
from .server import StatusServer

__all__ = [
    "HealthMonitor",
    "health_fields",
    "idle_snapshot",
    "StatusServer",
    "Heartbeat",
    "read_heartbeat",
    "JsonFormatter",
    "RateLimit",
    "setup_logging",
]
