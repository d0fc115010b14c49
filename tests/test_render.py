"""``installation render``: seeking renders the same frames as a longer render's tail."""
from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from installation.cli import build_app
from installation.cli.timecode import parse_time
from installation.output.video import read_video

SHOW = """
[show]
seed = 4
[output]
width = 64
height = 64
fps = 10

[[scenes]]
name = "loop"
duration = 1.5
keyframe_rate = 4
transition = {{ duration = 0.6, curve = "ease-in-out" }}
[scenes.generator]
plugin = "noisefield"
size = 32
[scenes.walk]
type = "loop"
period = 3

[[scenes]]
name = "steered"
duration = 1.5
keyframe_rate = 4
transition = 0.5
[scenes.generator]
plugin = "noisefield"
size = 32
seed = 3
[scenes.walk]
type = "steered"
period = 4
{extra}
"""


def test_parse_time():
    assert parse_time("600") == 600 and parse_time("00:10:00") == 600 and parse_time("1:02:03.5") == 3723.5
    assert parse_time("10:00") == 600
    import typer

    with pytest.raises(typer.BadParameter):
        parse_time("1:75")


@pytest.mark.parametrize("extra", ["", '[[scenes.post]]\nstage = "levels"\nsaturation = 1.4'])
@pytest.mark.gl
def test_render_from_equals_the_tail_of_a_longer_render(tmp_path, extra):
    show = tmp_path / "show.toml"
    show.write_text(SHOW.format(extra=extra))
    runner = CliRunner()
    app = build_app()
    full, tail = tmp_path / "full.mp4", tmp_path / "tail.mp4"
    r = runner.invoke(app, ["render", str(show), str(full), "--duration", "3.4", "--crf", "0", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["render", str(show), str(tail), "--from", "00:00:02", "--duration", "1.4", "--crf", "0",
                            "--device", "cpu"])
    assert r.exit_code == 0, r.output
    a, fps = read_video(full)
    b, _ = read_video(tail)
    assert fps == pytest.approx(10) and len(a) == 34 and len(b) == 14
    assert a[0].shape == (64, 64, 3)
    for k in range(14):
        assert np.array_equal(a[20 + k], b[k]), f"frame {k} of the seek differs"
    # the stretch covers a scene transition and motion: frames are not all alike
    assert max(float(np.abs(a[i].astype(int) - a[i + 1].astype(int)).mean()) for i in range(33)) > 0.5


def test_render_rejects_a_broken_show(tmp_path):
    show = tmp_path / "bad.toml"
    show.write_text('[[scenes]]\nname = "x"\nduraton = 1\n[scenes.generator]\nplugin = "noisefield"\n')
    r = CliRunner().invoke(build_app(), ["render", str(show), str(tmp_path / "x.mp4")])
    assert r.exit_code == 1 and "bad.toml:3: scenes[0].duraton" in r.output
