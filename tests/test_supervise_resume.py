"""A supervised live show killed again and again stays where the wall clock says; the supervisor's
death takes its runtime with it.  Real processes, killed by pid; show time read from the heartbeat
file and from ``/status`` on 127.0.0.1."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from installation.health.heartbeat import read_heartbeat

ROOT = Path(__file__).resolve().parents[1]
FPS = 10
FRAME = 1.0 / FPS
# measurement slack: a beat records the show time of a frame and the wall time after drawing it,
# so (wall - t) exceeds the true anchor by the frame's render time; the minimum over a few beats
# is within this of it, also on a loaded two-core machine
SLACK = 0.15
SHOW = f"""
[show]
name = "resume"
[output]
width = 64
height = 64
fps = {FPS}
[[scenes]]
name = "a"
duration = 3600
keyframe_rate = 2
[scenes.generator]
plugin = "noisefield"
size = 32
"""


def free_port() -> int:
    """A free port below the ephemeral range, so no client connection on this busy machine takes it meanwhile."""
    import random

    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def gone(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


def anchor_of(hb: Path, pid: int, beats: int = 3, timeout: float = 120) -> float:
    """The wall instant at which show time 0 fell, as child ``pid`` plays: min(wall - t) over its beats."""
    seen: dict[float, float] = {}
    end = time.time() + timeout
    while len(seen) < beats:
        assert time.time() < end, f"pid {pid}: {len(seen)} beats"
        b = read_heartbeat(hb)
        if b is not None and b.pid == pid and b.frames > 0:
            seen[b.wall] = b.wall - b.t
        time.sleep(0.05)
    return min(seen.values())


def next_pid(hb: Path, old: set[int], timeout: float = 120) -> int:
    end = time.time() + timeout
    while time.time() < end:
        b = read_heartbeat(hb)
        if b is not None and b.pid not in old and b.frames > 0:
            return b.pid
        time.sleep(0.05)
    raise AssertionError("no new runtime")


def status_anchor(port: int, pid: int) -> float:
    """wall - show_time_s from /status (the frame it reports is at most a frame interval old)."""
    end = time.time() + 30
    while time.time() < end:
        before = time.time()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as r:
                doc = json.loads(r.read())
        except OSError:
            time.sleep(0.2)
            continue
        after = time.time()
        if doc.get("pid") == pid and doc.get("frames", 0) > 0:
            return (before + after) / 2 - doc["show_time_s"]
        time.sleep(0.2)
    raise AssertionError("no /status from the runtime")


@pytest.mark.slow
def test_four_kills_resume_on_the_wall_clock_and_supervisor_death_takes_the_runtime(tmp_path):
    show = tmp_path / "show.toml"
    show.write_text(SHOW)
    hb, port = tmp_path / "hb", free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sup = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--supervise",
                            "--from", "20", "--watchdog", "30", "--heartbeat", str(hb), "--health-port", str(port),
                            "--log-file", str(tmp_path / "log.jsonl")],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pids: list[int] = []
    try:
        pids.append(next_pid(hb, set()))
        first = anchor_of(hb, pids[0])
        first_beat = read_heartbeat(hb)
        assert first_beat.t > 20.0  # --from 20: show time 20 s fell when the first runtime was started
        offsets = []
        for k in range(4):
            os.kill(pids[-1], signal.SIGKILL)
            pids.append(next_pid(hb, set(pids)))
            offsets.append(anchor_of(hb, pids[-1]) - first)
            # /status agrees with the heartbeat (request round trip + a frame interval)
            assert abs(status_anchor(port, pids[-1]) - first) <= FRAME + SLACK + 0.25
        # show time = wall - one fixed anchor: each restart within a frame interval, nothing adds up
        # (before the fix each restart lost its back-off: 1, 3, 7, 15 s behind)
        assert all(abs(o) <= FRAME + SLACK for o in offsets), offsets
        live = pids[-1]
        assert not gone(live)
        os.kill(sup.pid, signal.SIGKILL)  # the supervisor dies: its runtime goes with it
        sup.wait(10)
        end = time.time() + 10
        while not gone(live) and time.time() < end:
            time.sleep(0.05)
        assert gone(live), f"runtime {live} outlived its supervisor"
        for pid in pids:
            assert gone(pid)
        # the health port is free for the next start (bound as the server binds it); a killed
        # process's last threads may take a moment after its leader turned zombie
        end = time.time() + 5
        while True:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                    s.listen()
                    break
                except OSError as exc:
                    if time.time() > end:
                        ss = subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout
                        raise AssertionError(f"{exc}: " + "\n".join(l for l in ss.splitlines() if f":{port}" in l))
            time.sleep(0.1)
    finally:
        if sup.poll() is None:
            sup.kill()
        for pid in pids:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


SCHEDULED = f"""
[show]
name = "scheduled"
[output]
width = 64
height = 64
fps = {FPS}
[[scenes]]
name = "a"
duration = 86400
keyframe_rate = 2
[scenes.generator]
plugin = "noisefield"
size = 32
[schedule]
timezone = "Europe/Berlin"
hours = {{{{ daily = ["{{open}}-{{close}}"] }}}}
resume = "opening"
"""


@pytest.mark.slow
def test_a_scheduled_show_restarts_at_the_time_since_opening(tmp_path):
    # a power cut, a kill: whatever stopped it, a show with opening hours places itself from the
    # venue's wall clock (here with the host in another zone)
    import datetime as dt
    import zoneinfo

    now = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Berlin")).replace(second=0, microsecond=0)
    opening = now - dt.timedelta(minutes=30)
    show = tmp_path / "show.toml"
    show.write_text(SCHEDULED.format(open=opening.strftime("%H:%M"),
                                     close=(now + dt.timedelta(hours=2)).strftime("%H:%M")))
    hb, port = tmp_path / "hb", free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), TZ="Pacific/Auckland")
    sup = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--supervise",
                            "--heartbeat", str(hb), "--health-port", str(port)],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pids: list[int] = []
    try:
        for k in range(3):
            pids.append(next_pid(hb, set(pids)))
            # show time = wall - today's opening instant, on every start
            assert abs(status_anchor(port, pids[-1]) - opening.timestamp()) <= FRAME + SLACK + 0.25
            if k < 2:
                os.kill(pids[-1], signal.SIGKILL)
        sup.send_signal(signal.SIGTERM)
        out, _ = sup.communicate(timeout=60)
        assert sup.returncode == 0 and "supervisor: 2 restarts" in out, out
    finally:
        if sup.poll() is None:
            sup.kill()
