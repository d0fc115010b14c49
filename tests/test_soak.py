"""A short soak: two hours of show time through the whole pipeline (walk → generator → post →
worker → mixer → EGL compositor → read-back → encoder) on a fixed-step clock.  The full
72-hour run is ``benchmarks/soak.py``; this one catches leaks that show within a few scene loops.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from installation.output.video import read_video

pytestmark = pytest.mark.gl


def load_soak():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"
    spec = importlib.util.spec_from_file_location("soak_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_two_hour_soak_has_no_exceptions_and_no_leaks(tmp_path):
    soak = load_soak()
    out = tmp_path / "soak.mp4"
    # 2 h at 0.5 fps: 3600 frames; scenes of 20-25 min loop twice, so every start/stop path runs
    result = soak.run_soak(hours=2.0, fps=0.5, size=32, keyframe_rate=0.25, warmup_hours=0.5, record=out, samples=6)
    assert result["exceptions"] == 0, result["exception_samples"]
    assert result["warnings_logged"] == 0, result["warning_samples"]
    assert result["frames_made"] == result["frames"] == 3600
    assert all(v == 0 for v in result["plugin_faults_active"].values())
    # leaks: GL textures and Python objects stay flat once warm; memory within a loose bound
    assert result["live_textures_final"] <= 8
    assert abs(result["py_objects_growth"]) < 500
    assert result["rss_growth_pct"] < 5.0
    frames, _ = read_video(out)
    assert len(frames) == 3600 and frames[-1].std() > 1
