"""The pieces of ``[sync]`` without a network: epoch arithmetic, the wire format, the cue
schedule, the Link clock on a stand-in session and peer bus, frame records in the log."""

from __future__ import annotations

import json
import logging
import math

import pytest

from installation.control.events import ControlEvent, EventQueue
from installation.show.sync_types import SyncConfig
from installation.sync.clock import LinkClock
from installation.sync.cues import CueSchedule, ForwardingQueue
from installation.sync.epoch import BadMessage, Message, adopt, decode, encode, new_epoch, show_beats


# --- epoch arithmetic -------------------------------------------------------------------------
def test_late_joiner_counting_other_bars_plays_the_same_show_time():
    """Link peers agree on phase, not on the bar count: host B counts 8 beats (2 bars) behind A."""
    a = new_epoch(beat_now=10.3, beat_zero=0.0, quantum=4.0)
    assert a.anchor == 12.0  # show time 0 on the next downbeat
    a_beat_now = 37.25
    sent = show_beats(a, a_beat_now)
    transit_beats = 0.006  # 3 ms at 120 bpm
    b = adopt(a_beat_now - 8 + transit_beats, sent, a.phase, 4.0, a.origin, a.eid)
    assert b.anchor == a.anchor - 8
    assert show_beats(b, a_beat_now - 8) == pytest.approx(show_beats(a, a_beat_now), abs=1e-12)
    assert b.key == a.key


def test_beat_zero_keeps_its_phase_and_waits_for_itself_when_ahead():
    assert new_epoch(10.3, beat_zero=1.0, quantum=4.0).anchor == 13.0
    assert new_epoch(2.0, beat_zero=16.0, quantum=4.0).anchor == 16.0
    assert new_epoch(8.0, beat_zero=0.0, quantum=4.0).anchor == 8.0


# --- the wire format ----------------------------------------------------------------------------
def test_messages_round_trip():
    for msg in (
        Message("epoch", "s", "h1", 1.5, "e1", phase=1.0, quantum=4.0, beats=123.25),
        Message("cue", "s", "h1", 1.5, "e1", at=7.25, seq=3, address="/walk/speed", args=(0.5, 2, "x", True)),
        Message("hello", "s", "h2", 0.0, ""),
    ):
        assert decode(encode(msg)) == msg


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01",
        b"[1, 2]",
        json.dumps({"v": 2, "k": "epoch"}).encode(),
        b'{"v":1,"k":"epoch","show":"s","host":"h","origin":NaN,"eid":"e","r":0,"q":4,"s":1}',
        json.dumps(
            {"v": 1, "k": "epoch", "show": "s", "host": "h", "origin": 1, "eid": "e", "r": 0, "q": 0, "s": 1}
        ).encode(),
        json.dumps(
            {
                "v": 1,
                "k": "cue",
                "show": "s",
                "host": "h",
                "origin": 1,
                "eid": "e",
                "at": 1,
                "n": 1,
                "a": "x",
                "args": [],
            }
        ).encode(),
        json.dumps(
            {
                "v": 1,
                "k": "cue",
                "show": "s",
                "host": "h",
                "origin": 1,
                "eid": "e",
                "at": 1,
                "n": 1,
                "a": "/x",
                "args": [[1]],
            }
        ).encode(),
        json.dumps({"v": 1, "k": "nope", "show": "s", "host": "h", "origin": 1, "eid": "e"}).encode(),
        json.dumps({"v": 1, "k": "hello", "show": "s" * 300, "host": "h", "origin": 1, "eid": "e"}).encode(),
        b" " * 5000,
    ],
)
def test_hostile_datagrams_are_refused(data):
    with pytest.raises(BadMessage):
        decode(data)


# --- cues ---------------------------------------------------------------------------------------
def test_cue_schedule_plays_in_show_time_order_once_each():
    sched = CueSchedule()
    cue = Message("cue", "s", "h1", 1.0, "e", at=2.0, seq=0, address="/scene/next")
    assert sched.add_peer(cue)
    assert not sched.add_peer(cue)  # the same datagram twice, or a history resent
    sched.add(1.0, ControlEvent("/cue/go"))
    assert sched.due(0.99) == []
    assert [e.address for e in sched.due(5.0)] == ["/cue/go", "/scene/next"]
    assert sched.played() == [cue]  # only what travels is kept for hosts that start later


def test_forwarding_queue_schedules_and_sends_input_but_keeps_peer_and_local_messages():
    sched, sent = CueSchedule(), []
    q = ForwardingQueue(
        EventQueue(16),
        sched,
        cue_time=lambda: 3.5,
        send=lambda at, n, ev, args: sent.append((at, n, ev.address, args)),
        local_addresses=("/query",),
    )
    q.put(ControlEvent("/walk/speed", (0.5,), source="127.0.0.1:5000"))
    q.put(ControlEvent("/scene/next", (), source="sync:abc"))  # from a peer: never sent on
    q.put(ControlEvent("/query", ("/walk",), source="127.0.0.1:5000"))
    q.put(ControlEvent("/x", (b"blob",), source="127.0.0.1:5000"))  # a blob cannot travel
    assert sent == [(3.5, 0, "/walk/speed", (0.5,))]
    assert [e.address for e in q.drain()] == ["/scene/next", "/query", "/x"]
    assert [e.source for e in sched.due(3.5)] == ["127.0.0.1:5000"]  # a reply still finds its sender


# --- the clock on a stand-in session and bus ----------------------------------------------------
class FakeSession:
    def __init__(self, beat: float = 0.0, tempo: float = 120.0):
        self.beat, self.tempo, self.peers, self.closed = beat, tempo, 1, False

    def close(self) -> None:
        self.closed = True


class FakeBus:
    """Records what the clock sends; ``reply`` is what a peer answers to hello (delivered at once)."""

    reply: list[Message] = []

    def __init__(self, cfg, show, host, on_message, announce):
        self.on_message, self.announce, self.sent, self.received, self.rejected = on_message, announce, [], 0, 0

    def start(self):
        return self

    def send(self, msg: Message) -> None:
        self.sent.append(msg)
        if msg.kind == "hello":
            for m in self.reply:
                self.on_message(m)

    def close(self) -> None:
        pass


def _clock(session, reply=(), **cfg) -> LinkClock:
    bus = type("Bus", (FakeBus,), {"reply": list(reply)})
    return LinkClock(
        SyncConfig(link=True, join_wait=0.05, **cfg), "show", session=session, bus=bus, sleep=lambda s: None
    )


def test_first_host_starts_on_the_next_bar_and_counts_seconds_at_the_show_tempo():
    s = FakeSession(beat=2.5)
    clock = _clock(s, tempo=120)
    assert clock.tick() == 0.0  # show time 0 is ahead, on beat 4: held at 0 until then
    s.beat = 4 + 10
    assert clock.tick() == pytest.approx(5.0)
    ann = clock._announce()
    assert (ann.kind, ann.beats, ann.phase) == ("epoch", 10.0, 0.0)
    clock.close()
    assert s.closed


def test_a_starting_host_joins_at_the_position_the_others_announce():
    peer = Message("epoch", "show", "other", 100.0, "old", phase=0.0, quantum=4.0, beats=60.0)
    s = FakeSession(beat=8.0)  # this host counts its own bars (the phase is the same: Link)
    clock = _clock(s, reply=[peer])
    assert clock.tick() == pytest.approx(30.0)  # 60 beats at 120 bpm
    assert clock.bus.sent[0].kind == "hello"
    # a younger epoch (a host that started alone at the same time) is ignored; an older one is followed
    clock._on_message(Message("epoch", "show", "x", 200.0, "young", phase=0.0, quantum=4.0, beats=0.0))
    assert clock.tick() == pytest.approx(30.0)
    clock._on_message(Message("epoch", "show", "y", 50.0, "older", phase=0.0, quantum=4.0, beats=8.0))
    assert clock.tick() == pytest.approx(4.0) and clock.adopted == 1


def test_latency_renders_ahead_and_cues_land_a_lead_ahead_or_on_the_next_bar():
    s = FakeSession(beat=0.0)
    clock = _clock(s, latency=0.1, cue_lead=0.25)
    s.beat = clock.epoch.anchor + 20  # 10 s into the show
    assert clock.tick() == pytest.approx(10.1)
    assert clock.cue_time() == pytest.approx(10.35)
    clock.cfg = clock.cfg.model_copy(update={"cue_quantize": True})
    assert clock.cue_time() == pytest.approx(12.0)  # the bar after 10.35 s: beat 24 of the show


def test_hello_is_answered_with_the_cues_played_so_far():
    clock = _clock(FakeSession())
    cue = Message("cue", "show", "h9", 1.0, "e", at=0.0, seq=0, address="/scene/next")
    clock._on_message(cue)
    clock.cues.due(1.0)
    clock._on_message(Message("hello", "show", "new", 0.0, ""))
    assert clock.bus.sent[-1] == cue


def test_control_applies_a_forwarded_cue_at_its_show_time():
    from installation.control.system import Control
    from installation.sync import attach

    show = {"scenes": [], "control": {}}
    control = Control.from_show(type("S", (), show)())
    clock = _clock(FakeSession())
    clock.cue_time = lambda: 2.0
    attach(control, clock)
    control.events.put(ControlEvent("/scene/next", (), source="127.0.0.1:1"))
    assert control.frame(0.03, 1.99).triggers == {}
    assert control.frame(0.03, 2.0).triggers == {"/scene/next": 1}
    assert clock.bus.sent[-1].address == "/scene/next" and clock.bus.sent[-1].at == 2.0


# --- schema and the missing package ------------------------------------------------------------
def test_sync_table_errors_name_the_field():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="address"):
        SyncConfig(address="not-an-address")
    with pytest.raises(ValidationError, match="tempo"):
        SyncConfig(tempo=5)
    with pytest.raises(ValidationError):
        SyncConfig(lnk=True)
    assert SyncConfig().multicast and not SyncConfig(address="10.0.0.255").multicast


def test_missing_aalink_is_one_line(monkeypatch):
    import sys

    from installation.cli.common import user_error
    from installation.link import require_aalink

    monkeypatch.setitem(sys.modules, "aalink", None)
    with pytest.raises(Exception) as info:
        require_aalink("show.toml: [sync] link = true")
    text, code = user_error(info.value)
    assert code == 2 and "\n" not in text
    assert text.startswith("show.toml: [sync] link = true needs the Python package 'aalink'")


# --- frame records in the log --------------------------------------------------------------------
def test_frame_records_are_never_rate_limited_and_stay_off_the_console(tmp_path, capsys):
    from installation.health.logs import log_frame, setup_logging

    log = tmp_path / "run.jl"
    setup_logging(verbose=True, log_file=log)
    try:
        for n in range(500):
            log_frame(n, n / 30, 1000 + n / 30, "a")
        for _ in range(50):
            logging.getLogger("x").info("noisy")
    finally:
        setup_logging()
    docs = [json.loads(line) for line in log.read_text().splitlines()]
    frames = [d for d in docs if d.get("event") == "frame"]
    assert [d["frame"] for d in frames] == list(range(500))
    assert set(frames[7]) >= {"frame", "show_time_s", "monotonic_s", "scene"} and "_rate_exempt" not in frames[7]
    assert math.isclose(frames[30]["show_time_s"], 1.0)
    assert sum(d["message"] == "noisy" for d in docs) == 20  # other records still are
    assert "frame" not in capsys.readouterr().err


def test_log_frames_needs_a_log_file(tmp_path):
    from typer.testing import CliRunner

    from installation.cli import build_app

    show = tmp_path / "s.toml"
    show.write_text('[[scenes]]\nname = "a"\n[scenes.generator]\nplugin = "noisefield"\n')
    result = CliRunner().invoke(build_app(), ["run", str(show), "--headless", "--log-frames"])
    assert result.exit_code == 1 and "--log-frames writes to the JSON log: add --log-file PATH" in result.output


def test_within_one_epoch_juniors_move_to_seniors_never_the_other_way():
    s = FakeSession(beat=8.0)
    clock = _clock(s, reply=[Message("epoch", "show", "old", 1.0, "e", phase=0.0, quantum=4.0, beats=8.0, since=5.0)])
    assert clock.tick() == pytest.approx(4.0)
    # a host that began later announces a position a bar off (it joined while Link was aligning): ignored
    junior = Message("epoch", "show", "young", 1.0, "e", phase=0.0, quantum=4.0, beats=12.0, since=clock.since + 60)
    clock._on_message(junior)
    assert clock.tick() == pytest.approx(4.0) and clock.realigned == 0
    # the host that has played it longest says otherwise: this one moves
    senior = Message("epoch", "show", "first", 1.0, "e", phase=0.0, quantum=4.0, beats=4.0, since=1.0)
    clock._on_message(senior)
    assert clock.tick() == pytest.approx(2.0) and clock.realigned == 1


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 0, 2)])
def test_copies_of_one_broadcast_cue_play_once_at_the_earliest_copy(order):
    """A controller broadcasts GO: all three hosts get it, schedule it a little apart, send it on."""
    copies = [
        Message("cue", "s", host, 1.0, "e", at=at, seq=0, address="/scene/next", source="10.0.0.9:5000")
        for host, at in (("h1", 5.010), ("h2", 5.002), ("h3", 5.005))
    ]
    sched = CueSchedule()
    for k in order:
        if copies[k].host == "h1":  # this host's own copy keeps the controller as its source
            sched.add(copies[k].at, ControlEvent("/scene/next", (), source="10.0.0.9:5000"), copies[k])
        else:
            sched.add_peer(copies[k])
    assert len(sched) == 1
    played = sched.due(6.0)
    assert len(played) == 1 and sched.played() == [copies[1]]


def test_a_double_tap_and_two_controllers_are_two_cues():
    sched = CueSchedule()
    sched.add_peer(Message("cue", "s", "h2", 1.0, "e", at=5.0, seq=0, address="/cue/go", source="10.0.0.9:5000"))
    sched.add_peer(Message("cue", "s", "h3", 1.0, "e", at=5.6, seq=0, address="/cue/go", source="10.0.0.9:5000"))
    sched.add_peer(Message("cue", "s", "h3", 1.0, "e", at=5.0, seq=1, address="/cue/go", source="10.0.0.8:5000"))
    assert len(sched.due(6.0)) == 3


def test_status_reports_the_session_and_the_other_hosts():
    clock = _clock(FakeSession(beat=3.0))
    status = clock.sync_status()
    assert status["peers"] == 1 and status["tempo"] == 120.0 and status["epoch"] == clock.epoch.eid
    assert {"bus_received", "bus_rejected", "cues_waiting", "adopted", "realigned"} <= set(status)


def test_under_sync_opening_hours_gate_the_show_but_show_time_stays_the_hosts():
    import datetime as dt

    from installation.show.loader import parse_show
    from installation.show.playhead import Playhead

    show = parse_show(
        """
[schedule]
timezone = "Europe/Berlin"
hours = { daily = ["10:00-18:00"] }
outside = "blackout"
fade = 30
[[scenes]]
name = "a"
duration = 100
[scenes.generator]
plugin = "noisefield"
[[scenes]]
name = "b"
duration = 100
[scenes.generator]
plugin = "noisefield"
"""
    )
    berlin = dt.timezone(dt.timedelta(hours=1))  # December: CET
    instant = {"t": dt.datetime(2026, 12, 3, 9, 0, tzinfo=berlin).timestamp()}  # closed
    head = Playhead(show, now=lambda: instant["t"], hours_gate_only=True)
    assert head.update(150.0) == []  # before opening: dark, whatever the hosts' show time
    instant["t"] = dt.datetime(2026, 12, 3, 12, 0, tzinfo=berlin).timestamp()
    (layer,) = head.update(150.0)
    assert layer.scene.name == "b" and layer.opacity == 1.0  # open: the hosts' show time (150 s is scene b)
    instant["t"] = dt.datetime(2026, 12, 3, 10, 0, 15, tzinfo=berlin).timestamp()
    (layer,) = head.update(20.0)
    assert layer.scene.name == "a" and 0.3 < layer.opacity < 0.7  # the opening fade, by the wall clock


# --- a joiner that heard the epoch before it plays ---------------------------------------------
def test_a_joining_host_does_not_announce_until_it_plays():
    """It learns the epoch from an announcement while ``since`` is still inf: announcing then
    killed the bus thread (inf has no JSON form), and the host never heard a cue again."""
    peer = Message("epoch", "show", "other", 100.0, "old", phase=0.0, quantum=4.0, beats=60.0)
    s = FakeSession(beat=8.0)
    s.peers = 0  # Link has not joined yet: the clock waits (calling sleep) with the epoch heard
    made: list[FakeBus] = []

    class Bus(FakeBus):
        reply = [peer]

        def __init__(self, *a):
            super().__init__(*a)
            made.append(self)

    during: list[object] = []

    def sleep(_):
        during.append(made[-1].announce())
        s.peers = 1
        made[-1].on_message(peer)

    clock = LinkClock(SyncConfig(link=True, join_wait=0.05), "show", session=s, bus=Bus, sleep=sleep)
    assert during and all(m is None for m in during)
    ann = clock._announce()  # playing now: it announces, and the message encodes
    assert ann is not None and decode(encode(ann)) == ann


def test_a_message_with_a_non_finite_field_is_refused_as_bad():
    msg = Message("epoch", "show", "h", 1.0, "e", phase=0.0, quantum=4.0, beats=1.0, since=math.inf)
    with pytest.raises(BadMessage, match="non-finite"):
        encode(msg)


def test_the_bus_thread_outlives_a_failing_announcement():
    import threading
    import time

    from installation.sync.bus import PeerBus

    calls: list[int] = []

    def announce():
        calls.append(1)
        raise RuntimeError("a bug")

    class Sock:
        def recvfrom(self, n):
            time.sleep(0.01)
            raise TimeoutError

        def close(self):
            pass

    bus = PeerBus.__new__(PeerBus)  # no socket: the loop alone (the wire is tested in namespaces)
    bus.announce, bus.interval, bus.sock, bus._stop = announce, 0.02, Sock(), threading.Event()
    bus._thread = threading.Thread(target=bus._run, daemon=True)
    bus.start()
    time.sleep(0.3)
    alive = bus._thread.is_alive()
    bus.close()
    assert alive and len(calls) >= 3
