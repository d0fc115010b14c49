"""`installation render SHOW --audio track.wav`: the sound is in the video, in sync, and drives it.

A click track at 120 BPM is bound to the output brightness (a pulse with a 0.1 s release); the
video and audio are decoded back: the audio stream carries the clicks at their times, the frame
differences peak on the clicks' frames, and two renders are identical.
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

from installation.audio.decode import write_wav

ROOT = Path(__file__).resolve().parents[1]
SR = 22050
FPS = 30
SHOW = """
[show]
name = "pulse"
[output]
width = 64
height = 48
fps = 30
[[scenes]]
name = "a"
duration = 600
keyframe_rate = 1
[scenes.generator]
plugin = "noisefield"
[[bindings]]
input = "/audio/onset"
param = "/output/brightness"
out_range = [0.2, 1.0]
smoothing = "envelope"
release = 0.1
"""


def click_track(path: Path, dur=4.0, bpm=120.0, off=0.25) -> np.ndarray:
    x = np.zeros(int(SR * dur))
    n = int(0.01 * SR)
    click = np.sin(2 * np.pi * 1000 * np.arange(n) / SR) * np.exp(-np.arange(n) / (0.002 * SR))
    ts = np.arange(off, dur - 0.05, 60 / bpm)
    for t in ts:
        i = int(round(t * SR))
        x[i : i + n] += click
    write_wav(path, 0.5 * x, SR)
    return ts


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    return subprocess.run(
        [sys.executable, "-m", "installation", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )


def decode(path: Path):
    with av.open(str(path)) as c:
        assert len(c.streams.audio) == 1 and c.streams.audio[0].codec_context.name == "aac"
        frames = [(f.time, f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        chunks = [(f.time, f.to_ndarray()[0]) for f in c.decode(audio=0)]
        rate = c.streams.audio[0].rate
    t0 = chunks[0][0]
    audio = np.concatenate([a for _, a in chunks])
    return frames, audio, rate, t0


def render_twice(d: Path):
    (d / "show.toml").write_text(textwrap.dedent(SHOW))
    clicks = click_track(d / "click.wav")
    outs = []
    for name in ("a.mp4", "b.mp4"):
        r = cli("render", str(d / "show.toml"), str(d / name), "--audio", str(d / "click.wav"))
        assert r.returncode == 0, r.stderr
        outs.append(d / name)
    return clicks, outs, r.stdout


@pytest.mark.gl
@pytest.mark.slow
def test_render_to_a_track(tmp_path):
    """One pair of renders, three checks: audio in sync, frames change on the beat, identical runs."""
    rendered = render_twice(tmp_path)
    check_audio_in_sync(rendered)
    check_frame_difference_peaks_on_the_clicks(rendered)
    check_two_renders_are_identical(rendered)


def check_audio_in_sync(rendered):
    clicks, (a, _), stdout = rendered
    frames, audio, rate, t0 = decode(a)
    assert len(frames) == 4 * FPS and "rendered 120 frames" in stdout
    v0 = frames[0][0]
    # the audio's clicks, found in the decoded stream, sit at their track times relative to frame 0
    # (within one video frame; AAC's encoder priming is part of what is allowed)
    env = np.abs(audio)
    found = []
    i = 0
    while i < env.size:
        if env[i] > 0.2:
            found.append(t0 + i / rate - v0)
            i += int(0.2 * rate)
        else:
            i += 1
    assert len(found) == len(clicks)
    assert np.max(np.abs(np.array(found) - clicks)) < 1 / FPS


def check_frame_difference_peaks_on_the_clicks(rendered):
    clicks, (a, _), _ = rendered
    frames, *_ = decode(a)
    img = np.array([f for _, f in frames], dtype=np.float64)
    diff = np.abs(np.diff(img, axis=0)).mean(axis=(1, 2, 3))  # diff[k]: frame k+1 against frame k
    peaks = [
        k + 1
        for k in range(1, diff.size - 1)
        if diff[k] > diff[k - 1] and diff[k] >= diff[k + 1] and diff[k] > 3 * np.median(diff)
    ]
    assert len(peaks) == len(clicks)
    assert np.max(np.abs(np.array(peaks) / FPS - clicks)) <= 1 / FPS


def check_two_renders_are_identical(rendered):
    _, (a, b), _ = rendered
    fa, aa, *_ = decode(a)
    fb, ab, *_ = decode(b)
    assert len(fa) == len(fb) and all(np.array_equal(x[1], y[1]) for x, y in zip(fa, fb))
    assert np.array_equal(aa, ab)


@pytest.mark.slow
def test_missing_or_bad_track_is_one_line(tmp_path):
    (tmp_path / "show.toml").write_text(textwrap.dedent(SHOW))
    (tmp_path / "bad.wav").write_text("not audio")
    r = cli("render", str(tmp_path / "show.toml"), str(tmp_path / "o.mp4"), "--audio", str(tmp_path / "bad.wav"))
    assert r.returncode == 1 and "bad.wav" in r.stderr and "Traceback" not in r.stderr
