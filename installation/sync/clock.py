"""Show time from Ableton Link: every host of a show plays the same show time, none is special.

Show time is ``(beat - anchor) * 60 / tempo``: beats of this host's Link timeline since the
epoch's anchor (see :mod:`installation.sync.epoch`), counted at the show's tempo, ``latency``
seconds ahead.  A starting host listens ``join_wait`` seconds: a host already playing tells it
the epoch and it joins at the current position (also after a kill -9 and a restart); hearing
none, it makes the epoch itself.  Each host announces the epoch twice a second, so any host may
die and the others play on, and the next host to start still finds the position.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable

from ..control.events import ControlEvent
from ..show.sync_types import SyncConfig
from .bus import PeerBus
from .cues import CueSchedule
from .epoch import Epoch, Message, adopt, new_epoch

log = logging.getLogger(__name__)


class LinkClock:
    """A :class:`~installation.clock.Clock` on the Link session, with the peer bus that carries the epoch."""

    deterministic = False
    #: keyframes are mixed as a function of show time, not of their arrival, so hosts draw alike
    lockstep = True

    def __init__(
        self,
        cfg: SyncConfig,
        show: str,
        session=None,
        bus: Callable[..., PeerBus] = PeerBus,
        sleep: Callable[[float], None] = time.sleep,
    ):
        from ..link import LinkSession

        self.cfg, self.show = cfg, show
        self.host = secrets.token_hex(6)
        self.session = session if session is not None else LinkSession(cfg.tempo, cfg.quantum)
        self.epoch: Epoch | None = None
        self.cues = CueSchedule()
        self.adopted = 0  # how many times this host switched to an older epoch
        self.realigned = 0  # how many times it moved to a senior host's position within the epoch
        self.since = math.inf  # time.time() when this host began to play its epoch (inf: not yet)
        self._lock = threading.Lock()
        self._warned_quantum = False
        self.ticked_at = time.monotonic()
        try:
            self.bus = bus(cfg, show, self.host, self._on_message, self._announce).start()
        except BaseException:
            self.session.close()
            raise
        self._join(sleep)
        self._now = self._read()

    # -- joining ---------------------------------------------------------------------------
    def _join(self, sleep: Callable[[float], None]) -> None:
        self.bus.send(Message("hello", self.show, self.host, 0.0, ""))
        self._wait(lambda: self.epoch is not None, self.cfg.join_wait, sleep)
        if self.epoch is not None and self.session.peers == 0:
            # the others are heard but Link has not joined their session yet: this host's beats are
            # not aligned with theirs, so wait for Link and take the position from the next announcement
            self._wait(lambda: self.session.peers > 0, max(2.0, self.cfg.join_wait), sleep)
            heard, self.epoch = self.epoch, None
            self._wait(lambda: self.epoch is not None, 1.5, sleep)
            with self._lock:
                self.epoch = self.epoch or heard
            if self.session.peers == 0:
                log.warning("sync: the other hosts are heard but Link found no peers (UDP 20808 blocked?)")
        with self._lock:
            if self.epoch is None:
                self.epoch = new_epoch(self.session.beat, self.cfg.beat, self.cfg.quantum)
                how = "started the show (no other host heard)"
            else:
                how = "joined the show"
            self.since = time.time()
        t = self._read()
        log.info(
            "sync: %s at show time %.3f s; %d Link peers",
            how,
            t,
            self.session.peers,
            extra={"event": "sync_join", "show_time_s": t, "epoch": self.epoch.eid, "host": self.host},
        )

    @staticmethod
    def _wait(done: Callable[[], bool], seconds: float, sleep: Callable[[float], None]) -> None:
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            sleep(0.01)

    def _announce(self) -> Message | None:
        """The epoch and this host's position in it; nothing while it is still joining.

        A joiner learns the epoch from an announcement before it plays (``since`` is still inf):
        announcing then would claim a position it does not hold, and inf has no JSON form."""
        epoch = self.epoch
        if epoch is None or not math.isfinite(self.since):
            return None
        beat = self.session.beat
        return Message(
            "epoch",
            self.show,
            self.host,
            epoch.origin,
            epoch.eid,
            phase=epoch.phase,
            quantum=epoch.quantum,
            beats=beat - epoch.anchor,
            since=self.since,
        )

    def _on_message(self, msg: Message) -> None:
        if msg.kind == "cue":
            self.cues.add_peer(msg)
            return
        if msg.kind == "hello":  # a host starting: the cues played so far, so it stands where we stand
            for played in self.cues.played():
                self.bus.send(played)
            return
        if not math.isclose(msg.quantum, self.cfg.quantum):
            if not self._warned_quantum:
                self._warned_quantum = True
                log.warning(
                    "sync: a host plays this show with quantum %g, this one %g: check [sync]",
                    msg.quantum,
                    self.cfg.quantum,
                )
            return
        candidate = adopt(self.session.beat, msg.beats, msg.phase, msg.quantum, msg.origin, msg.eid)
        with self._lock:
            current = self.epoch
            if current is not None and candidate.key > current.key:
                return  # a younger epoch: its hosts come to ours
            if current is not None and candidate.key == current.key:
                senior = (msg.since, msg.host) < (self.since, self.host)
                if not senior or abs(candidate.anchor - current.anchor) < 1e-3:
                    return
                event, what = "sync_realign", f"moving to the position of host {msg.host}, who plays it longer"
                self.realigned += 1
            else:
                event, what = "sync_adopt", f"following an older epoch of this show (from host {msg.host})"
                if current is not None:
                    self.adopted += 1
                    self.since = time.time()
            self.epoch = candidate
        if current is not None:
            jump = (current.anchor - candidate.anchor) * 60 / self.cfg.tempo
            log.warning(
                "sync: %s: show time moves %+.3f s",
                what,
                jump,
                extra={"event": event, "jump_s": jump, "epoch": candidate.eid},
            )

    # -- the clock -------------------------------------------------------------------------
    def _read(self, lead: float = 0.0) -> float:
        epoch = self.epoch
        assert epoch is not None
        beat = self.session.beat + (self.cfg.latency + lead) * self.session.tempo / 60.0
        return max(0.0, (beat - epoch.anchor) * 60.0 / self.cfg.tempo)

    def now(self) -> float:
        return self._now

    def tick(self) -> float:
        self.ticked_at = time.monotonic()
        self._now = self._read()
        return self._now

    def wall(self) -> float:
        return time.perf_counter()

    def cue_time(self) -> float:
        """The show time a cue put in now takes effect on every host: ``cue_lead`` ahead, on a bar if asked."""
        at = self._read(self.cfg.cue_lead)
        if self.cfg.cue_quantize and self.epoch is not None:
            q, spb = self.cfg.quantum, 60.0 / self.cfg.tempo
            beat = self.epoch.anchor + at / spb
            at = (math.ceil(beat / q - 1e-9) * q - self.epoch.anchor) * spb
        return at

    def send_cue(self, at: float, seq: int, event: ControlEvent, args: tuple) -> Message:
        epoch = self.epoch
        assert epoch is not None
        msg = Message(
            "cue",
            self.show,
            self.host,
            epoch.origin,
            epoch.eid,
            at=at,
            seq=seq,
            address=event.address,
            args=args,
            source=event.source[:64],
        )
        self.bus.send(msg)
        return msg

    def sync_status(self) -> dict:
        """What ``/status`` shows under ``sync``."""
        return {
            "show_time_s": round(self._now, 3),
            "peers": self.session.peers,
            "tempo": self.session.tempo,
            "epoch": self.epoch.eid if self.epoch else None,
            "bus_received": self.bus.received,
            "bus_rejected": self.bus.rejected,
            "bus_send_errors": getattr(self.bus, "send_errors", 0),
            "cues_waiting": len(self.cues),
            "cue_copies_dropped": self.cues.copies,
            "adopted": self.adopted,
            "realigned": self.realigned,
        }

    def close(self) -> None:
        self.bus.close()
        self.session.close()
