"""The show's epoch on the Link timeline, and the messages that carry it between hosts.

Link shares tempo and phase (the beat modulo the quantum) but not the beat count: a host that
joins late counts whole bars differently.  So each host keeps an *anchor*, the beat of its own
Link timeline at which show time 0 falls, and the hosts tell each other how far into the show
they are (``s``, show beats at the moment of sending).  A receiver sets its anchor to its beat
now minus ``s`` and snaps it to the anchor's phase ``r``, which every host of one Link session
reads the same: the few milliseconds the message travelled vanish in the snap.

Within one epoch a host that has played it longer is *senior*: when a junior's anchor disagrees
(it joined while its Link timeline was still aligning, or Link realigned after a network split)
the junior moves to the senior's, never the other way, so one late host cannot move the show.

An epoch has an identity (``origin``: wall time it was made, ``eid``: random).  When two exist
(hosts that started at the same moment, a network that split and healed) every host follows the
older one, so a host that reboots never restarts the others.  Pure functions: no sockets here.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from dataclasses import dataclass

VERSION = 1
MAX_DATAGRAM = 2048
#: what a cue argument may be on the wire (OSC blobs and the like stay on the host that got them)
_SCALARS = (bool, int, float, str)


@dataclass(frozen=True)
class Epoch:
    """One show-time origin: ``anchor`` is in this host's beats, the rest is shared."""

    origin: float  # time.time() when the first host made it (orders epochs; never read as a clock)
    eid: str
    anchor: float  # this host's Link beat at which show time 0 falls
    quantum: float

    @property
    def key(self) -> tuple[float, str]:
        """Older wins: the epoch with the smaller key is the one every host follows."""
        return (self.origin, self.eid)

    @property
    def phase(self) -> float:
        """The anchor's phase in the bar: the same on every host of one Link session."""
        return self.anchor % self.quantum


def new_epoch(beat_now: float, beat_zero: float, quantum: float, origin: float | None = None) -> Epoch:
    """The epoch a host makes when it hears no other: show time 0 on the next beat (from now)
    whose phase is ``beat_zero``'s, or on ``beat_zero`` itself when that is still ahead."""
    ahead = (beat_zero - beat_now) % quantum
    anchor = max(beat_zero, beat_now + ahead)
    return Epoch(time.time() if origin is None else origin, secrets.token_hex(8), anchor, quantum)


def adopt(beat_now: float, show_beats: float, phase: float, quantum: float, origin: float, eid: str) -> Epoch:
    """A peer's epoch in this host's beats: it was ``show_beats`` into the show (at ``phase``
    of the bar) a moment ago, and this host's beat is ``beat_now``."""
    rough = beat_now - show_beats
    anchor = phase + round((rough - phase) / quantum) * quantum
    return Epoch(origin, eid, anchor, quantum)


def show_beats(epoch: Epoch, beat: float) -> float:
    return beat - epoch.anchor


@dataclass(frozen=True)
class Message:
    """One datagram between hosts: an epoch announcement (``kind="epoch"``), a cue (``"cue"``), or
    a starting host's ``"hello"`` (the others answer with the cues played so far)."""

    kind: str
    show: str  # the show's name: two shows on one network do not hear each other
    host: str  # the sender's id (a host hears its own multicast and drops it)
    origin: float
    eid: str
    phase: float = 0.0  # epoch: the anchor's phase
    quantum: float = 4.0
    beats: float = 0.0  # epoch: show beats when sent
    since: float = 0.0  # epoch: time.time() when the sender began to play it (the senior host is followed)
    at: float = 0.0  # cue: the show time it takes effect
    seq: int = 0  # cue: per sender, to drop repeats
    address: str = ""  # cue: the OSC address
    args: tuple = ()
    source: str = ""  # cue: who sent it to the host (a broadcast reaches every host from one source)


class BadMessage(ValueError):
    """A datagram that is not one of ours, or is malformed: counted and dropped, never raised further."""


def encode(msg: Message) -> bytes:
    doc = {
        "v": VERSION,
        "k": msg.kind,
        "show": msg.show,
        "host": msg.host,
        "origin": msg.origin,
        "eid": msg.eid,
    }
    if msg.kind == "epoch":
        doc.update(r=msg.phase, q=msg.quantum, s=msg.beats, j=msg.since)
    elif msg.kind == "cue":
        doc.update(at=msg.at, n=msg.seq, a=msg.address, args=list(msg.args), src=msg.source)
    try:
        data = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
    except ValueError as exc:  # NaN or inf in a field: the peers would refuse it anyway
        raise BadMessage(f"{msg.kind} message with a non-finite field: {exc}") from None
    if len(data) > MAX_DATAGRAM:
        raise BadMessage(f"message of {len(data)} bytes is over {MAX_DATAGRAM}")
    return data


def _num(doc: dict, key: str) -> float:
    v = doc.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise BadMessage(f"field {key!r} is not a finite number")
    return float(v)


def _text(doc: dict, key: str, limit: int = 200) -> str:
    v = doc.get(key)
    if not isinstance(v, str) or len(v) > limit:
        raise BadMessage(f"field {key!r} is not a short string")
    return v


def decode(data: bytes) -> Message:
    """Parse and check one datagram; :class:`BadMessage` names what is wrong."""
    if len(data) > MAX_DATAGRAM:
        raise BadMessage("datagram too long")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadMessage("not JSON") from None
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        raise BadMessage("not a version-1 sync message")
    kind = doc.get("k")
    show, host, origin, eid = _text(doc, "show"), _text(doc, "host", 64), _num(doc, "origin"), _text(doc, "eid", 64)
    if kind == "epoch":
        q = _num(doc, "q")
        if q <= 0:
            raise BadMessage("quantum must be positive")
        return Message(
            "epoch",
            show,
            host,
            origin,
            eid,
            phase=_num(doc, "r"),
            quantum=q,
            beats=_num(doc, "s"),
            since=_num(doc, "j"),
        )
    if kind == "hello":
        return Message("hello", show, host, origin, eid)
    if kind == "cue":
        seq = doc.get("n")
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise BadMessage("field 'n' is not an integer")
        address = _text(doc, "a")
        if not address.startswith("/"):
            raise BadMessage("cue address must start with '/'")
        args = doc.get("args")
        if not isinstance(args, list) or len(args) > 32 or not all(isinstance(a, _SCALARS) for a in args):
            raise BadMessage("cue args must be a short list of numbers, strings and booleans")
        if any(isinstance(a, float) and not math.isfinite(a) for a in args):
            raise BadMessage("cue args must be finite")
        source = _text(doc, "src", 64) if "src" in doc else ""
        return Message(
            "cue",
            show,
            host,
            origin,
            eid,
            at=_num(doc, "at"),
            seq=seq,
            address=address,
            args=tuple(args),
            source=source,
        )
    raise BadMessage(f"unknown kind {kind!r}")


def wire_args(args: tuple) -> tuple | None:
    """The arguments as they travel, or ``None`` when one cannot (a blob): then the cue stays local."""
    if all(isinstance(a, _SCALARS) and not (isinstance(a, float) and not math.isfinite(a)) for a in args):
        return tuple(args)
    return None
