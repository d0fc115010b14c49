"""The Ableton Link session, through aalink, behind a small interface the clock can be tested with.

One wrapper for everything that reads Link: the synchronised show clock (:mod:`installation.sync`)
and the show's beat source under ``[sync]`` (:mod:`installation.audio.link_beats`); it sits at the
bottom layer so both can use it.

aalink wants a running asyncio loop when a ``Link`` is made (its callbacks are delivered there);
the runtime has none in the render thread, so one runs in a daemon thread of its own.  The clock
only reads ``beat``, ``tempo`` and ``num_peers``: properties Link keeps thread-safe.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Protocol

from .problems import Unavailable


class Session(Protocol):
    """What :class:`~installation.sync.clock.LinkClock` needs from Link."""

    @property
    def beat(self) -> float: ...

    @property
    def tempo(self) -> float: ...

    @property
    def peers(self) -> int: ...

    def close(self) -> None: ...


def require_aalink(where: str = "[sync] link = true"):
    try:
        import aalink
    except ModuleNotFoundError:
        raise Unavailable(
            f"{where} needs the Python package 'aalink' (Ableton Link), which is not installed: "
            "pip install 'installation[link]'"
        ) from None
    return aalink


class LinkSession:
    """A Link peer, enabled, with the show's tempo and quantum (the session's tempo wins once joined)."""

    def __init__(self, tempo: float, quantum: float):
        aalink = require_aalink()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link-loop", daemon=True)
        self._thread.start()

        async def make():
            return aalink.Link(tempo)

        self._link = asyncio.run_coroutine_threadsafe(make(), self._loop).result(timeout=10)
        self._link.quantum = quantum
        self._link.enabled = True

    @property
    def beat(self) -> float:
        return float(self._link.beat)

    @property
    def tempo(self) -> float:
        return float(self._link.tempo)

    @property
    def peers(self) -> int:
        return int(self._link.num_peers)

    @property
    def quantum(self) -> float:
        return float(self._link.quantum)

    @property
    def time(self):
        """Link's host clock now (a ``timedelta``): the instant two peers' beats are compared at."""
        return self._link.time

    def close(self) -> None:
        """Leave the session (the others play on) and stop the loop thread."""
        try:
            self._link.enabled = False
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=2)
            if not self._thread.is_alive():
                self._loop.close()
