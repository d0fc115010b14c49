"""Watching a running show's files: poll, re-validate, and keep the old show on a bad edit.

The show file and every file it includes are watched, so editing the venue file reloads too.
Polling (a few ``stat`` calls a second) rather than inotify: it works on every platform and
network share a venue machine may use, and costs nothing next to a frame.  Editors that save by
rename are handled because the watcher compares contents, not just modification times.

An edit is checked like a show that starts (``check``: the runner hands in
:func:`installation.checks.check_show` with its plugin registry), so an edit that cannot play
(a ``hold`` list of the wrong length, a missing checkpoint) is rejected, the running show goes
on, and :meth:`ShowWatcher.status` (in ``/status`` as ``show_file``) names file, line, field and
problem until the file is fixed.

:class:`LastGood` keeps a copy of the last show that loaded (the validated show as JSON, paths
already resolved, so includes need not be copied): a runtime restarted with a broken file plays
that copy instead of going dark, and says so in the log and in ``/status``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
        self.problems: list[dict] = []  # the same, one entry per problem: file, line, field, problem
        self.rejected_at: float | None = None  # time.time() of the rejection
        self.playing: str = "file"  # or "last good copy" when started from one
        self.check: Callable[[Show], object] | None = None  # raises ShowError on a show that cannot play
        self.store: LastGood | None = None  # where a show that loads is kept for restarts

    def reject(self, exc: ShowError) -> None:
        """Record ``exc`` as the show file's current problem (reported until the file is fixed)."""
        self.error = str(exc)
        self.rejected_at = time.time()
        self.problems = [
            {
                "file": str(p.file or exc.path),
                "line": p.line,
                "field": p.field,
                "problem": p.message + (f" ({p.hint})" if p.hint else ""),
            }
            for p in exc.problems
        ]

    def status(self) -> dict:
        """``{"path", "state": "ok" | "rejected", "playing", "problems", "rejected_at"}`` for /status."""
        doc: dict[str, Any] = {
            "path": str(self.path),
            "state": "rejected" if self.error else "ok",
            "playing": self.playing,
        }
        if self.error:
            doc.update(problems=self.problems, rejected_at=self.rejected_at)
        return doc

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
            if self.check is not None:
                self.check(show)
        except ShowError as exc:
            self.reject(exc)
            log.error(
                "show file edit rejected, the running show continues:\n%s",
                exc,
                extra={"event": "show_rejected", "path": str(self.path)},
            )
            return None
        self.error, self.problems, self.rejected_at, self.playing = None, [], None, "file"
        if self.store is not None:
            self.store.save(show)
        self.files = [self.path] + _included(show)  # includes may have changed
        self._stat, self._digest = self._stats(), self._read_digest()
        log.info("show file %s changed; the edit applies at the next cue", self.path)
        return show


def state_dir() -> Path:
    """Where runtime state lives: ``$INSTALLATION_STATE_DIR``, else ``$XDG_STATE_HOME/installation``,
    else ``~/.local/state/installation``."""
    if os.environ.get("INSTALLATION_STATE_DIR"):
        return Path(os.environ["INSTALLATION_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "installation"


class LastGood:
    """The last copy of one show file that loaded and passed the check, kept for restarts."""

    def __init__(self, show_path: Path | str, directory: Path | str | None = None):
        self.show_path = Path(show_path).resolve()
        key = hashlib.sha256(str(self.show_path).encode()).hexdigest()[:16]
        self.path = Path(directory or state_dir()) / f"last-good-{self.show_path.stem}-{key}.json"

    def save(self, show: Show) -> None:
        doc = {
            "source": str(self.show_path),
            "saved": time.time(),
            "show": show.model_dump(mode="json", by_alias=True, exclude_unset=True),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(doc))
            os.replace(tmp, self.path)
        except OSError as exc:  # no copy kept costs the restart fallback, never the show
            log.warning("cannot keep a copy of the show at %s: %s", self.path, exc.strerror or exc)

    def load(self) -> tuple[Show, float] | None:
        """(the kept show, when it was saved), or ``None`` when there is no usable copy."""
        try:
            doc = json.loads(self.path.read_text())
            show = Show.model_validate(doc["show"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        show._source = doc.get("source") or str(self.show_path)
        return show, float(doc.get("saved", 0.0))


def load_or_last_good(
    path: Path | str, check: Callable[[Show], object] | None = None, store: LastGood | None = None, keep: bool = True
) -> tuple[Show, ShowError | None]:
    """The show at ``path`` (checked, and kept in ``store`` unless ``keep`` is false: a caller that
    does not run the full check must not keep what it loaded); when it cannot play and ``store``
    holds an earlier good copy, that copy and the error, logged; otherwise the ShowError raises."""
    try:
        show = load_show(path)
        if check is not None:
            check(show)
    except ShowError as exc:
        kept = store.load() if store is not None else None
        if kept is None or store is None:
            raise
        show, saved = kept
        log.error(
            "show file %s cannot play:\n%s\nplaying the last good copy instead (%s, saved %s); fix the file "
            "and it reloads",
            path,
            exc,
            store.path,
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(saved)),
            extra={"event": "show_last_good", "path": str(path), "copy": str(store.path)},
        )
        return show, exc
    if store is not None and keep:
        store.save(show)
    return show, None
