"""The thread an input reads on: started, stopped by an event, joined within a bound.

Inputs that block on a file or a port (replays, serial sensors) share this life cycle, so a
stop never waits on a read for longer than the join bound and ``done`` tells tests and the
runner that a finite source (a replayed file) has ended.
"""

from __future__ import annotations

import threading


class InputThread:
    """Mixin: call :meth:`_init_thread` in ``__init__``, :meth:`_spawn` in ``start``, :meth:`_join` in ``stop``.

    The subclass provides ``_run``, which returns when ``self._stop`` is set and sets
    ``self.done`` as it ends."""

    JOIN_TIMEOUT = 2.0

    def _init_thread(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = threading.Event()

    def _run(self) -> None:
        raise NotImplementedError

    def _spawn(self, name: str) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _join(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.JOIN_TIMEOUT)
            self._thread = None
