"""One wall, several hosts: a profile's ``[[hosts]]`` and ``installation run --host NAME``.

The seam test is the venue's check: two hosts each record their own projector, headless; in
linear light the two recordings' overlap adds up to ``installation render`` of the canvas.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from installation.calibration import CalibrationProfile, save_profile
from installation.calibration.io import ProfileError, load_profile
from installation.calibration.profile import Host


def wall(path: Path) -> Path:
    """Two 56x64 projectors overlapping by 16 canvas pixels (canvas 96x64), one per host."""
    profile = CalibrationProfile.span(2, 56, 64, 16)
    profile.hosts = [Host(name="left", outputs=["projector-1"]), Host(name="right", outputs=["projector-2"])]
    return save_profile(profile, path)


def test_hosts_round_trip_and_name_their_outputs(tmp_path):
    profile = load_profile(wall(tmp_path / "wall.toml"))
    assert [h.name for h in profile.hosts] == ["left", "right"]
    assert profile.host_outputs("right") == (1,)
    with pytest.raises(ValueError, match=r"host 'middle' is not in the profile's \[\[hosts\]\] \(left, right\)"):
        profile.host_outputs("middle")


@pytest.mark.parametrize(
    "hosts, message",
    [
        ('[[hosts]]\nname = "a"\noutputs = ["projector-1", "projector-9"]\n',
         "hosts[0].outputs[1]: no output is named 'projector-9' (outputs: projector-1, projector-2)"),
        ('[[hosts]]\nname = "a"\noutputs = ["projector-1"]\n[[hosts]]\nname = "b"\noutputs = ["projector-1"]\n',
         "hosts[1].outputs[0]: output 'projector-1' is already driven by host 'a'"),
        ('[[hosts]]\nname = "a"\noutputs = ["projector-1"]\n[[hosts]]\nname = "a"\noutputs = ["projector-2"]\n',
         "hosts[1].name: name 'a' is already used by hosts[0]"),
    ],
)
def test_a_wrong_hosts_table_is_refused_naming_the_field(tmp_path, hosts, message):
    path = save_profile(CalibrationProfile.span(2, 56, 64, 16), tmp_path / "wall.toml")
    path.write_text(path.read_text() + "\n" + hosts)
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert message in str(err.value) and str(path) in str(err.value)


def _run(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "installation", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def _frames(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]).astype(np.float64)


def _linear(v):
    return (v / 255.0) ** 2.2


@pytest.mark.slow
def test_unknown_host_and_host_without_profile_are_one_line(small_show, tmp_path):
    r = _run("run", small_show, "--headless", "--host", "left", "--duration", "0.1")
    assert r.returncode == 1 and "--host left: the show names no calibration profile" in r.stderr
    assert "Traceback" not in r.stderr
    wall(tmp_path / "wall.toml")
    small_show.write_text('calibration = "wall.toml"\n' + small_show.read_text())
    r = _run("run", small_show, "--headless", "--host", "middle", "--duration", "0.1")
    assert r.returncode == 1 and "hosts: host 'middle' is not in the profile's [[hosts]] (left, right)" in r.stderr
    assert "wall.toml" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.gl
@pytest.mark.slow
def test_two_hosts_recordings_add_up_to_the_canvas_across_the_seam(small_show, tmp_path):
    wall(tmp_path / "wall.toml")
    small_show.write_text('calibration = "wall.toml"\n' + small_show.read_text())
    r = _run("render", small_show, tmp_path / "canvas.mp4", "--duration", "1.5")
    assert r.returncode == 0, r.stderr
    for host in ("left", "right"):  # run from another folder: the profile resolves from the show file
        r = _run("run", small_show, "--headless", "--host", host, "--record", tmp_path / f"{host}.mp4",
                 "--duration", "1.5", cwd="/")
        assert r.returncode == 0, r.stderr
    canvas, left, right = (_frames(tmp_path / f"{n}.mp4") for n in ("canvas", "left", "right"))
    assert canvas.shape[1:3] == (64, 96) and left.shape[1:3] == right.shape[1:3] == (64, 56)
    assert len(canvas) == len(left) == len(right) == 18
    assert np.abs(np.diff(canvas, axis=0)).mean() > 1.0  # the show moves: frames are compared at one show time
    # outside the blend each host shows its region of the canvas unchanged
    assert np.abs(left[:, :, :40] - canvas[:, :, :40]).mean() <= 3
    assert np.abs(right[:, :, 16:] - canvas[:, :, 56:]).mean() <= 3
    # in the 16-pixel overlap each fades; in light the two add up to the canvas
    seam = _linear(left[:, :, 40:56]) + _linear(right[:, :, :16])
    summed = 255.0 * np.clip(seam, 0, 1) ** (1 / 2.2)
    d = np.abs(summed - canvas[:, :, 40:56])
    print(f"seam mean |d| {d.mean():.2f} levels, p99 {np.percentile(d, 99):.1f}")
    assert d.mean() <= 6, d.mean()
    assert np.abs(left[:, :, 52:56] - canvas[:, :, 52:56]).mean() > 20  # each host alone is visibly faded there


def test_the_three_host_wall_example_loads():
    root = Path(__file__).resolve().parents[1]
    profile = load_profile(root / "calibration" / "wall-3x1920x1080.toml")
    assert profile.canvas == (5280, 1080)
    assert [profile.host_outputs(f"host-{i}") for i in (1, 2, 3)] == [(0,), (1,), (2,)]
