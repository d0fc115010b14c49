"""Three hosts of one show on Ableton Link, each in a network namespace (veth pairs to a bridge).

Real runtime processes (``installation run --headless``) play a two-scene show with ``[sync]
link = true`` and log every frame (``--log-frames``).  All namespaces share this machine's
CLOCK_MONOTONIC, so frames of different hosts are matched by ``monotonic_s``: at the same
instant every host plays the same show time, within one frame at 30 fps.  One host is killed
with SIGKILL and started again: it rejoins at the current position, in the scene a live cue
moved the show to.  An OSC ``/scene/next`` sent to one host switches all three at one show time;
a second one sent to the hosts' OSC multicast group reaches all three and still plays once.
Nothing leaves the namespaces the test makes; they are removed whatever happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installation.sync.lab import Lab, percentile, read_records, skews, unavailable

FPS = 30
SHOW = f"""
[show]
name = "sync test"
[output]
width = 64
height = 36
fps = {FPS}
[sync]
link = true
tempo = 120
join_wait = 1.0
osc_group = "239.255.20.10"
[control.osc]
port = 9000
allowlist = ["127.0.0.1", "10.0.0.0/8"]
[web]
oscquery = false
[[scenes]]
name = "a"
duration = 600
[scenes.generator]
plugin = "noisefield"
[[scenes]]
name = "b"
duration = 600
[scenes.generator]
plugin = "noisefield"
"""
# an OSC message without arguments: the address padded to 4 bytes, then the empty type tag ","
SCENE_NEXT = b"/scene/next\0,\0\0\0"


@pytest.fixture
def lab():
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("aalink", reason="aalink is not installed (pip install 'installation[link]')")
    with Lab(3, tag=f"t{int(time.time()) % 100000}") as made:
        yield made


def _host(lab: Lab, i: int, show: Path, log: Path, duration: float) -> subprocess.Popen:
    argv = [sys.executable, "-m", "installation", "run", str(show), "--headless", "--no-isolation"]
    argv += ["--duration", str(duration), "--log-file", str(log), "--log-frames"]
    return lab.popen(i, argv, stdout=subprocess.DEVNULL, stderr=open(log.with_suffix(".err"), "w"))


def _wait_frames(log: Path, n: int, proc: subprocess.Popen, limit: float = 180.0) -> None:
    """Until ``log`` holds ``n`` frame records (the process is alive and playing)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if log.exists() and len(read_records(log)) >= n:
            return
        assert proc.poll() is None, f"{log.name}: exited {proc.returncode}: {log.with_suffix('.err').read_text()}"
        time.sleep(0.1)
    raise AssertionError(f"{log.name}: fewer than {n} frames in {limit} s")


def _switches(frames: list[dict]) -> list[tuple[dict, dict]]:
    return [(a, b) for a, b in zip(frames, frames[1:]) if a["scene"] != b["scene"]]


@pytest.mark.gl
@pytest.mark.slow
def test_three_hosts_play_one_show_time_and_cues_land_on_one_show_time(lab, tmp_path):
    show = tmp_path / "show.toml"
    show.write_text(SHOW)
    logs = {name: tmp_path / f"{name}.jl" for name in ("h1", "h2", "h3", "h3b")}
    procs: list[subprocess.Popen] = []
    try:
        h1 = _host(lab, 0, show, logs["h1"], 40)
        procs.append(h1)
        _wait_frames(logs["h1"], 1, h1)  # the first host has made the epoch
        h2, h3 = _host(lab, 1, show, logs["h2"], 36), _host(lab, 2, show, logs["h3"], 120)
        procs += [h2, h3]
        _wait_frames(logs["h2"], 60, h2)
        _wait_frames(logs["h3"], 60, h3)
        _send_osc(lab, 1, "127.0.0.1")  # a cue reaches host 2 only (inside its namespace, on its loopback)
        _wait_until_switched(logs["h3"], h3)
        n = len(read_records(logs["h3"]))
        _wait_frames(logs["h3"], n + 30, h3)
        h3.send_signal(signal.SIGKILL)  # no clean exit: the others play on
        h3.wait(timeout=30)
        _wait_frames(logs["h1"], len(read_records(logs["h1"])) + 15, h1)
        h3b = _host(lab, 2, show, logs["h3b"], 8)
        procs.append(h3b)
        _wait_frames(logs["h3b"], 30, h3b)
        _send_osc(lab, 0, "239.255.20.10")  # to the group: every host gets this datagram
        for p in (h1, h2, h3b):
            assert p.wait(timeout=300) == 0, [lf.with_suffix(".err").read_text()[-2000:] for lf in logs.values()]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    frames = {name: read_records(path) for name, path in logs.items()}

    # every host, the restarted one too, plays the first host's show time at the same instant
    for name in ("h2", "h3", "h3b"):
        skew = skews(frames["h1"], frames[name])
        assert len(skew) >= 60, (name, len(skew))
        worst = max(abs(s) for s in skew)
        print(
            f"{name}: {len(skew)} frames, |skew| p50 {percentile([abs(s) for s in skew], 50) * 1e3:.3f} ms, max {worst * 1e3:.3f} ms"
        )
        assert worst < 1 / FPS, (name, worst)

    # the restarted host joined where the show was, not at 0
    assert frames["h3b"][0]["show_time_s"] > frames["h3"][-1]["show_time_s"]

    # the cues: each one scheduled show time, the same on every host, and each host switched on
    # the frame that crossed it; the multicast one, received by all three, played once
    ats = {name: [c["at"] for c in read_records(logs[name], "sync_cue")] for name in logs}
    first = ats["h2"][0]
    assert ats["h1"][0] == ats["h3"][0] == first and len(ats["h3"]) == 1
    second = min(ats["h1"][1:])
    for name, cues in (("h1", (first, second)), ("h2", (first, second)), ("h3", (first,)), ("h3b", (second,))):
        switched = _switches(frames[name])
        assert len(switched) == len(cues), (name, [(a["show_time_s"], b["scene"]) for a, b in switched], ats[name])
        for (before, after), at in zip(switched, cues):
            assert before["show_time_s"] < at <= after["show_time_s"], (name, at, before, after)
    # the restarted host was told the cues played so far: it stood in scene b from its first frame
    assert frames["h3b"][0]["scene"] == "b" and frames["h3b"][-1]["scene"] == "a"


def _send_osc(lab: Lab, i: int, address: str) -> None:
    """``/scene/next`` from inside host ``i``'s namespace (a multicast group goes out on its eth0)."""
    code = (
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        "s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1); "
        f"s.sendto({SCENE_NEXT!r}, ({address!r}, 9000))"
    )
    subprocess.run(lab.command(i, [sys.executable, "-c", code]), check=True, timeout=60)


def _wait_until_switched(log: Path, proc: subprocess.Popen, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if _switches(read_records(log)):
            return
        assert proc.poll() is None, log.with_suffix(".err").read_text()
        time.sleep(0.1)
    raise AssertionError(f"{log.name}: the cue never switched the scene")


def test_lab_reports_why_it_cannot_run(monkeypatch):
    """Not root: the reason is a sentence, never an exception."""
    import installation.sync.lab as lab_mod

    monkeypatch.setattr(lab_mod.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(lab_mod.shutil, "which", lambda name: "/usr/sbin/ip")
    assert lab_mod.unavailable() == "network namespaces need root"


@pytest.mark.gl
@pytest.mark.slow
def test_record_under_sync_keeps_the_live_link_timed_frames(tmp_path):
    """``--record`` under ``[sync]``: every frame the host played is in the file, in order."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("aalink", reason="aalink is not installed (pip install 'installation[link]')")
    import av

    show, log, video = tmp_path / "show.toml", tmp_path / "h.jl", tmp_path / "live.mp4"
    show.write_text(SHOW)
    with Lab(1, tag=f"r{int(time.time()) % 100000}", subnet="10.78.0") as one:
        argv = [sys.executable, "-m", "installation", "run", str(show), "--headless", "--no-isolation"]
        argv += ["--duration", "2", "--record", str(video), "--log-file", str(log), "--log-frames"]
        done = subprocess.run(one.command(0, argv), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    frames = read_records(log)
    assert [f["frame"] for f in frames] == list(range(len(frames))) and len(frames) >= 30
    assert frames[-1]["show_time_s"] >= 2.0  # Link show time, not a fixed step per frame
    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == len(frames)


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(d.name))
    return kids


@pytest.mark.gl
@pytest.mark.slow
def test_a_host_restarted_by_the_supervisor_rejoins_at_the_current_position(tmp_path):
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("aalink", reason="aalink is not installed (pip install 'installation[link]')")
    show, a_log, b_log = tmp_path / "show.toml", tmp_path / "a.jl", tmp_path / "b.jl"
    show.write_text(SHOW)
    procs: list[subprocess.Popen] = []
    with Lab(2, tag=f"s{int(time.time()) % 100000}", subnet="10.79.0") as lab:
        try:
            a = _host(lab, 0, show, a_log, 40)
            procs.append(a)
            _wait_frames(a_log, 30, a)
            argv = [
                sys.executable,
                "-m",
                "installation",
                "run",
                str(show),
                "--headless",
                "--no-isolation",
                "--supervise",
            ]
            argv += ["--duration", "20", "--log-file", str(b_log), "--log-frames"]
            b = lab.popen(1, argv, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "b.err", "w"))
            procs.append(b)
            _wait_frames(b_log, 60, b)
            (child,) = _children(b.pid)
            before = read_records(b_log)[-1]["show_time_s"]
            os.kill(child, signal.SIGKILL)
            assert b.wait(timeout=300) == 0, (tmp_path / "b.err").read_text()[-2000:]
            assert a.wait(timeout=300) == 0
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=30)
    frames_a, frames_b = read_records(a_log), read_records(b_log)
    restarted = [f for f in frames_b if f["show_time_s"] > before]
    pids = {f["pid"] for f in frames_b}
    assert len(pids) == 2 and len(restarted) >= 60  # two runtimes wrote this log: the first one died
    skew = skews(frames_b, frames_a)
    assert len(skew) >= 120 and max(abs(s) for s in skew) < 1 / FPS
