"""Show files with audio: bad `[audio]` tables and audio bindings name file, line and field."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from installation.show.loader import ShowError, load_show

ROOT = Path(__file__).resolve().parents[1]
BASE = """
[[scenes]]
name = "a"
[scenes.generator]
plugin = "noisefield"
"""


def write(tmp_path, extra):
    p = tmp_path / "show.toml"
    p.write_text(textwrap.dedent(BASE) + textwrap.dedent(extra))
    return p


@pytest.mark.parametrize(
    "extra, line, field, words",
    [
        ("[audio]\ntrack = 't.wav'\nsections = 'novel'\n", 8, "audio.sections", "novelty"),
        (
            "[audio]\ntrack = 't.wav'\n[[audio.bands]]\nname = 'low'\nlo = 300\nhi = 200\n",
            8,
            "audio.bands[0]",
            "above lo",
        ),
        (
            "[audio]\ntrack = 't.wav'\n[[audio.at_beat]]\nbeat = 4\naddress = 'cue go'\n",
            10,
            "audio.at_beat[0].address",
            "control address",
        ),
        ("[audio]\ntrack = 't.wav'\nbmp = 120\n", 8, "audio.bmp", "unknown key"),
        (
            "[[bindings]]\ninput = '/audio/beat'\nparam = '/output/brightness'\nsmoothing = 'envelop'\n",
            9,
            "bindings[0].smoothing",
            "envelope",
        ),
        (
            "[[bindings]]\ninput = '/audio/beat'\nparam = '/output/brightness'\nsmoothing = 'envelope'\nrelease = -1\n",
            10,
            "bindings[0].release",
            "greater than or equal",
        ),
    ],
)
def test_bad_audio_tables_are_located(tmp_path, extra, line, field, words):
    path = write(tmp_path, extra)
    with pytest.raises(ShowError) as exc:
        load_show(path)
    text = str(exc.value)
    assert f"show.toml:{line}:" in text and field in text and words in text, text


def test_good_audio_table_loads(tmp_path):
    show = load_show(
        write(
            tmp_path,
            """
        [audio]
        track = "t.wav"
        sections = [8.0, 16.0]
        [[audio.at_beat]]
        beat = 16
        every = 16
        address = "/scene/next"
        [[bindings]]
        input = "/audio/percussive"
        param = "/direction/0"
        smoothing = "envelope"
        attack = 0.01
        release = 0.2
    """,
        )
    )
    assert show.audio.sections == [8.0, 16.0] and show.audio.at_beat[0].every == 16
    assert show.bindings[0].release == 0.2


@pytest.mark.slow
@pytest.mark.parametrize("name", ["soundtrack.toml", "soundtrack_beats.toml"])
def test_shipped_example_show_validates(name):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    r = subprocess.run(
        [sys.executable, "-m", "installation", "show", "validate", f"shows/{name}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_show_track_missing_is_one_line(tmp_path):
    from installation.audio.decode import AudioError
    from installation.control.system import Control

    show = load_show(write(tmp_path, "[audio]\ntrack = 'gone.wav'\n"))
    with pytest.raises(AudioError, match="gone.wav: no such sound file"):
        Control.from_show(show)


@pytest.mark.gl
@pytest.mark.slow
def test_the_track_is_found_beside_the_show_from_another_directory(tmp_path):
    """`[audio] track = "audio/track.wav"` is read beside the show file, wherever render is run."""
    import av

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    show = ROOT / "shows" / "soundtrack_beats.toml"
    args = ["render", str(show), "--out", "v.mp4", "--duration", "1", "--size", "64x36"]
    r = subprocess.run(
        [sys.executable, "-m", "installation", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr
    with av.open(str(tmp_path / "v.mp4")) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]
