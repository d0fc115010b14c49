"""The live calibration window: overlay drawn headless, the pygame loop under Xvfb (subprocess:
a process must never hold both an EGL and a GLX context)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from installation.calibration import CalibrationProfile, load_profile, save_profile
from installation.calibration.editor import CalibrationEditor


@pytest.mark.gl
def test_overlay_marks_the_selected_handle(gl_ctx):
    from installation.calibration.overlay import CalibrationOverlay

    profile = CalibrationProfile.identity(200, 100)
    editor = CalibrationEditor(profile)
    editor.select(point=0)
    editor.move_to(0.25, 0.5)
    fbo = gl_ctx.simple_framebuffer((200, 100), components=4)
    fbo.use()
    fbo.clear(0.0, 0.0, 0.0, 1.0)
    overlay = CalibrationOverlay(gl_ctx)
    overlay.draw(editor, 0, selected=True)
    overlay.draw_card("help", 200, 100)
    img = np.frombuffer(fbo.read(components=3), np.uint8).reshape(100, 200, 3)[::-1]
    near = img[35:66, 30:71].reshape(-1, 3)
    assert np.any((near[:, 0] > 200) & (near[:, 1] < 100))  # the red selection marker around (50, 50)
    assert img[:40, :120].max() > 0  # the help card
    overlay.release()


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (scripts/setup.sh installs it)")
@pytest.mark.gl
def test_live_loop_under_xvfb_applies_queued_edits_and_saves(tmp_path):
    path = save_profile(CalibrationProfile.span(2, 160, 120, 32), tmp_path / "venue.toml")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from installation.calibration import load_profile
        from installation.calibration.editor import CalibrationEditor
        from installation.calibration.window import run_live

        editor = CalibrationEditor(load_profile({str(path)!r}))
        for command, args in [("select", (1, "corners", 2)), ("nudge", (-1, -1, 1)), ("pattern", ("ids",)),
                              ("mesh", (3, 3)), ("save", ())]:
            editor.post(command, *args)
        run_live(Path({str(path)!r}), editor, fullscreen=False, max_frames=5)
        print("status:", editor.status())
    """)
    display = ":%d" % (200 + os.getpid() % 50)
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11", SDL_AUDIODRIVER="dummy")
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                              cwd=os.getcwd())
    finally:
        xvfb.terminate()
        xvfb.wait(5)
    assert proc.returncode == 0, proc.stderr
    assert "pattern ids" in proc.stdout
    saved = load_profile(path)
    assert saved.outputs[1].corners[2] == pytest.approx((150 / 160, 110 / 120))
    assert saved.outputs[1].mesh is not None and saved.outputs[1].mesh.cols == 3
