"""``installation calibrate``: init, check, headless snapshots and clear refusals."""
from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from installation.calibration import load_profile
from installation.cli import build_app
from installation.render.patterns import PATTERNS, make_pattern


@pytest.fixture
def app():
    return build_app()  # the whole CLI: a bad profile is printed by its one error boundary


@pytest.mark.gl
def test_init_check_and_snapshot(app, tmp_path, monkeypatch):
    runner = CliRunner()
    path = tmp_path / "venue.toml"
    r = runner.invoke(app, ["calibrate", str(path), "--init", "320x180", "--outputs", "2", "--overlap", "40", "--check"])
    assert r.exit_code == 0, r.output
    assert "canvas 600x180, 2 output(s)" in r.output and "blend right 40px" in r.output
    assert load_profile(path).outputs[1].region == (280, 0, 320, 180)

    r = runner.invoke(app, ["calibrate", str(path), "--snapshot", str(tmp_path / "snap"), "--pattern", "white"])
    assert r.exit_code == 0, r.output
    import cv2
    left = cv2.imread(str(tmp_path / "snap" / "output-1.png"))
    assert left.shape == (180, 320, 3)
    assert left[:, :250].min() == 255 and left[:, -1].max() < 40  # the soft edge fades out

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    r = runner.invoke(app, ["calibrate", str(path)])
    assert r.exit_code == 2 and "no display" in r.output


def test_bad_profile_exits_with_file_field_and_line(app, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("canvas = [100, 100]\n[[outputs]]\nresolution = [100, 100]\nregion = [0, 0, 200, 100]\n")
    r = CliRunner().invoke(app, ["calibrate", str(path), "--check"])
    assert r.exit_code == 1  # like every file with problems (was 2 before the CLI had one error boundary)
    assert f"{path}:4: outputs[0].region" in r.output


def test_init_refuses_to_overwrite(app, tmp_path):
    path = tmp_path / "exists.toml"
    path.write_text("x = 1\n")
    r = CliRunner().invoke(app, ["calibrate", str(path), "--init", "100x100"])
    assert r.exit_code != 0 and "exists" in r.output


@pytest.mark.parametrize("name", PATTERNS)
def test_patterns_are_canvas_sized_rgba(name):
    from installation.calibration import CalibrationProfile

    profile = CalibrationProfile.span(3, 200, 100, 20)
    img = make_pattern(name, *profile.canvas, profile)
    assert img.shape == (100, 560, 4) and img.dtype == np.uint8 and np.all(img[..., 3] == 255)


def test_pattern_contents():
    from installation.calibration import CalibrationProfile

    ramps = make_pattern("ramps", 256, 64)
    assert np.all(np.diff(ramps[-1, :, 0].astype(int)) >= 0) and ramps[-1, 0, 0] == 0 and ramps[-1, -1, 0] == 255
    assert ramps[0, :, :3].min() == 255
    profile = CalibrationProfile.span(2, 200, 100, 20)
    ids = make_pattern("ids", *profile.canvas, profile)
    assert not np.array_equal(ids[50, 10, :3], ids[50, 370, :3])  # each projector has its own tint
    bars = make_pattern("bars", 700, 100)
    assert tuple(bars[10, 50, :3]) == (191, 191, 191) and tuple(bars[10, 650, :3]) == (0, 0, 191)
    with pytest.raises(ValueError, match="unknown test pattern"):
        make_pattern("plaid", 10, 10)
