"""MIDI, audio, serial and replay inputs without hardware: byte/message feeding, synthetic audio, files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from installation.control.audio import AudioAnalyzer, AudioInput
from installation.control.config import BindingSpec
from installation.control.events import EventQueue
from installation.control.midi import MidiInput
from installation.control.params import Parameter, ParameterRegistry
from installation.control.replay import EventRecorder, Replay, ReplayError, read_events
from installation.control.router import ControlRouter
from installation.control.serial_input import SerialInput, parse_line


def registry():
    return ParameterRegistry([
        Parameter("/walk/speed", "float", (0.0, 8.0), 1.0),
        Parameter("/output/brightness", "float", (0.0, 2.0), 1.0),
        Parameter("/cue/go", "trigger"),
    ])


def test_midi_bytes_become_events_and_drive_bindings():
    q = EventQueue()
    midi = MidiInput(q)
    assert midi.feed_bytes([0xB0, 7, 127])       # CC 7 on channel 1
    assert midi.feed_bytes([0x91, 60, 100])      # note on, channel 2
    assert midi.feed_bytes([0x81, 60, 0])        # note off
    assert midi.feed_bytes([0xE0, 0x00, 0x40])   # pitch bend centre
    assert not midi.feed_bytes([0xF8])           # clock is ignored
    assert not midi.feed_bytes([0xB0, 200, 1])   # data byte out of range
    assert not midi.feed_bytes(b"")
    evs = q.drain()
    assert [(e.address, e.args) for e in evs] == [
        ("/midi/cc/1/7", (127,)), ("/midi/note/2/60", (100,)), ("/midi/note/2/60", (0,)), ("/midi/pitch/1", (0,))]
    assert q.counters["midi_ignored"] == 3
    reg = registry()
    router = ControlRouter(reg, [BindingSpec(input="/midi/cc/1/7", param="/output/brightness"),
                                 BindingSpec(input="/midi/note/2/60", param="/cue/go")])
    router.update(evs, dt=0.0)
    assert reg["/output/brightness"] == 2.0 and reg.pop_triggers() == {"/cue/go": 1}


def test_midi_learn_through_mido_messages():
    mido = pytest.importorskip("mido")
    q = EventQueue()
    midi = MidiInput(q)
    reg = registry()
    router = ControlRouter(reg)
    router.learn("/walk/speed")
    midi.feed(mido.Message("control_change", channel=3, control=21, value=64))
    router.update(q.drain(), dt=0.0)
    assert router.learned[0].input == "/midi/cc/4/21"
    assert reg["/walk/speed"] == pytest.approx(8 * 64 / 127)
    midi.feed(mido.Message("control_change", channel=3, control=21, value=0))
    midi.feed(mido.Message("sysex", data=[1, 2, 3]))
    router.update(q.drain(), dt=0.0)
    assert reg["/walk/speed"] == 0.0 and q.counters["midi_ignored"] == 1


def sine(freq, amp, n, sr=48000, phase=0):
    t = (np.arange(n) + phase) / sr
    return amp * np.sin(2 * np.pi * freq * t)


def test_audio_level_is_rms():
    a = AudioAnalyzer(48000)
    level, _ = a.process(sine(440, 0.5, 4800))
    assert level == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    level, _ = a.process(np.zeros((1024, 2)))
    assert level == 0.0


def test_audio_onsets_found_on_clicks_not_on_steady_tone():
    sr, bs = 48000, 512
    rng = np.random.default_rng(0)
    a = AudioAnalyzer(sr, blocksize=bs)
    signal = sine(220, 0.2, sr * 3) + rng.normal(0, 1e-3, sr * 3)
    hits = [int(sr * t) for t in (0.7, 1.4, 2.1)]
    for h in hits:  # percussive bursts: decaying noise
        n = 2000
        signal[h:h + n] += rng.normal(0, 0.5, n) * np.exp(-np.arange(n) / 300)
    onsets = []
    for i in range(0, len(signal) - bs + 1, bs):
        _, onset = a.process(signal[i:i + bs])
        if onset:
            onsets.append(i)
    assert len(onsets) == 3
    for h, o in zip(hits, onsets):
        assert abs(o - h) <= bs
    steady = AudioAnalyzer(sr, blocksize=bs)
    assert not any(steady.process(sine(220, 0.3, bs, phase=i))[1] for i in range(0, sr * 2, bs))


def test_audio_input_enqueues_level_changes_and_onsets():
    q = EventQueue()
    inp = AudioInput(q, level_epsilon=0.01, blocksize=512)
    for i in range(20):
        inp.feed(sine(220, 0.1, 512, phase=512 * i))
    inp.feed(np.random.default_rng(1).normal(0, 0.6, 512))
    inp.feed(np.array([np.nan] * 512))
    addrs = [e.address for e in q.drain()]
    assert addrs.count("/audio/level") == 3  # first, the burst, the NaN block (as silence)
    assert addrs.count("/audio/onset") == 1


def test_serial_line_parser():
    assert parse_line(b"light=512 dist=1.25\r\n") == ({"light": 512.0, "dist": 1.25}, 0)
    assert parse_line("a=1,b=2;c=-3e2") == ({"a": 1.0, "b": 2.0, "c": -300.0}, 0)
    assert parse_line("temp 22") == ({}, 2)
    assert parse_line("x=abc y=nan 9z=1 ok=0") == ({"ok": 0.0}, 3)
    assert parse_line(b"\xff\xfe=1") == ({}, 1)


def test_serial_replay_from_file_drives_a_binding(tmp_path):
    log = tmp_path / "sensor.log"
    log.write_bytes(b"dist=0.5\nnoise\n\ndist=2.0 light=3\n" + b"\x00\xff garbage\n" + b"dist=1.0\n")
    q = EventQueue()
    inp = SerialInput.from_file(q, log).start()
    assert inp.done.wait(5)
    inp.stop()
    evs = q.drain()
    assert [(e.address, e.value) for e in evs] == [
        ("/serial/dist", 0.5), ("/serial/dist", 2.0), ("/serial/light", 3.0), ("/serial/dist", 1.0)]
    assert q.counters["serial_malformed"] == 3
    reg = registry()
    router = ControlRouter(reg, [BindingSpec(input="/serial/dist", param="/walk/speed", in_range=(0, 2),
                                             out_range=(0, 8), smoothing="onepole", time=0.1)])
    reg.set("/walk/speed", 0.0)
    router.update(evs, dt=1.0)  # last sample (1.0) wins; ten time constants later it has arrived
    assert reg["/walk/speed"] == pytest.approx(4.0, rel=1e-3)


def test_record_and_replay_round_trip(tmp_path):
    from installation.control.events import ControlEvent

    path = tmp_path / "rehearsal.jsonl"
    rec = EventRecorder(path)
    rec.record([ControlEvent("/1/fader1", (0.5,), "10.0.0.2:9000", 100.0),
                ControlEvent("/cue/go", (), "10.0.0.2:9000", 100.05),
                ControlEvent("/blob", (b"\x00", 1), "x", 100.1)])
    rec.close()
    items = read_events(path)
    assert [(round(t, 3), a, args) for t, a, args, _ in items] == [
        (0.0, "/1/fader1", (0.5,)), (0.05, "/cue/go", ()), (0.1, "/blob", (1,))]
    q = EventQueue()
    rp = Replay(q, path, speed=10.0).start()
    assert rp.done.wait(5)
    assert [e.address for e in q.drain()] == ["/1/fader1", "/cue/go", "/blob"]
    assert Replay(q, path).feed_all() == 3


def test_bad_replay_file_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"t": 0, "address": "/a"}) + "\n{nope\n")
    with pytest.raises(ReplayError, match="bad.jsonl:2"):
        read_events(path)
