"""Logging setup: readable lines on stderr, JSON lines in a rotating file for the long run.

Events worth counting carry an ``event`` field (``plugin_fault``, ``plugin_restart``,
``plugin_degraded``, ``runtime_restart`` ...) passed through ``extra=``; the JSON formatter
writes every such extra field, so logs can be filtered with ``jq 'select(.event == ...)'``.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from pathlib import Path

# attributes every LogRecord has; anything else came in through ``extra=``
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC ISO), level, logger, message, extras, exception text."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class RateLimit(logging.Filter):
    """At most ``burst`` records per message template per ``window`` seconds, then a count.

    Weeks of logs must not be flushed out of rotation by one noisy source (a plugin failing every
    frame, a parser warning per hostile datagram); the first record after a quiet window says how
    many were dropped.

    One instance is shared by every handler ``setup_logging`` adds (console and file), so each
    record is decided once and the decision remembered on the record: a message is counted once,
    not once per handler, and both handlers keep or drop it together.
    """

    def __init__(self, burst: int = 20, window: float = 60.0, clock=time.monotonic):
        super().__init__()
        self.burst, self.window, self.clock = burst, window, clock
        self._seen: dict[tuple, list] = {}  # key -> [window start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.__dict__.get(RATE_EXEMPT):  # per-frame records: their count is the point
            return True
        decided = record.__dict__.get("_rate_limit")
        if decided is not None and decided[0] is self:
            return decided[1]
        keep = self._decide(record)
        record.__dict__["_rate_limit"] = (self, keep)
        return keep

    def _decide(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg)[:200])
        now = self.clock()
        entry = self._seen.get(key)
        if entry is None or now - entry[0] >= self.window:
            dropped = entry[2] if entry else 0
            if len(self._seen) > 10_000:  # bounded, whatever the senders do
                self._seen.clear()
            self._seen[key] = [now, 1, 0]
            if dropped:
                record.suppressed = dropped
                record.msg = f"{record.msg} [{dropped} similar messages suppressed]"
            return True
        entry[1] += 1
        if entry[1] > self.burst:
            entry[2] += 1
            return False
        return True


#: ``extra={RATE_EXEMPT: True}``: a record no rate limit drops; ``FILE_ONLY``: not on the console
RATE_EXEMPT, FILE_ONLY = "_rate_exempt", "_file_only"
FRAMES = logging.getLogger("installation.frames")


def log_frame(frame: int, show_time: float, monotonic: float, scene: str, keyframes: list | None = None) -> None:
    """``--log-frames``: one JSON record per frame in the log file, to compare hosts frame by frame.

    ``monotonic_s`` is the moment the clock read ``show_time_s`` (CLOCK_MONOTONIC): on one machine
    (hosts in network namespaces) records of different processes match by it directly; across
    machines it needs the offset between their clocks (chrony or PTP, docs/operations.md).
    ``keyframes``: the keyframes shown, with digests (:func:`installation.sync.digest.shown_keyframes`).
    """
    extra = {
        "event": "frame",
        "frame": frame,
        "show_time_s": round(show_time, 6),
        "monotonic_s": round(monotonic, 6),
        "scene": scene,
        RATE_EXEMPT: True,
        FILE_ONLY: True,
    }
    if keyframes is not None:
        extra["keyframes"] = keyframes
    FRAMES.info("frame", extra=extra)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (never to a stream replaced and closed since)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


#: the attribute marking the handlers :func:`setup_logging` added (the ones its next call replaces)
_MARK = "_installation"


def setup_logging(
    verbose: bool = False, log_file: Path | str | None = None, max_bytes: int = 10 * 2**20, backups: int = 5
) -> None:
    """Configure the root logger; calling it again replaces the handlers it added (and only those)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
            handler.close()
    console = _Stderr()
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console.addFilter(lambda record: not record.__dict__.get(FILE_ONLY))
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(JsonFormatter())
        handlers.append(handler)
    limit = RateLimit()
    for handler in handlers:
        handler.addFilter(limit)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
