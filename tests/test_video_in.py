"""video_in plays a feed as a scene: a video file frame-exact in a fixed-step render, and a live
NDI source (sent inside a network namespace the test makes) in a live run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from installation.output.video import VideoRecorder, read_video

ROOT = Path(__file__).parent.parent
SENDER = Path(__file__).parent / "ndi" / "send.py"
NETNS = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"'


def plugin_args(tmp_path: Path) -> list[str]:
    if any(ep.name == "video_in" for ep in entry_points(group="installation.plugins")):
        return []
    shim = tmp_path / "plugins"
    shim.mkdir(exist_ok=True)
    (shim / "video_in_plugin.py").write_text(
        "from plugins.video_in import register_generators, register_walks  # noqa: F401\n"
    )
    return ["--plugins-dir", str(shim)]


def show_with(tmp_path: Path, generator: str, fps: int, rate: int, extra: str = "") -> Path:
    path = tmp_path / "video_in.toml"
    path.write_text(
        textwrap.dedent(f"""
        [show]
        name = "video in"
        seed = 1

        [output]
        width = 64
        height = 48
        fps = {fps}

        [[scenes]]
        name = "feed"
        duration = 60
        keyframe_rate = {rate}
        transition = 0
        [scenes.generator]
        plugin = "video_in"
        """)
        + textwrap.dedent(generator)
        + textwrap.dedent("""
        [scenes.walk]
        type = "clock"
        """)
        + textwrap.dedent(extra)
    )
    return path


def colour(i: int) -> tuple[int, int, int]:
    return (20 + 11 * i, 230 - 9 * i, 60 + 7 * (i % 5))


@pytest.mark.gl
@pytest.mark.slow
def test_a_video_file_plays_frame_exact_in_a_fixed_step_render(tmp_path):
    clip = tmp_path / "clip.mp4"
    rec = VideoRecorder(clip, (64, 48), 10, crf=0)
    for i in range(20):
        rec.write(np.full((48, 64, 3), colour(i), np.uint8))
    rec.close()
    show = show_with(tmp_path, f'source = "{clip}"\n', fps=10, rate=10)
    out = tmp_path / "out.mp4"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "installation",
            "run",
            show,
            "--headless",
            "--record",
            out,
            "--duration",
            "3",
            *plugin_args(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    frames, _ = read_video(out)
    assert len(frames) == 30
    for j, f in enumerate(frames):
        centre = f[16:32, 24:40].reshape(-1, 3).mean(0)
        want = np.array(colour(j % 20), float)
        assert np.abs(centre - want).max() <= 6, f"frame {j}: {centre.round()} is not clip frame {j % 20} {want}"


def test_bad_options_are_errors(tmp_path):
    from plugins.video_in.generator import VideoIn

    with pytest.raises(ValueError, match="needs one of source"):
        VideoIn()
    with pytest.raises(ValueError, match="does not exist"):
        VideoIn(source=str(tmp_path / "missing.mp4"))
    with pytest.raises(ValueError, match="size must be"):
        VideoIn(source="ndi:x", size=[3, 4])
    with pytest.raises(ValueError, match="camera must be"):
        VideoIn(camera=-1)


@pytest.mark.gl
@pytest.mark.slow
def test_a_live_ndi_source_plays_as_a_scene(tmp_path):
    try:
        import NDIlib  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"ndi-python does not import ({exc}): pip install 'installation[ndi]'")
    probe = subprocess.run(["unshare", "-n", "sh", "-c", NETNS, "sh", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"network namespaces unavailable: {probe.stderr.strip()}")
    out = tmp_path / "live.mp4"
    show = show_with(
        tmp_path,
        'source = "ndi:feed"\nsize = [64, 48]\nextra_ips = "127.0.0.1"\n',
        fps=12,
        rate=6,
        extra=f'\n[[outputs]]\ntype = "record"\npath = "{out}"\n',
    )
    done = subprocess.run(
        [
            "unshare",
            "-n",
            "sh",
            "-c",
            NETNS,
            "sh",
            sys.executable,
            SENDER,
            "feed",
            "200",
            "40",
            "90",
            "--",
            "run",
            str(show),
            "--headless",
            "--duration",
            "8",
            *plugin_args(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    frames, _ = read_video(out)
    assert len(frames) > 40
    tail = np.stack(frames[-12:]).reshape(-1, 3).mean(0)
    # NDI is lossy (~12 levels on a flat colour) and the recording is H.264
    assert np.abs(tail - np.array([200, 40, 90])).max() <= 14, f"the last second shows {tail.round()}"
