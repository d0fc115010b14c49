"""Watching a running show's files: poll, re-validate, and keep the old show on a bad edit.

The show file and every file it includes are watched, so editing the venue file reloads too.
Polling (a few ``stat`` calls a second) rather than inotify: it works on every platform and
network share a venue machine may use, and costs nothing next to a frame.  Editors that save by
rename are handled because the watcher compares contents, not just modification times.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from .loader import ShowError, load_show
from .schema import Show

log = logging.getLogger(__name__)


def _included(show: Show) -> list[Path]:
    sources = getattr(show, "_sources", None)
    return [Path(p) for p, _ in sources.files[1:]] if sources is not None else []


class ShowWatcher:
    def __init__(
        self,
        path: Path | str,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        show: Show | None = None,
    ):
        self.path = Path(path)
        self.interval = float(interval)
        self.monotonic = monotonic
        self._next = 0.0
        self.files = [self.path] + (_included(show) if show is not None else [])
        self._stat = self._stats()
        self._digest = self._read_digest()
        self.error: str | None = None  # the last invalid edit, until the files change again

    def _stats(self) -> tuple:
        out: list[tuple[int, int] | None] = []
        for f in self.files:
            try:
                st = f.stat()
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def _read_digest(self) -> str:
        h = hashlib.sha256()
        for f in self.files:
            try:
                h.update(f.read_bytes())
            except OSError:
                h.update(b"\0missing\0")
        return h.hexdigest()

    def poll(self, force: bool = False) -> Show | None:
        """A newly saved, valid show; ``None`` when nothing changed or the edit is invalid."""
        now = self.monotonic()
        if not force and now < self._next:
            return None
        self._next = now + self.interval
        stats = self._stats()
        if not force and stats == self._stat:
            return None
        self._stat = stats
        digest = self._read_digest()
        if digest == self._digest and not force:
            return None
        self._digest = digest
        try:
            show = load_show(self.path)
        except ShowError as exc:
            self.error = str(exc)
            log.error("show file edit rejected, the running show continues:\n%s", exc)
            return None
        self.error = None
        self.files = [self.path] + _included(show)  # includes may have changed
        self._stat, self._digest = self._stats(), self._read_digest()
        log.info("show file %s changed; the edit applies at the next cue", self.path)
        return show
