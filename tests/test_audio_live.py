"""Live audio: the file features from blocks, a file looped as the input, a desk over OSC."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.audio.decode import write_wav
from installation.audio.live import LiveFeatures
from installation.control.audio import AudioInput
from installation.control.config import BindingSpec, ControlConfig, OscConfig
from installation.control.events import EventQueue
from installation.control.osc_server import OscServer
from installation.control.standard import ShowLayout
from installation.control.system import Control, layout_from_show

SR = 22050


def clicks(dur=8.0, bpm=120.0):
    x = np.zeros(int(SR * dur))
    n = int(0.01 * SR)
    click = np.sin(2 * np.pi * 1000 * np.arange(n) / SR) * np.exp(-np.arange(n) / (0.002 * SR))
    for t in np.arange(0.25, dur - 0.05, 60 / bpm):
        i = int(round(t * SR))
        x[i : i + n] += click
    return 0.5 * x


def test_live_features_find_the_tempo_and_the_bands():
    x, bs = clicks(), 512
    live = LiveFeatures(SR, bs)
    outs = [live.process(x[i : i + bs], (i + bs) / SR) for i in range(0, len(x) - bs, bs)]
    assert abs(outs[-1]["/audio/tempo"] - 120.0) < 3.0  # blocks of 23 ms: coarser than the file's frames
    tone = LiveFeatures(SR, bs).process(0.5 * np.sin(2 * np.pi * 1000 * np.arange(bs) / SR), bs / SR)
    assert tone["/audio/band/mid"] > 5 * max(tone["/audio/band/low"], tone["/audio/band/high"])
    assert {"/audio/harmonic", "/audio/percussive", "/audio/flux", "/audio/beat/phase"} <= set(outs[-1])
    # the beat phase is near 0 on the clicks (the comb's phase follows the onsets)
    b = live.beat.beat_at(7.75 + 0.01)
    assert b is not None and min(b % 1.0, 1 - b % 1.0) < 0.15


def test_a_file_looped_as_the_input(tmp_path):
    write_wav(tmp_path / "c.wav", clicks(dur=1.0), SR)  # 1 s, looped: two clicks a second
    q = EventQueue(100000)
    inp = AudioInput(q, samplerate=SR, blocksize=512, file=tmp_path / "c.wav").start()
    try:
        time.sleep(2.5)
    finally:
        inp.stop()
    events = q.drain()
    onsets = [e for e in events if e.address == "/audio/onset"]
    assert 4 <= len(onsets) <= 6  # 2.5 s of a file with two clicks a second, looped
    assert {e.address for e in events} >= {"/audio/level", "/audio/band/low", "/audio/percussive"}
    assert all(e.source == "audio:file:c.wav" for e in events)


def test_missing_sound_card_is_one_clear_line():
    try:
        import sounddevice  # noqa: F401
    except (ImportError, OSError):
        pass
    else:
        pytest.skip("this machine has sounddevice")
    ctl = Control(ShowLayout(), ControlConfig.model_validate({"audio": {"enabled": True}}))
    ctl.start_inputs()
    assert "audio" in ctl.input_failures and "\n" not in ctl.input_failures["audio"]
    assert "pip install" in ctl.input_failures["audio"]
    assert ctl.health().startswith("degraded: audio input down")


def test_a_desk_sending_features_over_osc_drives_the_same_binding():
    show_bindings = [BindingSpec(input="/audio/band/low", param="/walk/speed", out_range=(0.0, 4.0))]
    ctl = Control(layout_from_show(None, ControlConfig()), ControlConfig(), show_bindings)
    server = OscServer.from_config(ctl.events, OscConfig(host="127.0.0.1", port=0)).start()
    try:
        msg = OscMessageBuilder("/audio/band/low")
        msg.add_arg(0.5)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(msg.build().dgram, server.address)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and ctl.registry.get("/walk/speed") != 2.0:
            ctl.frame(1 / 30)
            time.sleep(0.01)
    finally:
        server.stop()
    assert ctl.registry.get("/walk/speed") == 2.0
