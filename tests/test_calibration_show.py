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
from installation.calibration.show import CalibrationNotFound, resolve_profile_path
from installation.show.loader import ShowError, load_show


def with_calibration(small_show: Path, value: str) -> Path:
    text = small_show.read_text()
    small_show.write_text(f'calibration = "{value}"\n' + text)
    return small_show


def test_show_with_calibration_loads(small_show, tmp_path):
    save_profile(CalibrationProfile.span(2, 56, 64, 16), tmp_path / "cal" / "two.toml")  # canvas 96x64
    show = load_show(with_calibration(small_show, "cal/two.toml"))  # found beside the show file
    assert show.calibration == "cal/two.toml"


def test_missing_profile_is_refused_at_load_with_line(small_show):
    with pytest.raises(ShowError) as info:
        load_show(with_calibration(small_show, "calibration/nope.toml"))
    text = str(info.value)
    assert f"{small_show}:1: calibration" in text and "not found" in text


def test_profile_errors_and_size_mismatch_are_refused(small_show, tmp_path):
    save_profile(CalibrationProfile.identity(1920, 1080), tmp_path / "big.toml")
    with pytest.raises(ShowError, match="differs from the show's output 96x64"):
        load_show(with_calibration(small_show, "big.toml"))
    (tmp_path / "bad.toml").write_text("canvas = [96, 64]\n[[outputs]]\nresolution = [96, 64]\nregion = [0, 0, 96, 64]\n"
                                       "corners = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]\n")
    small_show.write_text(small_show.read_text().replace('calibration = "big.toml"', 'calibration = "bad.toml"'))
    with pytest.raises(ShowError) as info:
        load_show(small_show)
    assert "bad.toml:5: outputs[0].corners: the quad crosses itself" in str(info.value)


def test_resolution_order(tmp_path, monkeypatch):
    (tmp_path / "calibration").mkdir()
    (tmp_path / "shows").mkdir()
    target = tmp_path / "calibration" / "venue.toml"
    target.write_text("")
    monkeypatch.chdir(tmp_path / "shows")
    assert resolve_profile_path("calibration/venue.toml", tmp_path / "shows" / "x.toml") == target
    with pytest.raises(CalibrationNotFound):
        resolve_profile_path("calibration/other.toml", tmp_path / "shows" / "x.toml")


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


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (scripts/setup.sh installs it)")
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


def test_example_two_projector_show_loads_with_its_profile():
    root = Path(__file__).resolve().parents[1]
    show = load_show(root / "shows" / "two-projectors.toml")
    assert (show.output.width, show.output.height) == (3600, 1080)
    assert show.calibration == "calibration/two-projector-2x1920x1080.toml"
