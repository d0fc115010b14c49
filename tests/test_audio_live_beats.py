"""Live beats: the looped-file stand-in and a desk over OSC give the show the beat pulse, and a
cue ``at_beat`` fired live lands on a beat.

Both run the real chain: the input (the file thread, or an OSC server on loopback with real UDP
packets) enqueues ``/audio/beat``, ``Control.frame`` drains it at show time, the beat follower
numbers the pulses and the playhead lands the cue.  Show time is the sound's own time (the file
input's position, or the times the test sends its packets at), so nothing here measures speed.
"""

from __future__ import annotations

import socket
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.audio.decode import write_wav
from installation.audio.follow import BeatFollower
from installation.control.system import Control
from installation.runtime.routing import ControlRouting
from installation.show.loader import load_show
from installation.show.playhead import Playhead

SR = 22050
BASE = """
[[scenes]]
name = "a"
[scenes.generator]
plugin = "noisefield"
[[scenes]]
name = "b"
[scenes.generator]
plugin = "noisefield"
[[cues]]
scene = "a"
continue = "manual"
[[cues]]
scene = "b"
at_beat = {at_beat}
continue = "manual"
"""


def clicks(dur: float) -> np.ndarray:
    """A click on every beat at 120 BPM: 0.25 s, 0.75 s, ... (and on, looped, for a 2 s file)."""
    x = np.zeros(int(SR * dur))
    n = int(0.01 * SR)
    click = np.sin(2 * np.pi * 1000 * np.arange(n) / SR) * np.exp(-np.arange(n) / (0.002 * SR))
    for t in np.arange(0.25, dur - 0.05, 0.5):
        i = int(round(t * SR))
        x[i : i + n] += click
    return 0.5 * x


def off_beat(t: float) -> float:
    """Distance (s) from show time t to the nearest click of the looped track."""
    return abs(((t - 0.25 + 0.25) % 0.5) - 0.25)


def frame(routing: ControlRouting, playhead: Playhead, t: float, dt: float) -> None:
    routing.apply(playhead.show, t, dt, t)
    playhead.update(t)


@pytest.mark.slow
def test_a_looped_file_gives_the_beat_and_a_cue_lands_on_it(tmp_path, monkeypatch):
    show_dir = tmp_path / "show"
    show_dir.mkdir()
    write_wav(show_dir / "click.wav", clicks(2.0), SR)
    (show_dir / "show.toml").write_text(
        textwrap.dedent(BASE.format(at_beat=1))
        + '[control.audio]\nenabled = true\nfile = "click.wav"\nsamplerate = 22050\nblocksize = 512\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the file is found beside the show, not in the working directory
    show = load_show(show_dir / "show.toml")
    assert Path(show.control.audio.file) == show_dir / "click.wav"
    control = Control.from_show(show)
    control.start_inputs()
    try:
        assert control.input_failures == {}
        inp = control.inputs["audio"]
        playhead = Playhead(show)
        routing = ControlRouting(control, playhead)
        follower = control.beats
        assert isinstance(follower, BeatFollower) and playhead.beats is follower
        deadline, t = time.monotonic() + 60, 0.0
        while len(follower.beats) < 6 and time.monotonic() < deadline:
            t_new = inp.position  # show time is the sound's time
            frame(routing, playhead, t_new, t_new - t)
            t = t_new
            time.sleep(0.003)
        assert len(follower.beats) >= 6, "no beat pulses from the looped file"
        pulses = [when for _, when in follower.beats]
        assert max(off_beat(p) for p in pulses) < 0.1, pulses
        assert abs(follower.tempo_at(t) - 120.0) < 3.0
        routing.handle(show, t, "/cue/go")
        fired_at = t
        while playhead.timeline.current(t).cue != 1 and time.monotonic() < deadline:
            t_new = inp.position
            frame(routing, playhead, t_new, t_new - t)
            t = t_new
            time.sleep(0.003)
        start = playhead.timeline.current(t).start
        assert fired_at <= start <= fired_at + 0.5 + 1e-6  # the next beat, not later
        assert off_beat(start) < 0.1, (fired_at, start, pulses)
    finally:
        control.stop()


def send(address: str, value: float, to: tuple[str, int]) -> None:
    msg = OscMessageBuilder(address)
    msg.add_arg(value)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(msg.build().dgram, to)


def test_a_desk_sending_beats_over_osc_lands_a_cue(tmp_path):
    (tmp_path / "show.toml").write_text(
        textwrap.dedent(BASE.format(at_beat=2)) + '[control.osc]\nhost = "127.0.0.1"\nport = 0\n'
    )
    show = load_show(tmp_path / "show.toml")
    control = Control.from_show(show)
    control.start_inputs()
    try:
        to = control.inputs["osc"].address
        playhead = Playhead(show)
        routing = ControlRouting(control, playhead)
        follower = control.beats
        deadline = time.monotonic() + 30

        def at(t: float, until) -> None:
            """Frames at show time t until ``until()`` holds (the packet has been drained)."""
            while not until() and time.monotonic() < deadline:
                frame(routing, playhead, t, 0.0)
                time.sleep(0.002)
            assert until(), f"nothing arrived by show time {t}"

        send("/audio/tempo", 120.0, to)
        at(0.0, lambda: follower.bpm == 120.0)
        for k, t in enumerate((0.25, 0.75, 1.25, 1.75)):  # the desk's beats, sent at their show times
            send("/audio/beat", 1.0, to)
            at(t, lambda k=k: len(follower.beats) == k + 1)
        assert follower.beat_at(2.0) == pytest.approx(3.5)
        send("/cue/go", 1.0, to)  # GO at 1.9: cue b (at_beat = 2) waits for beat 4, at 2.25 s
        at(1.9, lambda: playhead.timeline.events != [])
        t = 1.9
        while playhead.timeline.current(t).cue != 1:
            t += 1 / 30
            frame(routing, playhead, t, 1 / 30)
            assert t < 3.0
        assert playhead.timeline.current(t).start == pytest.approx(2.25)
    finally:
        control.stop()
