"""Watching a running show's file: poll, re-validate, and keep the old show on a bad edit.

Polling (a ``stat`` a second) rather than inotify: it works on every platform and network
share a venue machine may use, and costs nothing next to a frame.  Editors that save by
rename are handled because the watcher compares contents, not just the modification time.
"""
from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Callable

from .loader import ShowError, load_show
from .schema import Show

log = logging.getLogger(__name__)


class ShowWatcher:
    def __init__(self, path: Path | str, interval: float = 1.0, monotonic: Callable[[], float] = time.monotonic):
        self.path = Path(path)
        self.interval = float(interval)
        self.monotonic = monotonic
        self._next = 0.0
        self._stat: tuple | None = None
        self._digest = self._read_digest()
        self.error: str | None = None  # the last invalid edit, until the file changes again

    def _read_digest(self) -> str | None:
        try:
            st = self.path.stat()
            self._stat = (st.st_mtime_ns, st.st_size)
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def poll(self, force: bool = False) -> Show | None:
        """A newly saved, valid show; ``None`` when nothing changed or the edit is invalid."""
        now = self.monotonic()
        if not force and now < self._next:
            return None
        self._next = now + self.interval
        try:
            st = self.path.stat()
        except OSError:
            return None
        if not force and (st.st_mtime_ns, st.st_size) == self._stat:
            return None
        digest = self._read_digest()
        if digest is None or (digest == self._digest and not force):
            return None
        self._digest = digest
        try:
            show = load_show(self.path)
        except ShowError as exc:
            self.error = str(exc)
            log.error("show file edit rejected, the running show continues:\n%s", exc)
            return None
        self.error = None
        log.info("show file %s changed; the edit applies at the next cue", self.path)
        return show
