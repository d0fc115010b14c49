"""Progress of a long job: a rich bar with ETA on a terminal, a plain log line otherwise.

Sheets, renders and recordings run for minutes; under systemd, ``nohup`` or a CI log nobody
sees a bar, so where standard error is not a terminal a background thread writes one line
(``label: frames 12/64 (19%), 10s elapsed, ~42s left``) at least every ``every`` seconds, also while a
single slow step is still running.  Nothing here imports torch.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO


def _clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else (f"{m}:{s:02d}" if m else f"{s}s")


class Progress:
    """Count ``total`` units of work; ``advance(n)`` as they finish; use as a context manager.

    ``tty=None`` asks the stream.  ``every`` is the longest gap between two log lines when the
    stream is not a terminal (a line is also written at the start and at the end).
    """

    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "",
        every: float = 10.0,
        stream: TextIO | None = None,
        tty: bool | None = None,
        enabled: bool = True,
        initial: int = 0,
    ):
        self.label, self.total, self.unit, self.every = label, max(0, int(total)), unit, float(every)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.enabled = enabled
        self.done = self.initial = int(initial)  # initial: work done before (a resumed run); not in the ETA
        self.note = ""
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rich: Any = None
        self._bar: Any = None

    # -- the two ways to show it --------------------------------------------------------------
    def line(self) -> str:
        """The log line for the current state."""
        elapsed = time.monotonic() - self._t0
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        eta = ""
        if self.initial < self.done < self.total:
            eta = f", ~{_clock(elapsed / (self.done - self.initial) * (self.total - self.done))} left"
        unit = f"{self.unit} " if self.unit else ""  # before the count: "N frames" is what results say
        note = f", {self.note}" if self.note else ""
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"  # total 0: open-ended
        return f"{self.label}: {unit}{count}{pct}, {_clock(elapsed)} elapsed{eta}{note}"

    def _write(self) -> None:
        with self._lock:
            text = self.line()
        self.stream.write(text + "\n")
        self.stream.flush()

    def _ticker(self) -> None:
        while not self._stop.wait(self.every):
            self._write()

    def __enter__(self) -> Progress:
        self._t0 = time.monotonic()
        if not self.enabled:
            return self
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn(f"[bold]{self.label}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self._rich.__enter__()
            self._bar = self._rich.add_task(self.label, total=self.total or None, completed=self.done, note="")
        else:
            self._write()
            self._thread = threading.Thread(target=self._ticker, name=f"progress {self.label}", daemon=True)
            self._thread.start()
        return self

    def advance(self, n: int = 1, note: str | None = None) -> None:
        with self._lock:
            self.done += n
            if note is not None:
                self.note = note
        if self._rich is not None:
            self._rich.update(self._bar, completed=self.done, note=self.note)

    def __exit__(self, *exc: Any) -> None:
        if not self.enabled:
            return
        if self._rich is not None:
            self._rich.__exit__(*exc)
            self._rich = None
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._write()
