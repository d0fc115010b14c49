"""Serial sensors: lines of ``name=value`` pairs become ``/serial/NAME value`` events.

A microcontroller prints e.g. ``light=512 dist=1.25`` (pairs separated by spaces, commas or
semicolons) at whatever rate suits it.  Malformed lines and pairs are counted and skipped.
pyserial (the ``serial`` extra) is needed only to open a port; any binary or text stream with
``readline()`` works, which is how a recorded sensor log is replayed in tests and rehearsals.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .events import ControlEvent, EventQueue
from .input_thread import InputThread
from .stats import Counters

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_SPLIT = re.compile(r"[\s,;]+")


def parse_line(line: str | bytes) -> tuple[dict[str, float], int]:
    """``"a=1 b=2.5"`` → ``({"a": 1.0, "b": 2.5}, 0)``; the second item counts bad pairs."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    out: dict[str, float] = {}
    bad = 0
    for token in _SPLIT.split(line.strip()):
        if not token:
            continue
        name, sep, value = token.partition("=")
        if not sep or not _NAME.match(name):
            bad += 1
            continue
        try:
            v = float(value)
        except ValueError:
            bad += 1
            continue
        if not math.isfinite(v):
            bad += 1
            continue
        out[name] = v
    return out, bad


class SerialInput(InputThread):
    """Reads lines in a thread from a serial port or any stream and enqueues one event per pair."""

    def __init__(
        self,
        events: EventQueue,
        port: str = "/dev/ttyACM0",
        baud: int = 115200,
        stream: IO | None = None,
        interval: float = 0.0,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.events = events
        self.port, self.baud = port, baud
        self.counters = counters if counters is not None else events.counters
        self.clock = clock
        self.interval = interval  # pause between lines when replaying a file
        self.source = f"serial:{port if stream is None else getattr(stream, 'name', 'stream')}"
        self._stream = stream
        self._owns_stream = False
        self._from_port = stream is None
        self._init_thread()

    @classmethod
    def from_file(cls, events: EventQueue, path: str | Path, interval: float = 0.0, **kw) -> SerialInput:
        """Replay a recorded sensor log, one line every ``interval`` seconds."""
        inp = cls(events, port=str(path), stream=open(path, "rb"), interval=interval, **kw)
        inp._owns_stream = True
        return inp

    def feed_line(self, line: str | bytes) -> int:
        """Parse one line and enqueue its pairs; returns how many events were queued."""
        pairs, bad = parse_line(line)
        if bad:
            self.counters.incr("serial_malformed", bad)
        now = self.clock()
        n = 0
        for name, value in pairs.items():
            n += self.events.put(ControlEvent(f"/serial/{name}", (value,), self.source, now))
        return n

    def start(self) -> SerialInput:
        if self._stream is None:
            try:
                import serial
            except ImportError:
                raise RuntimeError("serial input needs pyserial: pip install 'installation[serial]'") from None
            try:
                self._stream = serial.Serial(self.port, self.baud, timeout=0.2)
            except Exception as exc:
                raise RuntimeError(f"cannot open serial port {self.port}: {exc}") from None
            self._owns_stream = True
        self._spawn(f"serial:{self.port}")
        return self

    def _run(self) -> None:
        stream = self._stream
        assert stream is not None  # opened by start() before the thread runs
        try:
            while not self._stop.is_set():
                try:
                    line = stream.readline()
                except Exception:
                    self.counters.incr("serial_errors")
                    if not self._from_port:
                        return
                    time.sleep(0.1)
                    continue
                if not line:
                    if not self._from_port:
                        return  # end of a replayed file
                    continue  # serial read timeout
                if len(line) > 4096:
                    self.counters.incr("serial_malformed")
                    continue
                self.feed_line(line)
                if self.interval:
                    self._stop.wait(self.interval)
        finally:
            self.done.set()

    def stop(self) -> None:
        self._join()
        if self._owns_stream and self._stream is not None:
            self._stream.close()
            self._stream = None
