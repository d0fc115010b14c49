"""Fixed-step renders are frame-for-frame identical on a loaded machine.

The same show (a torch model, the noise field, a crossfade between them) is rendered through the
real CLI on a quiet machine and again while two busy processes saturate the CPU, lossless
(``--crf 0``: the frames themselves) and at the default ``--crf 18`` (the encoder's rate control
too); the videos are decoded back and compared frame by frame, exactly.  Anything that lets
wall time leak into a fixed-step render (a keyframe chosen by arrival time, a deadline that
fires under load, a thread-count dependent reduction) shows up here as a differing frame.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from installation.output.video import read_video

ROOT = Path(__file__).resolve().parents[1]
SHOW = """[show]
name = "determinism under load"
seed = 7
[output]
width = 64
height = 64
fps = 12

[[scenes]]
name = "waves"
duration = 1.0
keyframe_rate = 6
transition = 0
[scenes.generator]
plugin = "stylegan2"
[scenes.walk]
type = "loop"
period = 3

[[scenes]]
name = "noise"
duration = 2.0
keyframe_rate = 4
transition = { duration = 0.5, curve = "ease-in-out" }
[scenes.generator]
plugin = "noisefield"
size = 32
"""


def _render(show: Path, out: Path, crf: int) -> list[np.ndarray]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-m", "installation", "render", str(show), str(out), "--duration", "2",
                          "--crf", str(crf), "--device", "cpu"], cwd=ROOT, env=env, check=False, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    frames, _ = read_video(out)
    return frames


def test_fixed_step_renders_are_identical_with_the_cpu_saturated(tmp_path):
    show = tmp_path / "show.toml"
    show.write_text(SHOW)
    quiet = {crf: _render(show, tmp_path / f"quiet{crf}.mp4", crf) for crf in (0, 18)}
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        loaded = {crf: _render(show, tmp_path / f"loaded{crf}.mp4", crf) for crf in (0, 18)}
        assert all(p.poll() is None for p in busy)  # the load really ran throughout
    finally:
        for p in busy:
            p.kill()
            p.wait()
    for crf in (0, 18):
        assert len(quiet[crf]) == len(loaded[crf]) == 24
        assert len({f.tobytes() for f in quiet[crf]}) > 12  # the show moves: identical frames would prove nothing
        for i, (a, b) in enumerate(zip(quiet[crf], loaded[crf])):
            diff = np.abs(a.astype(int) - b).max()
            assert np.array_equal(a, b), f"crf {crf}: frame {i} differs under load (max {diff} levels)"
