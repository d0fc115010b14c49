"""The pygame OpenGL window under a virtual X display (Xvfb), in a subprocess: a process must
never hold both an EGL and a GLX context."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from installation.output.video import read_video

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def xdisplay():
    display = ":%d" % (90 + os.getpid() % 50)
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    assert proc.poll() is None, "Xvfb failed to start"
    yield display
    proc.terminate()
    proc.wait(5)


@pytest.mark.slow
@pytest.mark.gl
def test_window_run_records_what_it_shows(small_show, tmp_path, xdisplay):
    out = tmp_path / "window.mp4"
    env = dict(os.environ, DISPLAY=xdisplay, SDL_VIDEODRIVER="x11")
    proc = subprocess.run([sys.executable, "-m", "installation", "run", str(small_show), "--record", str(out), "--duration", "1"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "12 frames" in proc.stdout
    frames, _ = read_video(out)
    assert len(frames) == 12 and frames[3].std() > 5


@pytest.mark.slow
def test_window_on_missing_display_index_is_refused(small_show, xdisplay):
    env = dict(os.environ, DISPLAY=xdisplay, SDL_VIDEODRIVER="x11")
    proc = subprocess.run([sys.executable, "-m", "installation", "run", str(small_show), "--display", "5", "--duration", "1"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "display 5 does not exist" in proc.stderr


@pytest.mark.gl
def test_show_outputs_a_window_and_a_recording_at_once(small_show, tmp_path, xdisplay):
    show = tmp_path / "outputs.toml"
    show.write_text(small_show.read_text() + '\n[[outputs]]\ntype = "window"\nposition = [10, 20]\n'
                                              '[[outputs]]\ntype = "record"\npath = "live.mp4"\n')
    env = dict(os.environ, DISPLAY=xdisplay, SDL_VIDEODRIVER="x11")
    proc = subprocess.run([sys.executable, "-m", "installation", "run", str(show), "--duration", "1", "--device", "cpu"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    frames, _ = read_video(tmp_path / "live.mp4")  # relative to the show file; live clock: about 12 frames
    assert len(frames) >= 2 and frames[-1].std() > 5


def test_two_window_outputs_are_refused_naming_the_fix(small_show, tmp_path, xdisplay):
    show = tmp_path / "two.toml"
    show.write_text(small_show.read_text() + '\n[[outputs]]\ntype = "window"\n[[outputs]]\ntype = "window"\ndisplay = 1\n')
    env = dict(os.environ, DISPLAY=xdisplay, SDL_VIDEODRIVER="x11")
    proc = subprocess.run([sys.executable, "-m", "installation", "run", str(show), "--duration", "1", "--device", "cpu"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "2 window outputs" in proc.stderr and "one `installation run` per window" in proc.stderr
