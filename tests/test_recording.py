"""Recordings survive: kill -9 of a supervised --record, an unwritable place, a disk that fills.

Real mounts (we are root, so permission bits would not stop us: a read-only tmpfs does), a 1 MiB
tmpfs that fills, real processes killed by pid, and everything written decoded back with av.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from installation.health.heartbeat import read_heartbeat
from installation.output.video import RecordingError, VideoRecorder, open_check, read_video, salvage

ROOT = Path(__file__).resolve().parents[1]
FPS = 10
SHOW = f"""
[show]
name = "rec"
[output]
width = 128
height = 128
fps = {FPS}
[[scenes]]
name = "a"
duration = 3600
keyframe_rate = 2
[scenes.generator]
plugin = "noisefield"
size = 64
"""


@contextlib.contextmanager
def mounted(where: Path, options: str):
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "installation", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def show(tmp_path):
    path = tmp_path / "show.toml"
    path.write_text(SHOW)
    return path


def test_open_check_and_recorder_refuse_unwritable_places(tmp_path):
    (tmp_path / "afile").write_text("x")
    with mounted(tmp_path / "ro", "ro,size=1M") as ro:
        for bad, why in [(ro / "out.mp4", "Read-only file system"), (ro / "sub" / "out.mp4", "Read-only file system"),
                         (tmp_path / "afile" / "out.mp4", "is a file, not a folder"), (tmp_path, "is a folder")]:
            with pytest.raises(RecordingError, match=why) as err:
                open_check(bad)
            assert str(bad) in str(err.value)
        with pytest.raises(RecordingError, match="Read-only"):
            VideoRecorder(ro / "out.mp4", (64, 64), FPS)
    assert open_check(tmp_path / "new" / "dir" / "out.mp4").parent.is_dir()
    assert list((tmp_path / "new" / "dir").iterdir()) == []  # the probe file is gone


@pytest.mark.slow
def test_cli_refuses_an_unwritable_recording_before_the_first_frame(show, tmp_path):
    (tmp_path / "afile").write_text("x")
    with mounted(tmp_path / "ro", "ro,size=1M") as ro:
        cases = [("run", str(show), "--headless", "--record", str(ro / "out.mp4"), "--duration", "1"),
                 ("run", str(show), "--headless", "--supervise", "--record", str(ro / "out.mp4"), "--duration", "1"),
                 ("render", str(show), str(ro / "x.mp4"), "--duration", "1"),
                 ("run", str(show), "--headless", "--record", str(tmp_path / "afile" / "out.mp4"), "--duration", "1")]
        for args in cases:
            proc = cli(*args)
            target = args[args.index("--record") + 1] if "--record" in args else args[2]
            assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
            assert f"cannot record to {target}" in proc.stderr, proc.stderr
            assert "Traceback" not in proc.stderr + proc.stdout
            assert "frames" not in proc.stdout and "supervisor:" not in proc.stdout  # nothing was rendered
        assert list(ro.iterdir()) == []


@pytest.mark.slow
def test_a_full_disk_stops_the_recording_and_the_show_renders_on(show, tmp_path):
    full_run = cli("run", str(show), "--headless", "--record", str(tmp_path / "ref.mp4"), "--duration", "150")
    assert full_run.returncode == 0, full_run.stderr
    reference, _ = read_video(tmp_path / "ref.mp4")
    assert len(reference) == 1500
    with mounted(tmp_path / "small", "size=1M") as small:
        proc = cli("run", str(show), "--headless", "--record", str(small / "out.mp4"), "--duration", "150")
        assert proc.returncode == 3, proc.stderr  # the run is not a success: its recording is incomplete
        assert "1500 frames" in proc.stdout  # rendered on to --duration
        errors = [line for line in proc.stderr.splitlines() if "recording" in line and "stopped" in line]
        # one line logged when it happened, one at the end naming the file and what was kept
        assert len(errors) == 2 and all(str(small / "out.mp4") in e and "No space left" in e for e in errors), proc.stderr
        assert "Traceback" not in proc.stderr
        frames, fps = read_video(small / "out.mp4")  # decodes to the end without an error
        final = proc.stderr.strip().splitlines()[-1]
        assert final.startswith(f"recording {small / 'out.mp4'} stopped early") and f"kept {len(frames)} frames" in final
    assert fps == FPS
    assert 100 < len(frames) < 1500
    for got, want in zip(frames, reference):  # what was written is the show, frame for frame
        assert np.array_equal(got, want)


def test_salvage_cuts_a_partial_fragment(tmp_path):
    path = tmp_path / "a.mp4"
    rec = VideoRecorder(path, (64, 64), FPS)
    rng = np.random.default_rng(0)
    for _ in range(73):
        rec.write(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    rec.close()
    assert salvage(path) == 73 and len(read_video(path)[0]) == 73  # a finished file is left alone
    os.truncate(path, path.stat().st_size * 2 // 3)  # the writer died in the middle of a fragment
    with pytest.raises(av.error.InvalidDataError):
        read_video(path)
    n = salvage(path)
    assert 0 < n < 73 and len(read_video(path)[0]) == n
    (tmp_path / "b.mp4").write_bytes(b"not a video")
    assert salvage(tmp_path / "b.mp4") is None and salvage(tmp_path / "missing.mp4") is None


@pytest.mark.slow
def test_killed_supervised_recording_decodes_and_the_segments_join(show, tmp_path):
    out, hb = tmp_path / "out.mp4", tmp_path / "hb"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sup = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--supervise",
                            "--record", str(out), "--duration", "120", "--heartbeat", str(hb)],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        end = time.time() + 120
        while not ((b := read_heartbeat(hb)) and b.frames > 100):
            assert time.time() < end and sup.poll() is None
            time.sleep(0.05)
        os.kill(b.pid, signal.SIGKILL)
        log, _ = sup.communicate(timeout=240)
    finally:
        if sup.poll() is None:
            sup.kill()
    assert sup.returncode == 0, log
    assert "supervisor: 1 restarts" in log and "out.1.mp4" in log and "out.ffconcat" in log
    first, _ = read_video(out)  # the killed segment decodes: all but its last fragment or two
    assert len(first) >= b.frames - 2 * FPS
    second, _ = read_video(tmp_path / "out.1.mp4")
    assert (tmp_path / "out.ffconcat").read_text() == "ffconcat version 1.0\nfile 'out.mp4'\nfile 'out.1.mp4'\n"
    # the next segment starts at the frame after the last one that decodes: no gap, no repeat
    assert len(first) + len(second) == 120 * FPS
    with av.open(str(tmp_path / "out.ffconcat"), format="concat", options={"safe": "0"}) as joined:
        assert sum(1 for _ in joined.decode(video=0)) == 120 * FPS
    ref = cli("render", str(show), str(tmp_path / "ref.mp4"), "--from", f"{len(first) / FPS}", "--duration", "2")
    assert ref.returncode == 0, ref.stderr
    reference, _ = read_video(tmp_path / "ref.mp4")
    # the same show times (each encoded afresh, so near, not equal): every frame of the new segment
    # is closer to the reference frame at its own show time than to the frames either side
    dist = [[np.abs(g.astype(int) - w).mean() for w in reference[:20]] for g in second[:20]]
    for k in range(1, 19):
        assert dist[k][k] < min(dist[k][k - 1], dist[k][k + 1]), (k, dist[k][k - 1:k + 2])


def test_the_recorder_is_bit_exact_across_runs(tmp_path):
    # identical frames, identical files: before converting frames itself, the recorder let the
    # encoder's cached converter do it and about one run in ten came out different
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
    frames = [np.roll(base, i, axis=1) for i in range(36)]
    files = set()
    for k in range(25):
        path = tmp_path / f"{k}.mp4"
        rec = VideoRecorder(path, (96, 64), 12)
        for f in frames:
            rec.write(f)
        rec.close()
        files.add(path.read_bytes())
    assert len(files) == 1
    decoded, fps = read_video(path)
    assert fps == 12 and len(decoded) == 36


def test_the_segment_list_skips_segments_that_never_got_a_frame(tmp_path):
    from installation.supervise import SuperviseOptions, Supervisor

    sup = Supervisor(SuperviseOptions(child_args=[], heartbeat=tmp_path / "hb", record=tmp_path / "out.mp4"))
    (tmp_path / "out.mp4").write_bytes(b"x" * 100)
    (tmp_path / "out.1.mp4").write_bytes(b"")  # that child died before its first frame
    sup.restarts = 2
    sup._list_segments()
    assert (tmp_path / "out.ffconcat").read_text() == "ffconcat version 1.0\nfile 'out.mp4'\nfile 'out.2.mp4'\n"
