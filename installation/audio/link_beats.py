"""The beat of an Ableton Link session as the show's :class:`~installation.audio.beats.BeatSource`.

Link (https://ableton.github.io/link/) keeps one beat timeline shared by every peer on the local
network: the same beat, phase and tempo at the same moment, bars aligned on the session's
``quantum``.  :class:`LinkBeats` reads it through ``aalink`` (the ``link`` extra) and answers in
show time: the session's beat now, moved along at its tempo to the show time asked for.  Cues
``at_beat = 4`` with a quantum of 4 then land on the session's bars, on every host alike.

The runner chooses the source (``[sync] link = true``): :func:`beat_source_for` gives the Link
source when it is handed a session, else the show's own (its track's grid or the live follower).
Nothing here joins a network until :func:`open_session` is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def open_session(bpm: float = 120.0, quantum: float = 4.0) -> Any:
    """Join (or start) the Link session on this network: the sync package's session (one Link
    wrapper for the show clock and the beat), enabled, with ``beat``, ``tempo``, ``quantum``, ``peers``.

    Without aalink it raises :class:`installation.problems.Unavailable` with the one line the sync
    clock gives too (:func:`installation.link.require_aalink`)."""
    from ..link import LinkSession

    return LinkSession(float(bpm), float(quantum))


def close_session(session: Any) -> None:
    """Leave the session and stop its loop."""
    session.close()


class LinkBeats:
    """``beat_at(t)``: the session's beat at show time ``t``; ``now()`` is the show's time now.

    Link tells the beat at this instant only, so a show time is reached along the current tempo
    (exact while the tempo holds, which is all a cue landing a bar ahead needs)."""

    def __init__(self, session: Any, now: Callable[[], float]) -> None:
        self.session = session
        self.now = now

    def tempo_at(self, t: float) -> float:
        return float(self.session.tempo)

    def _here(self) -> tuple[float, float, float]:
        s = self.session
        return float(s.beat), self.now(), float(s.tempo)

    def beat_at(self, t: float) -> float | None:
        beat, now, bpm = self._here()
        return beat + (t - now) * bpm / 60.0

    def time_of(self, beat: float) -> float | None:
        b, now, bpm = self._here()
        return now + (beat - b) * 60.0 / bpm if bpm > 0 else None

    @property
    def quantum(self) -> float:
        return float(self.session.quantum)

    @property
    def peers(self) -> int:
        return int(self.session.peers)


def beat_source_for(default: Any, session: Any = None, now: Callable[[], float] | None = None) -> Any:
    """The show's beat source: Link's when ``session`` (an aalink.Link, or anything with ``beat``,
    ``tempo``, ``quantum``) is given with the show clock's ``now``, else ``default``."""
    if session is None:
        return default
    if now is None:
        raise ValueError("a Link beat source needs the show clock (now)")
    return LinkBeats(session, now)
