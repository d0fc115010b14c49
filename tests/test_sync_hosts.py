"""One wall, two machines on Link: each host (its own network namespace) records its own projector.

Two runtime processes play one ``[sync]`` show, each with ``--host`` drawing one output of a
two-projector profile (16 canvas pixels of overlap) and recording it headless, with a frame log.
Frames the two hosts drew at the same show time are paired; in light their overlaps add up to
``installation render`` of the canvas at that show time, so the blend lines up across machines.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from installation.calibration import CalibrationProfile, save_profile
from installation.calibration.profile import Host
from installation.sync.lab import Lab, read_records, unavailable

FPS = 30
SHOW = f"""
calibration = "wall.toml"
[show]
name = "sync wall"
seed = 3
[output]
width = 96
height = 64
fps = {FPS}
[sync]
link = true
tempo = 120
join_wait = 1.0
[[scenes]]
name = "a"
duration = 600
keyframe_rate = 1
[scenes.generator]
plugin = "noisefield"
size = 32
[scenes.walk]
type = "slerp"
seeds = [1, 2, 3]
transition = 3
"""


@pytest.fixture
def lab():
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("aalink", reason="aalink is not installed (pip install 'installation[link]')")
    with Lab(2, tag=f"w{int(time.time()) % 100000}", subnet="10.78.0") as made:
        yield made


def _frames(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]).astype(np.float64)


def _linear(v):
    return (v / 255.0) ** 2.2


@pytest.mark.gl
@pytest.mark.slow
def test_two_synced_hosts_blend_across_the_seam_like_one_canvas(lab, tmp_path):
    profile = CalibrationProfile.span(2, 56, 64, 16)  # canvas 96x64
    profile.hosts = [Host(name="left", outputs=["projector-1"]), Host(name="right", outputs=["projector-2"])]
    save_profile(profile, tmp_path / "wall.toml")
    show = tmp_path / "show.toml"
    show.write_text(SHOW)
    procs = []
    try:
        for i, host in enumerate(("left", "right")):
            argv = [sys.executable, "-m", "installation", "run", str(show), "--headless", "--no-isolation",
                    "--host", host, "--record", str(tmp_path / f"{host}.mp4"), "--duration", "8",
                    "--log-file", str(tmp_path / f"{host}.jl"), "--log-frames"]
            procs.append(lab.popen(i, argv, stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"{host}.err", "w")))
            time.sleep(1.5 if i == 0 else 0)  # the first host makes the epoch, the second joins it
        for p, host in zip(procs, ("left", "right")):
            assert p.wait(timeout=300) == 0, (tmp_path / f"{host}.err").read_text()[-2000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    video = {h: _frames(tmp_path / f"{h}.mp4") for h in ("left", "right")}
    times = {h: np.array([r["show_time_s"] for r in read_records(tmp_path / f"{h}.jl")]) for h in video}
    for h in video:
        assert video[h].shape[1:3] == (64, 56) and len(video[h]) == len(times[h])
    # the canvas as authored, every show time from a bit before to after the hosts' frames
    t0 = max(times["left"][0], times["right"][0]) + 1.0
    r = subprocess.run([sys.executable, "-m", "installation", "render", str(show), str(tmp_path / "canvas.mp4"),
                        "--from", f"{t0:.3f}", "--duration", "4", "--fps", str(FPS)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    canvas = _frames(tmp_path / "canvas.mp4")
    pairs = []
    for k, t in enumerate(canvas_t := t0 + np.arange(len(canvas)) / FPS):
        i, j = (int(np.argmin(np.abs(times[h] - t))) for h in ("left", "right"))
        if abs(times["left"][i] - t) < 0.5 / FPS and abs(times["right"][j] - t) < 0.5 / FPS:
            pairs.append((k, i, j))
    assert len(pairs) >= 60, len(pairs)  # 2 s or more of the wall matched frame by frame
    assert canvas_t[-1] > t0
    d = []
    for k, i, j in pairs:
        seam = _linear(video["left"][i][:, 40:56]) + _linear(video["right"][j][:, :16])
        d.append(np.abs(255.0 * np.clip(seam, 0, 1) ** (1 / 2.2) - canvas[k][:, 40:56]).mean())
        assert np.abs(video["left"][i][:, :40] - canvas[k][:, :40]).mean() <= 4
        assert np.abs(video["right"][j][:, 16:] - canvas[k][:, 56:]).mean() <= 4
    print(f"{len(pairs)} frame pairs: seam mean |d| {np.mean(d):.2f} levels, worst frame {max(d):.2f}")
    assert max(d) <= 6, max(d)
