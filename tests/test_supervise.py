"""The supervisor restarts a runtime that dies or stalls, resuming the schedule; SIGTERM ends it cleanly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installation.health.heartbeat import Heartbeat, read_heartbeat
from installation.supervise import SuperviseOptions, Supervisor, segment_path

ROOT = Path(__file__).resolve().parents[1]
TINY = """
[show]
name = "tiny"
[output]
width = 64
height = 64
fps = 10
[[scenes]]
name = "a"
duration = 30
keyframe_rate = 2
[scenes.generator]
plugin = "noisefield"
size = 32
"""


def wait_for(pred, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_heartbeat_roundtrip_and_rate_limit(tmp_path):
    hb = Heartbeat(tmp_path / "hb", interval=10.0)
    hb.beat(1.5, 10)
    hb.beat(9.0, 99)  # within the interval: not written
    beat = read_heartbeat(tmp_path / "hb")
    assert beat.pid == os.getpid() and beat.t == 1.5 and beat.frames == 10
    assert read_heartbeat(tmp_path / "missing") is None
    (tmp_path / "bad").write_text("{not json")
    assert read_heartbeat(tmp_path / "bad") is None


def test_resume_positions_and_arguments(tmp_path):
    live = Supervisor(SuperviseOptions(child_args=["show.toml"], heartbeat=tmp_path / "hb", start=5.0, duration=100.0))
    argv = live._argv(5.0)
    assert argv[argv.index("--from") + 1] == "5.000000" and argv[argv.index("--duration") + 1] == "100.000000"
    assert live._argv(105.0) is None  # nothing left to play
    from installation.health.heartbeat import Beat

    # live: one anchor (show time 5 s at the first start), read off the wall clock, beats or not
    assert live.live_position(1000.0) == 5.0
    assert live.live_position(1044.0) == 49.0
    assert live.live_position(1044.0 + 3 * 60.0) == 49.0 + 180.0  # downtime and back-off skipped, never summed
    rec = Supervisor(SuperviseOptions(child_args=["show.toml"], heartbeat=tmp_path / "hb", record=tmp_path / "out.mp4"))
    assert rec._resume_position(Beat(1, time.time() - 100.0, 40.0, 400)) == 40.0  # fixed-step: the last frame
    rec.restarts = 2
    argv = rec._argv(40.0)
    assert argv[argv.index("--record") + 1] == str(tmp_path / "out.2.mp4")
    assert segment_path(tmp_path / "out.mp4", 0) == tmp_path / "out.mp4"


@pytest.mark.slow
def test_supervised_run_survives_crash_and_stall(tmp_path):
    show = tmp_path / "tiny.toml"
    show.write_text(TINY)
    hb = tmp_path / "hb"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sup = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--supervise",
                            "--watchdog", "3", "--heartbeat", str(hb), "--log-file", str(tmp_path / "log.jsonl")],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = wait_for(lambda: (b := read_heartbeat(hb)) and b.t > 1.0 and b, 90, "first runtime")
        os.kill(first.pid, signal.SIGKILL)  # the runtime dies
        second = wait_for(lambda: (b := read_heartbeat(hb)) and b.pid != first.pid and b, 90, "restart after crash")
        # resumed where the wall clock says the show is, not from the top
        assert second.t >= first.t
        # (the show clock is anchored at the last beat, so downtime is skipped, as a live show would)
        assert second.t == pytest.approx(first.t + (second.wall - first.wall), abs=2.5)
        os.kill(second.pid, signal.SIGSTOP)  # the runtime stops producing frames
        third = wait_for(lambda: (b := read_heartbeat(hb)) and b.pid not in (first.pid, second.pid) and b, 90,
                         "restart after stall")
        assert third.t > second.t
        sup.send_signal(signal.SIGTERM)
        out, _ = sup.communicate(timeout=30)
        assert sup.returncode == 0, out
        assert "supervisor: 2 restarts" in out
        assert "killed by signal 9" in out and "stalled" in out
        for pid in (first.pid, second.pid, third.pid):  # no runtime left behind
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    finally:
        if sup.poll() is None:
            sup.kill()
