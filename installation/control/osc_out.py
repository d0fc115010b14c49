"""OSC out: show state to controllers on change and at a heartbeat, and replies to queries.

Called from the render loop once a frame (:meth:`OscOut.publish`); sends are non-blocking UDP
so a dead tablet can never stall a frame.  A controller that reconnects catches up at the next
heartbeat, which carries the whole state.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from .config import OscOutConfig, parse_target
from .stats import Counters

# state keys whose float values jitter every frame: sent on change only past this step
TOLERANCE = {"fps": 1.0, "memory": 1.0}


def build_message(address: str, args: Iterable[Any] = ()) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        if a is None:
            b.add_arg("", OscMessageBuilder.ARG_TYPE_STRING)
        elif isinstance(a, bool):
            b.add_arg(a)
        elif isinstance(a, int):
            b.add_arg(a, OscMessageBuilder.ARG_TYPE_INT)
        elif isinstance(a, float):
            b.add_arg(a, OscMessageBuilder.ARG_TYPE_FLOAT)
        else:
            b.add_arg(str(a), OscMessageBuilder.ARG_TYPE_STRING)
    return b.build().dgram


def query_row_args(row: dict) -> list:
    """``/query/param`` arguments: address, type, osc tag, low, high, choices, default, value, description.

    Missing ranges are sent as empty strings; default and value are JSON so their type survives.
    """
    rng = row["range"]
    return [
        row["address"],
        row["type"],
        row["osc"],
        float(rng[0]) if rng is not None else "",
        float(rng[1]) if rng is not None else "",
        "|".join(row["choices"]) if row["choices"] else "",
        json.dumps(row["default"]),
        json.dumps(row["value"]),
        row["description"],
    ]


class OscOut:
    """Sends ``prefix/KEY value`` for each state key to every target."""

    def __init__(
        self,
        targets: Iterable[str | tuple[str, int]] = (),
        heartbeat: float = 1.0,
        echo: bool = True,
        prefix: str = "/status",
        counters: Counters | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.targets = [parse_target(t) if isinstance(t, str) else tuple(t) for t in targets]
        self.heartbeat = heartbeat
        self.echo = echo
        self.prefix = prefix.rstrip("/")
        self.counters = counters if counters is not None else Counters()
        self.clock = clock
        self._sent: dict[str, Any] = {}
        self._last_beat: float | None = None
        self.beats = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)

    @classmethod
    def from_config(cls, config: OscOutConfig, counters: Counters | None = None) -> OscOut:
        return cls(config.targets, config.heartbeat, config.echo, config.prefix, counters)

    def close(self) -> None:
        self._sock.close()

    def send(self, address: str, args: Iterable[Any] = (), targets: Iterable[tuple[str, int]] | None = None) -> None:
        data = build_message(address, list(args))
        for target in self.targets if targets is None else targets:
            try:
                self._sock.sendto(data, target)
                self.counters.incr("osc_out_sent")
            except OSError:  # unreachable tablet, full buffer: count, never stall the frame
                self.counters.incr("osc_out_errors")

    def publish(self, state: dict[str, Any], changes: dict[str, Any] | None = None, now: float | None = None) -> None:
        """Send changed state keys, echoed parameter ``changes``, and everything at the heartbeat."""
        if not self.targets:
            return
        now = self.clock() if now is None else now
        beat = self._last_beat is None or now - self._last_beat >= self.heartbeat
        for key, value in state.items():
            old = self._sent.get(key, _MISSING)
            tol = TOLERANCE.get(key)
            changed = old is _MISSING or (
                abs(value - old) >= tol
                if tol is not None and isinstance(value, (int, float)) and isinstance(old, (int, float))
                else value != old
            )
            if changed or beat:
                self.send(f"{self.prefix}/{key}", [value])
                self._sent[key] = value
        if self.echo and changes:
            for address, value in changes.items():
                self.send(address, [value])
        if beat:
            self.beats += 1
            self._last_beat = now
            self.send(f"{self.prefix}/heartbeat", [self.beats])

    def reply_query(self, source: str, args: tuple, rows: list[dict]) -> None:
        """Answer ``/query [prefix] [reply_port]`` to the sender: one ``/query/param`` per row, then ``/query/end``."""
        host, _, given = source.rpartition(":")
        port: int | str = given
        if len(args) > 1 and isinstance(args[1], int) and not isinstance(args[1], bool) and 0 < args[1] < 65536:
            port = args[1]
        try:
            target = [(host, int(port))]
        except ValueError:
            self.counters.incr("osc_out_errors")
            return
        for row in rows:
            self.send("/query/param", query_row_args(row), target)
        self.send("/query/end", [len(rows)], target)


_MISSING = object()
