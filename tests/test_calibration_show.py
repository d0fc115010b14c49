"""A show's ``calibration = "..."``: found, checked at load, applied by the compositor to windows."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from installation.calibration import CalibrationProfile, save_profile
from installation.calibration.show import calibration_problems, show_calibration
from installation.show.loader import ShowError, load_show


def with_calibration(small_show: Path, value: str) -> Path:
    text = small_show.read_text()
    small_show.write_text(f'calibration = "{value}"\n' + text)
    return small_show


def test_show_with_calibration_checks_out(small_show, tmp_path):
    save_profile(CalibrationProfile.span(2, 56, 64, 16), tmp_path / "cal" / "two.toml")  # canvas 96x64
    show = load_show(with_calibration(small_show, "cal/two.toml"))  # relative to the show file
    assert calibration_problems(show) == []
    assert show_calibration(show).canvas == (96, 64)


def test_missing_profile_is_reported_on_the_show_line(small_show):
    show = load_show(with_calibration(small_show, "calibration/nope.toml"))  # a show may predate its venue
    (problem,) = calibration_problems(show)
    text = problem.format(small_show)
    assert text.startswith(f"{small_show}:1: calibration: ") and "not found" in text
    with pytest.raises(ShowError, match="not found"):
        show_calibration(show)


def test_profile_errors_and_size_mismatch_are_reported(small_show, tmp_path):
    save_profile(CalibrationProfile.identity(1920, 1080), tmp_path / "big.toml")
    show = load_show(with_calibration(small_show, "big.toml"))
    assert "differs from the show's output 96x64" in calibration_problems(show)[0].message
    (tmp_path / "bad.toml").write_text("canvas = [96, 64]\n[[outputs]]\nresolution = [96, 64]\nregion = [0, 0, 96, 64]\n"
                                       "corners = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]\n")
    small_show.write_text(small_show.read_text().replace('calibration = "big.toml"', 'calibration = "bad.toml"'))
    (problem,) = calibration_problems(load_show(small_show))
    assert "bad.toml:5: outputs[0].corners: the quad crosses itself" in problem.message
    # an explicit profile (run --calibration) is checked the same way
    assert calibration_problems(load_show(small_show), override=tmp_path / "big.toml")


def test_show_validate_reports_calibration_problems(small_show, tmp_path):
    from typer.testing import CliRunner

    from installation.cli import build_app

    with_calibration(small_show, "missing.toml")
    result = CliRunner().invoke(build_app(), ["show", "validate", "--schema-only", str(small_show)])
    assert result.exit_code == 1 and f"{small_show}:1: calibration" in result.output
    save_profile(CalibrationProfile.identity(96, 64), tmp_path / "missing.toml")
    result = CliRunner().invoke(build_app(), ["show", "validate", "--schema-only", str(small_show)])
    assert result.exit_code == 0 and "calibration missing.toml" in result.output


@pytest.mark.gl
def test_compositor_presents_windows_through_the_calibration(gl_ctx):
    from installation.calibration import CalibrationPass
    from installation.calibration.window import window_plan
    from installation.render.compositor import Compositor
    from installation.render.patterns import make_pattern

    profile = CalibrationProfile.span(2, 64, 48, 16)  # canvas 112x48, window 128x48
    comp = Compositor(gl_ctx, profile.canvas)
    img = make_pattern("ramps", *profile.canvas)
    comp.canvas.write(np.ascontiguousarray(img[::-1]).tobytes())
    spec = window_plan(profile)[0]
    comp.set_calibration(CalibrationPass(gl_ctx, profile), spec)
    comp.brightness = 0.5
    target = gl_ctx.simple_framebuffer(spec.size, components=4)
    comp.present(target, spec.size)
    out = np.frombuffer(target.read(components=3), np.uint8).reshape(48, 128, 3)[::-1]
    # left projector: canvas columns 0..47 unchanged (at half brightness), then the fade
    assert np.abs(out[:12, :48].astype(int) - 128).max() <= 1
    assert out[:12, 63].max() < 20 and out[:12, 64].max() < 20  # both fade to near black at the seam edges
    assert np.abs(out[:12, 80:].astype(int) - 128).max() <= 1
    comp.present()  # the offscreen output (recordings) stays the uncalibrated canvas
    assert np.abs(comp.read_output()[:12].astype(int) - 128).max() <= 1


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (scripts/setup.sh installs it)")
@pytest.mark.gl
def test_window_run_with_calibration(small_show, tmp_path):
    save_profile(CalibrationProfile.span(2, 56, 64, 16), tmp_path / "two.toml")
    with_calibration(small_show, "two.toml")
    display = ":%d" % (150 + os.getpid() % 50)
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11")
        proc = subprocess.run([sys.executable, "-m", "installation", "run", str(small_show), "--duration", "0.5"],
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "frames" in proc.stdout
    finally:
        xvfb.terminate()
        xvfb.wait(5)


@pytest.mark.parametrize("name", ["two-projectors.toml", "gallery-waves.toml"])
def test_example_shows_have_valid_profiles(name):
    root = Path(__file__).resolve().parents[1]
    show = load_show(root / "shows" / name)
    assert show.calibration and calibration_problems(show) == []
    assert show_calibration(show).canvas == (show.output.width, show.output.height)
