"""Cues ``at_beat`` and scenes with ``keyframe_beats``: scene and keyframe changes land on the beat.

A show of two scenes is rendered to a 120 BPM click track (beat k at 0.25 + 0.5·k s) with the
real CLI and decoded: every large frame difference is a cue landing on its beat or a keyframe of
the beat-locked scene, each within one frame of its click, and two renders are identical.  The
timeline is also checked directly (GO waits for the beat; a live follower's landing is kept once
passed), and ``show validate`` locates an ``at_beat`` that has no beat source.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest

from installation.audio.beats import BeatGrid
from installation.audio.decode import write_wav
from installation.audio.follow import BeatFollower
from installation.show.loader import parse_show
from installation.show.timeline import Timeline

ROOT = Path(__file__).resolve().parents[1]
SR, FPS = 22050, 30
CLICKS = 0.25 + 0.5 * np.arange(12)  # the click track's beats: 0.25, 0.75 ... 5.75 s

SHOW = """
[show]
name = "beat cues"
[output]
width = 64
height = 48
fps = 30
[audio]
track = "click.wav"
sections = "none"
[[scenes]]
name = "a"
keyframe_rate = 0.25
transition = 0
[scenes.generator]
plugin = "noisefield"
[[scenes]]
name = "b"
keyframe_rate = 1
keyframe_beats = 1            # one keyframe a beat
transition = 0
[scenes.generator]
plugin = "noisefield"
base_grid = 8
seed = 11
[[cues]]
scene = "a"
duration = 1.1
[[cues]]
scene = "b"
duration = 1.1
at_beat = 1                   # the next beat
[[cues]]
scene = "a"
duration = 1.1
at_beat = 2                   # the next even beat
[[bindings]]                  # keyframes cut instead of fading over the whole beat
input = "/audio/tempo"
param = "/crossfade/time"
out_range = [0.0, 0.0]
"""
# a 1.1 s → b on beat 2 (1.25 s); its keyframes on beats 3, 4, 5; b 1.1 s → a on beat 6 (3.25 s,
# the next even beat after 2.35 s), then a plays on (cue 0 is a again) to the end
CHANGES = CLICKS[[2, 3, 4, 5, 6]]


def click_track(path: Path, dur: float = 5.5) -> None:
    x = np.zeros(int(SR * dur))
    n = int(0.01 * SR)
    click = np.sin(2 * np.pi * 1000 * np.arange(n) / SR) * np.exp(-np.arange(n) / (0.002 * SR))
    for t in CLICKS[CLICKS < dur - 0.05]:
        i = int(round(t * SR))
        x[i : i + n] += click
    write_wav(path, 0.5 * x, SR)


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    return subprocess.run(
        [sys.executable, "-m", "installation", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def frames_of(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.array([f.to_ndarray(format="rgb24") for f in c.decode(video=0)], dtype=np.float64)


@pytest.mark.gl
@pytest.mark.slow
def test_scene_and_keyframe_changes_land_on_the_beats(tmp_path):
    (tmp_path / "show.toml").write_text(textwrap.dedent(SHOW))
    click_track(tmp_path / "click.wav")
    renders = []
    for name in ("a.mp4", "b.mp4"):
        r = cli("render", str(tmp_path / "show.toml"), str(tmp_path / name), "--crf", "0")
        assert r.returncode == 0, r.stderr
        renders.append(frames_of(tmp_path / name))
    img = renders[0]
    assert len(img) == round(5.5 * FPS)
    diff = np.abs(np.diff(img, axis=0)).mean(axis=(1, 2, 3))  # diff[k]: frame k+1 against frame k
    big = np.flatnonzero(diff > 10 * np.median(diff)) + 1  # frames that differ much from the one before
    assert len(big) == len(CHANGES), (big / FPS, diff[big - 1])
    # each change shows on the first frame at or after its click: within one frame of the beat
    assert np.all(np.abs(big / FPS - CHANGES) < 1 / FPS + 1e-9), big / FPS
    assert np.array_equal(renders[0], renders[1])


def test_go_waits_for_the_beat_and_a_live_landing_is_kept(tmp_path):
    show = parse_show(textwrap.dedent(SHOW))
    tl = Timeline(show, beats=BeatGrid(CLICKS, 120.0))
    tl.go(1.6)  # during b's first second: cue a (at_beat = 2) lands on the next even beat, 2.25 s
    assert tl.current(2.2).scene == 1 and tl.current(2.25).scene == 0
    assert tl.current(2.25).start == pytest.approx(2.25)
    # live: a follower learns the beat from pulses; a landing is kept once show time passes it
    follower = BeatFollower()
    live = Timeline(show, beats=follower)
    for t in (0.25, 0.75):
        follower.pulse(t)
    live.now = 1.0
    assert live.next_fire(1.0)[0] == pytest.approx(1.25)  # predicted: a beat every 0.5 s
    live.now = 1.3
    assert live.current(1.3).start == pytest.approx(1.25)
    follower.pulse(1.2)  # a late-heard earlier beat does not move the cue that has started
    assert live.current(1.3).start == pytest.approx(1.25)


@pytest.mark.slow
def test_at_beat_without_a_beat_source_is_located(tmp_path):
    text = textwrap.dedent(SHOW).replace('[audio]\ntrack = "click.wav"\nsections = "none"\n', "")
    (tmp_path / "show.toml").write_text(text)
    r = cli("show", "validate", str(tmp_path / "show.toml"))
    assert r.returncode != 0 and "Traceback" not in r.stderr + r.stdout
    out = r.stdout + r.stderr
    at = text.splitlines().index("at_beat = 1                   # the next beat") + 1
    assert f"show.toml:{at}: cues[1].at_beat: at_beat needs a beat source" in out, out
    assert "scenes[1].keyframe_beats" in out
