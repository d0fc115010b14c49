"""SIGTERM to a recording runtime: it finishes the frame, finalises the video, and exits 0."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installation.health.heartbeat import read_heartbeat
from installation.output.video import read_video

ROOT = Path(__file__).resolve().parents[1]
SHOW = """
[show]
name = "shutdown"
[output]
width = 64
height = 48
fps = 10
[[scenes]]
name = "a"
duration = 600
keyframe_rate = 2
[scenes.generator]
plugin = "noisefield"
size = 32
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_finalises_recording(tmp_path, sig):
    show, out, hb = tmp_path / "s.toml", tmp_path / "out.mp4", tmp_path / "hb"
    show.write_text(SHOW)
    proc = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--record", str(out),
                             "--heartbeat", str(hb)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        end = time.time() + 90
        while time.time() < end:
            beat = read_heartbeat(hb)
            if beat is not None and beat.frames >= 15:
                break
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.1)
        else:
            raise AssertionError("runtime produced no frames")
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    written = int(re.search(r"(\d+) frames", output).group(1))
    frames, fps = read_video(out)
    assert written >= 15 and len(frames) == written
    assert fps == pytest.approx(10.0) and frames[0].shape == (48, 64, 3)
    assert frames[-1].std() > 1  # real pictures, not an empty or broken tail


@pytest.mark.slow
def test_ctrl_c_while_a_plugin_sleeps_in_c_holding_the_gil_ends_within_5_s(tmp_path):
    """The plugin's worker process is stuck in a C call that never releases the GIL; the runtime is not."""
    counter = tmp_path / "counter.json"
    show = tmp_path / "s.toml"
    show.write_text(SHOW.replace('plugin = "noisefield"\nsize = 32', f'plugin = "faulty"\nmode = "native_hang"\n'
                                 f'fault_at = 2\nfault_count = -1\nhang_s = 300\ncounter = "{counter}"'))
    out, hb = tmp_path / "out.mp4", tmp_path / "hb"
    proc = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--record", str(out),
                             "--heartbeat", str(hb), "--plugins-dir", str(ROOT / "tests" / "fault_plugins")],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        end = time.time() + 120
        while time.time() < end and not (counter.exists() and '"faults": 1' in counter.read_text()):
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.1)
        hung = int(re.search(r'"pid": (\d+)', counter.read_text()).group(1))
        time.sleep(1.0)
        t0 = time.perf_counter()
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        output, _ = proc.communicate(timeout=30)
        took = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert took < 5.0, f"Ctrl-C took {took:.1f} s"
    with pytest.raises(ProcessLookupError):
        os.kill(hung, 0)
    written = int(re.search(r"(\d+) frames", output).group(1))
    frames, _ = read_video(out)
    assert len(frames) == written >= 5


@pytest.mark.slow
def test_sigterm_the_moment_status_answers_still_exits_0(tmp_path):
    """systemd may stop a unit while it is still starting: a SIGTERM that lands as soon as the status
    endpoint answers (inputs up, the frame loop maybe not yet entered) ends the run cleanly, exit 0."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    show = tmp_path / "s.toml"
    show.write_text(SHOW)
    proc = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--duration", "60",
                             "--health-port", str(port)], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT), INSTALLATION_STATE_DIR=str(tmp_path / "state")),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        end = time.time() + 90
        while time.time() < end:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1):
                    break
            except OSError:
                time.sleep(0.01)
        else:
            raise AssertionError("status never answered")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
