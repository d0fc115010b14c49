"""Steered walks under ``[sync]``: a change counts from the show time it was scheduled for.

Units: two steered walks that first see one scheduled change at different keyframes give the
same latents; the control drains scheduled events into a log stamped with their show times; a
worker drops keyframes made ahead with stale control and makes them again.  End to end: three
runtime processes in network namespaces play a steered walk, one ``/walk/speed`` goes to one
host, and every host shows, keyframe for keyframe, the same pictures as an offline reference.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from installation.builtin.noisefield import NoiseField
from installation.control.events import ControlEvent
from installation.engine.buffer import KeyframeBuffer
from installation.engine.source import KeyframeSource
from installation.engine.worker import GeneratorWorker
from installation.sync.cues import CueSchedule
from installation.sync.digest import digest
from installation.walks import SteeredWalk
from installation.walks.common import CHANGES_KEY, ORIGIN_KEY

INITIAL = (("/walk/direction", 1.0), ("/walk/speed", 1.0))


def _changes(*entries):
    """A control log as :class:`~installation.control.stamps.ChangeLog` hands it out."""
    return INITIAL, tuple((i, at, ((("/walk/speed", v),))) for i, (at, v) in enumerate(entries))


def _control(entries, origin=0.0, speed=None):
    walk = {"/walk/speed": speed if speed is not None else (entries[-1][1] if entries else 1.0)}
    walk["/walk/direction"] = 1.0
    if entries:
        walk[CHANGES_KEY] = _changes(*entries)
        walk[ORIGIN_KEY] = origin
    return walk


def test_two_walks_that_see_one_scheduled_change_at_different_keyframes_agree():
    times = [k / 3 for k in range(40)]
    a, b = SteeredWalk(16, 3, period=20.0), SteeredWalk(16, 3, period=20.0)
    # host a's worker saw the change (scheduled for show time 4.2) at keyframe 13, host b's at 15
    la = [a.latent(t, _control([(4.2, 3.0)]) if k >= 13 else _control([])) for k, t in enumerate(times)]
    lb = [b.latent(t, _control([(4.2, 3.0)]) if k >= 15 else _control([])) for k, t in enumerate(times)]
    for k in range(15, 40):  # every keyframe made after both saw it; before, both made the same ones
        assert torch.equal(la[k], lb[k]), k
    # the change counts from 4.2: at 4.2 + s the phase is 4.2 + 3 s, on both
    assert a.phase(5.2) == pytest.approx(4.2 + 3.0) and b.log() == a.log() == [(0.0, 1.0), (4.2, 3.0)]
    # without stamps (no [sync]) each walk records the change when it first sees it: they part
    c, d = SteeredWalk(16, 3, period=20.0), SteeredWalk(16, 3, period=20.0)
    for k, t in enumerate(times):
        c.latent(t, {"/walk/speed": 3.0 if k >= 13 else 1.0})
        d.latent(t, {"/walk/speed": 3.0 if k >= 15 else 1.0})
    assert c.phase(10.0) != pytest.approx(d.phase(10.0))


def test_a_change_before_the_run_sets_its_start_and_a_new_run_places_changes_again():
    w = SteeredWalk(8, 0, period=30.0)
    w.latent(1.0, _control([(2.0, 2.0), (9.0, 0.5)], origin=5.0))  # run from show time 5: local 0 and 4
    assert w.log() == [(0.0, 2.0), (4.0, 0.5)]
    w.restart()
    w.latent(0.0, _control([(2.0, 2.0), (9.0, 0.5)], origin=1.0))
    assert w.log() == [(0.0, 1.0), (1.0, 2.0), (8.0, 0.5)]
    w.latent(0.0, _control([(2.0, 2.0), (9.0, 0.5)], origin=8.5))  # another origin: placed afresh
    assert w.log() == [(0.0, 2.0), (0.5, 0.5)]


def test_the_control_logs_scheduled_walk_changes_at_their_show_time_in_order():
    from installation.control.system import Control

    control = Control.from_show(type("S", (), {"scenes": [], "control": {}})())
    schedule = CueSchedule()
    control.timed.append(schedule)
    schedule.add(1.25, ControlEvent("/walk/speed", (2.0,)))
    schedule.add(1.26, ControlEvent("/walk/speed", (4.0,)))
    schedule.add(1.26, ControlEvent("/walk/direction", (-1.0,)))
    schedule.add(1.3, ControlEvent("/scene/next", ()))
    control.frame(0.03, 1.2)
    assert not control.changes
    fc = control.frame(0.1, 1.31)  # one late frame drains all four; the log keeps their own times
    assert fc.triggers == {"/scene/next": 1}
    initial, entries = control.changes.snapshot()
    assert dict(initial)["/walk/speed"] == 1.0
    assert entries == (
        (0, 1.25, (("/walk/speed", 2.0),)),
        (1, 1.26, (("/walk/direction", -1.0), ("/walk/speed", 4.0))),
    )
    assert control.registry.get("/walk/speed") == 4.0
    control.events.put(ControlEvent("/walk/speed", (1.0,)))  # not scheduled (no [sync]): not logged
    control.frame(0.03, 1.4)
    assert len(control.changes.snapshot()[1]) == 2


def _worker(rate=4.0) -> GeneratorWorker:
    source = KeyframeSource(NoiseField(latent_dim=16, size=8), SteeredWalk(16, 1, period=10.0), keyframe_rate=rate)
    return GeneratorWorker(source, KeyframeBuffer(capacity=8), name="steer").start()


def _make(worker: GeneratorWorker, index: int):
    deadline = time.monotonic() + 30
    while worker.buffer.get(index) is None:
        assert time.monotonic() < deadline, f"keyframe {index} never came"
        worker.request(index)
        time.sleep(0.005)
    return worker.buffer.get(index)


def test_keyframes_made_ahead_with_stale_control_are_made_again():
    late, early = _worker(), _worker()
    try:
        for w in (late, early):
            w.set_origin(0.0)
        late.set_control(_control([]), {})
        made = [_make(late, k) for k in range(6)]  # 0 .. 1.25 s, ahead of the change
        late.set_control(_control([(0.6, 3.0)]), {})  # scheduled for 0.6: keyframes 3, 4, 5 are stale
        assert [k for k in range(6) if late.buffer.get(k) is not None] == [0, 1, 2]
        assert late.invalidated == 3
        early.set_control(_control([(0.6, 3.0)]), {})
        for k in range(6):
            a, b = _make(late, k), _make(early, k)
            assert digest(a) == digest(b), k
            assert (digest(a) == digest(made[k])) == (k < 3), k
    finally:
        late.stop()
        early.stop()


@pytest.mark.slow
def test_a_worker_process_gets_the_stamped_changes_and_its_origin_too():
    """Process-isolated workers (the default): the placed control travels through the pipe."""
    from installation.engine.build import SourceRecipe
    from installation.engine.policy import RestartPolicy
    from installation.show.loader import parse_show

    scene = parse_show(SHOW).scenes[0]
    policy = RestartPolicy(deadline=60.0, build_deadline=120.0, isolated=True)
    child = GeneratorWorker(name="steer-child", recipe=SourceRecipe(scene, show_seed=5), policy=policy).start()
    local = GeneratorWorker(
        name="steer-here", recipe=SourceRecipe(scene, show_seed=5), policy=RestartPolicy(isolated=False)
    )
    local.start()
    try:
        assert child.isolated and not local.isolated
        for w in (child, local):
            w.set_origin(2.0)  # the scene began at show time 2: the change at 3.1 counts from local 1.1
        child.set_control(_control([]), {})
        for k in range(2, 6):
            _make(child, k)
        child.set_control(_control([(3.1, 0.0)]), {})  # speed 0: the walk holds from local 1.1 on
        assert [k.index for k in child.buffer.snapshot()] == [2, 3, 4]  # keyframe 5 (local 1.25) is stale
        local.set_control(_control([(3.1, 0.0)]), {})
        made = {k: digest(_make(child, k)) for k in range(2, 8)}
        assert made == {k: digest(_make(local, k)) for k in range(2, 8)}
        assert made[5] == made[6] == made[7] != made[4]  # held from 1.1, moving before
    finally:
        child.stop()
        local.stop()


# --- end to end: three hosts in network namespaces --------------------------------------------
FPS = 30
RATE = 4.0
SHOW = f"""
[show]
name = "steered sync"
seed = 5
[output]
width = 48
height = 32
fps = {FPS}
[sync]
link = true
tempo = 120
join_wait = 1.0
[control.osc]
port = 9000
allowlist = ["127.0.0.1", "10.0.0.0/8"]
[web]
oscquery = false
[[scenes]]
name = "steered"
duration = 600
keyframe_rate = {RATE}
[scenes.generator]
plugin = "noisefield"
size = 32
latent_dim = 32
[scenes.walk]
type = "steered"
period = 20.0
"""


def _osc_float(address: str, value: float) -> bytes:
    def pad(b: bytes) -> bytes:
        return b + b"\0" * (4 - len(b) % 4)

    return pad(address.encode()) + pad(b",f") + struct.pack(">f", value)


def _keyframes(frames: list[dict], at: float) -> dict[int, str]:
    """``{keyframe index: digest}`` of the keyframes a host showed that the change at ``at`` had reached.

    Before ``at`` a host may show keyframe ``k`` with ``k / RATE > at`` made with the old speed
    (every host does: the change is not due yet); from ``at`` on only keyframes made again.
    """
    out: dict[int, str] = {}
    for f in frames:
        for ka, da, kb, db in f.get("keyframes", []):
            for k, d in ((ka, da), (kb, db)):
                if f["show_time_s"] >= at or k / RATE <= at:
                    assert out.setdefault(k, d) == d, ("one index, two pictures on one host", k, f)
    return out


def _reference(show: Path, at: float, indices) -> dict[int, str]:
    """The keyframes an offline source makes with the change at ``at`` (what every host must show)."""
    from installation.engine.build import build_source
    from installation.plugins import make_plugin_manager
    from installation.show.loader import load_show

    s = load_show(show)
    source = build_source(s.scenes[0], make_plugin_manager(), torch.device("cpu"), s.show.seed)
    source.control = {
        "/walk/speed": 3.0,
        "/walk/direction": 1.0,
        CHANGES_KEY: (INITIAL, ((0, at, (("/walk/speed", 3.0),)),)),
        ORIGIN_KEY: 0.0,
    }
    out = {}
    for k in indices:
        frame = source.make(k)
        out[k] = digest(type("K", (), {"digest": None, "frame": frame})())
    return out


@pytest.mark.gl
@pytest.mark.slow
def test_one_speed_change_to_one_host_moves_every_hosts_steered_walk_alike(tmp_path):
    from installation.sync.lab import Lab, read_records, unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("aalink", reason="aalink is not installed (pip install 'installation[link]')")
    show = tmp_path / "show.toml"
    show.write_text(SHOW)
    logs = [tmp_path / f"h{i}.jl" for i in (1, 2, 3)]
    procs: list[subprocess.Popen] = []
    with Lab(3, tag=f"w{int(time.time()) % 100000}", subnet="10.81.0") as lab:
        try:
            for i, log in enumerate(logs):
                argv = [sys.executable, "-m", "installation", "run", str(show), "--headless", "--no-isolation"]
                argv += ["--duration", str(24 - 2 * i), "--log-file", str(log), "--log-frames"]
                procs.append(lab.popen(i, argv, stdout=subprocess.DEVNULL, stderr=open(log.with_suffix(".err"), "w")))
                _wait_frames(log, 45, procs[-1])
            code = (
                "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                f"s.sendto({_osc_float('/walk/speed', 3.0)!r}, ('127.0.0.1', 9000))"
            )
            subprocess.run(lab.command(1, [sys.executable, "-c", code]), check=True, timeout=60)
            for p, log in zip(procs, logs):
                assert p.wait(timeout=300) == 0, log.with_suffix(".err").read_text()[-2000:]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=30)
    frames = [read_records(log) for log in logs]
    (at,) = {c["at"] for log in logs for c in read_records(log, "sync_cue")}
    shown = [_keyframes(f, at) for f in frames]
    after = sorted(k for k in set(shown[0]) & set(shown[1]) & set(shown[2]) if k / RATE > at)
    assert len(after) >= 8, (at, sorted(shown[0])[-3:])
    common = sorted(set(shown[0]) & set(shown[1]) & set(shown[2]))
    apart = [k for k in common if len({keys[k] for keys in shown}) > 1]
    print(f"{len(common)} keyframes shown by all three hosts ({len(after)} after the cue), {len(apart)} differ")
    assert not apart, (apart[:5], at)
    reference = _reference(show, at, sorted(set().union(*shown)))
    for i, keys in enumerate(shown):
        wrong = sorted(k for k, d in keys.items() if d != reference[k])
        print(f"h{i + 1}: {len(keys)} keyframes shown, {len(wrong)} differ from the reference; cue at {at:.3f} s")
        assert not wrong, (i, wrong[:5], at)
    moved = [k for k in after if reference[k] != _reference_without(show, k)]
    assert moved, "the speed change did not change the pictures"


def _reference_without(show: Path, k: int) -> str:
    from installation.engine.build import build_source
    from installation.plugins import make_plugin_manager
    from installation.show.loader import load_show

    s = load_show(show)
    source = build_source(s.scenes[0], make_plugin_manager(), torch.device("cpu"), s.show.seed)
    return digest(type("K", (), {"digest": None, "frame": source.make(k)})())


def _wait_frames(log: Path, n: int, proc: subprocess.Popen, limit: float = 180.0) -> None:
    from installation.sync.lab import read_records

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if log.exists() and len(read_records(log)) >= n:
            return
        assert proc.poll() is None, f"{log.name}: exited {proc.returncode}: {log.with_suffix('.err').read_text()}"
        time.sleep(0.1)
    raise AssertionError(f"{log.name}: fewer than {n} frames in {limit} s")
