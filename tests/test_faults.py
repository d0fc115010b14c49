"""Plugin faults cost only their scene: frames read back from the EGL compositor prove it.

Each fault is injected by the ``faulty`` generator in ``tests/fault_plugins`` (loaded the way
``--plugins-dir`` loads plugins).  Deterministic tests use a fixed-step clock, so the show time
at which the plugin recovers is exact; the live tests check the render loop never waits.  Most
run twice: with each source in a worker process (the default) and in-process (``isolated =
false``); the plugin keeps its call counters in a file, so both see the same fault sequence.
Native crashes, GIL-holding hangs and memory exhaustion through the real CLI are in
``test_isolation.py``.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from installation.app import App
from installation.clock import FixedStepClock, RealClock
from installation.engine.faults import FAULT_KINDS
from installation.engine.worker import RestartPolicy
from installation.plugins import make_plugin_manager
from installation.render.compositor import Compositor
from installation.show.loader import parse_show

pytestmark = pytest.mark.gl
PLUGINS = Path(__file__).parent / "fault_plugins"
GREEN = (0, 255, 0)
FPS = 10.0


@pytest.fixture(scope="module")
def ctx():
    from installation.render.context import create_headless_context

    return create_headless_context()


@pytest.fixture
def registry():
    reg = make_plugin_manager(PLUGINS, entry_points_enabled=False)
    faulty = sys.modules["installation_plugin_faulty"]
    yield reg
    faulty.release_all()  # let abandoned hung threads finish


@pytest.fixture(params=[True, False], ids=["isolated", "in-process"])
def isolated(request):
    return request.param


@pytest.fixture(autouse=True)
def counter(tmp_path, monkeypatch):
    """Every show made here keeps the plugin's counters in this test's own file."""
    path = tmp_path / "faulty-counters.json"
    monkeypatch.setattr(sys.modules[__name__], "COUNTER", path)
    return path


COUNTER: Path | None = None


def make_show(generator: str, fallback: bool = True, extra: str = "") -> str:
    if "mode" in generator and COUNTER is not None:
        generator += f'\ncounter = "{COUNTER}"'

    text = f"""
[show]
name = "faults"
{'fallback = "green"' if fallback else ''}
[output]
width = 64
height = 64
fps = {FPS}
[[scenes]]
name = "under test"
duration = 600
keyframe_rate = 2
transition = 0
{extra}
[scenes.generator]
plugin = "faulty"
{generator}
[scenes.walk]
type = "slerp"
seeds = [1, 2, 3, 4]
transition = 1
[[scenes]]
name = "green"
duration = 10
transition = 0
[scenes.generator]
plugin = "faulty"
key = "green"
color = [0.0, 1.0, 0.0]
"""
    return parse_show(text)


def make_app(ctx, registry, show, clock=None, isolated=True, **kw) -> App:
    policy = kw.pop("policy", RestartPolicy(deadline=0.5, build_deadline=5.0, backoff=0.5, factor=2.0))
    policy.isolated = isolated
    if isolated:  # building includes starting the worker process: allow for a loaded machine
        policy.build_deadline = max(policy.build_deadline, 60.0)
    return App(show, registry, Compositor(ctx, (64, 64)), clock or FixedStepClock(FPS), policy=policy, **kw)


def render(app: App, n: int) -> list[np.ndarray]:
    out = []
    for _ in range(n):
        app.frame()
        out.append(app.compositor.read_output().copy())
    return out


def colour(frame: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(v) for v in frame[32, 32])


def is_green(frame: np.ndarray) -> bool:
    return bool(np.abs(frame.astype(int) - GREEN).max() <= 2)


def test_healthy_plugin_moves_and_is_not_fallback(ctx, registry, isolated):
    app = make_app(ctx, registry, isolated=isolated, show=make_show('mode = "ok"'))
    frames = render(app, 20)
    assert len({colour(f) for f in frames}) > 10  # the walk moves
    assert not any(is_green(f) for f in frames)
    assert app.runtimes[0].worker.status()["faults"] == {k: 0 for k in FAULT_KINDS}
    assert app.runtimes[0].worker.isolated == isolated
    app.close()


@pytest.mark.parametrize("mode, kind", [("raise", "error"), ("nan", "bad_output"), ("shape", "bad_output")])
def test_fault_holds_last_good_frame_then_restarts(ctx, registry, mode, kind, isolated):
    # generate calls 0..3 succeed (keyframes 0-3), calls 4 and 5 fault: keyframe 4 is lost twice
    app = make_app(ctx, registry, isolated=isolated, show=make_show(f'mode = "{mode}"\nkey = "k"\nfault_at = 4\nfault_count = 2'))
    frames = render(app, 40)
    worker = app.runtimes[0].worker
    assert worker.faults[kind] == 2
    assert worker.restarts == 2  # a fresh generator instance after each fault
    # keyframe 4 is first needed at t = 1.5 s (frame 15): from there the scene holds keyframe 3
    held = frames[15:20]
    assert all(np.array_equal(f, held[0]) for f in held)
    assert not np.array_equal(frames[14], frames[13])
    assert not any(is_green(f) or f.max() == 0 for f in frames)  # never black, no fallback needed
    # back-off 0.5 s then 1.0 s of show time: keyframe 4 arrives and the walk moves again
    assert worker.last_recovery == pytest.approx(1.5, abs=0.11)
    assert len({colour(f) for f in frames[-10:]}) > 5
    assert worker.state == "ok"
    app.close()


def test_hang_is_abandoned_and_render_loop_does_not_wait(ctx, registry):
    app = make_app(ctx, registry, make_show('mode = "hang"\nkey = "h"\nfault_at = 2\nfault_count = 1\nhang_s = 60'),
                   policy=RestartPolicy(deadline=0.3, backoff=0.5), isolated=False)
    durations, frames = [], []
    for _ in range(30):
        t0 = time.perf_counter()
        app.frame()
        durations.append(time.perf_counter() - t0)
        frames.append(app.compositor.read_output().copy())
    worker = app.runtimes[0].worker
    assert worker.faults["hang"] == 1 and worker.abandoned == 1
    assert worker.restarts == 1 and worker.state == "ok"
    # exactly one frame paid the deadline; the hung thread is never waited for again
    slow = [d for d in durations if d > 0.25]
    assert len(slow) == 1 and slow[0] < 2.0
    assert not any(f.max() == 0 for f in frames)
    app.close()


def test_scene_without_any_good_frame_shows_fallback_in_the_same_frame(ctx, registry, isolated):
    app = make_app(ctx, registry, isolated=isolated, show=make_show('mode = "raise"\nkey = "dead"\nfault_at = 0\nfault_count = -1'))
    frames = render(app, 30)
    assert all(is_green(f) for f in frames)
    worker = app.runtimes[0].worker
    assert worker.faults["error"] >= 2 and worker.produced == 0
    app.close()


def test_default_fallback_is_noisefield_when_show_names_none(ctx, registry, isolated):
    app = make_app(ctx, registry, isolated=isolated, show=make_show('mode = "raise"\nkey = "dead"\nfault_at = 0\nfault_count = -1', fallback=False))
    frames = render(app, 5)
    assert app.fallback.worker.name == "fallback" and app.fallback.worker.produced > 0
    assert all(f.max() > 0 and f.std() > 1 for f in frames)  # a noise field, not black, not flat
    app.close()


def test_long_fault_switches_from_frozen_frame_to_fallback(ctx, registry, isolated):
    app = make_app(ctx, registry, isolated=isolated, show=make_show('mode = "raise"\nkey = "late"\nfault_at = 3\nfault_count = -1'), hold_limit=1.0)
    frames = render(app, 40)
    # keyframe 3 is needed at 1.0 s; it faults at frame 10, held for 1 s of show time, then fallback
    assert not is_green(frames[11])
    assert np.array_equal(frames[11], frames[15])
    assert all(is_green(f) for f in frames[22:])
    app.close()


def test_build_failure_is_retried_and_unknown_plugin_is_permanent(ctx, registry, isolated):
    app = make_app(ctx, registry, isolated=isolated, show=make_show('mode = "crash_build"\nkey = "b"\nfault_at = 0\nfault_count = 1'))
    frames = render(app, 20)
    worker = app.runtimes[0].worker
    assert worker.faults["build"] == 1 and worker.state == "ok" and worker.produced > 0
    assert is_green(frames[0]) and not is_green(frames[-1])  # fallback until the rebuild succeeds
    app.close()

    show = make_show('mode = "ok"')
    show.scenes[0].generator.plugin = "no_such_plugin"
    app = make_app(ctx, registry, show, isolated=isolated)
    frames = render(app, 10)
    assert app.runtimes[0].worker.state == "failed" and "no_such_plugin" in app.runtimes[0].worker.last_error
    assert app.runtimes[0].worker.faults["build"] == 0  # a configuration error is not retried
    assert all(is_green(f) for f in frames)
    app.close()


def test_out_of_memory_degrades_resolution_and_reports(ctx, registry, isolated):
    from installation.health import HealthMonitor

    app = make_app(ctx, registry, isolated=isolated, show=make_show('mode = "oom"\nkey = "m"\nsize = 64\noom_below = 16'))
    monitor = HealthMonitor(app, FPS)
    frames = render(app, 10)
    for _ in range(3):
        monitor.frame()
    worker = app.runtimes[0].worker
    assert worker.faults["oom"] == 2 and worker.degraded == 2
    if not isolated:
        assert worker.source.generator.resolution == (16, 16)
    assert worker.state == "ok" and worker.restarts == 0
    plugin = monitor.snapshot()["plugins"]["under test"]
    assert plugin["degraded"] == 2 and "16" in plugin["degrade_notes"][-1]
    assert not any(is_green(f) or f.max() == 0 for f in frames)
    app.close()


def test_live_hang_keeps_frames_flowing(ctx, registry):
    show = make_show('mode = "hang"\nkey = "live"\nfault_at = 3\nfault_count = 1\nhang_s = 60')
    app = make_app(ctx, registry, show, clock=RealClock(), policy=RestartPolicy(deadline=0.4, backoff=0.2), isolated=False)
    worst, end = 0.0, time.perf_counter() + 4.0
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        app.frame()
        worst = max(worst, time.perf_counter() - t0)
        time.sleep(0.02)
    worker = app.runtimes[0].worker
    assert worker.faults["hang"] == 1 and worker.abandoned == 1 and worker.restarts == 1
    assert worker.produced > 5  # the fresh instance took over
    assert worst < 0.25  # the render loop never waited on the hung thread
    app.close()


def gone(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_isolated_hang_kills_the_worker_process_and_restarts_fresh(ctx, registry):
    app = make_app(ctx, registry, make_show('mode = "hang"\nkey = "ih"\nfault_at = 2\nfault_count = 1\nhang_s = 60'),
                   policy=RestartPolicy(deadline=0.3, backoff=0.5))
    durations, frames = [], []
    for _ in range(30):
        t0 = time.perf_counter()
        app.frame()
        durations.append(time.perf_counter() - t0)
        frames.append(app.compositor.read_output().copy())
    worker = app.runtimes[0].worker
    assert worker.faults["hang"] == 1 and worker.abandoned == 0 and worker.restarts == 1 and worker.state == "ok"
    first, second = worker.pids[:2]
    assert gone(first) and not gone(second) and worker.pid == second  # hung process killed by pid
    status = worker.status()
    assert status["last_fault"]["kind"] == "hang" and status["plugin"] == "faulty" and status["scene"] == "under test"
    # the first frame pays for starting the workers; after it, one frame paid the deadline and at
    # most one more the fresh worker process's start
    assert len([d for d in durations[1:] if d >= 0.25]) <= 2 and max(durations[1:]) < 5.0
    assert not any(f.max() == 0 for f in frames)
    app.close()
    assert gone(second)


def test_isolated_live_hang_keeps_frames_flowing(ctx, registry):
    show = make_show('mode = "hang"\nkey = "ilive"\nfault_at = 3\nfault_count = 1\nhang_s = 60')
    app = make_app(ctx, registry, show, clock=RealClock(), policy=RestartPolicy(deadline=0.4, backoff=0.2))
    worst, end = 0.0, time.perf_counter() + 8.0
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        app.frame()
        worst = max(worst, time.perf_counter() - t0)
        time.sleep(0.02)
    worker = app.runtimes[0].worker
    assert worker.faults["hang"] == 1 and worker.restarts == 1 and worker.produced > 5
    assert worst < 0.25  # the render loop never waited on the hung process
    t0 = time.perf_counter()
    app.close()
    assert time.perf_counter() - t0 < 2.0
    assert all(gone(pid) for pid in worker.pids)


def test_renders_with_the_same_native_crashes_and_hangs_are_frame_for_frame_identical(ctx, registry, tmp_path):
    """A persistent GIL-holding hang and a segfault, rendered twice: same frames; each hang costs one deadline."""
    def run(tag):
        crash = make_show(f'mode = "segfault"\nkey = "c{tag}"\nfault_at = 2\nfault_count = 1')
        app = make_app(ctx, registry, crash)
        frames = render(app, 30)
        crashes = app.runtimes[0].worker.faults["crash"]
        app.close()
        hang = make_show(f'mode = "native_hang"\nkey = "h{tag}"\nfault_at = 3\nfault_count = -1\nhang_s = 60')
        app = make_app(ctx, registry, hang, policy=RestartPolicy(deadline=0.3, backoff=0.5))
        t0 = time.perf_counter()
        frames += render(app, 60)
        took = time.perf_counter() - t0
        hangs = app.runtimes[0].worker.faults["hang"]
        app.close()
        return frames, crashes, hangs, took

    a, crashes, hangs, took = run("a")
    b, crashes_b, hangs_b, _ = run("b")
    assert crashes == crashes_b == 1
    # keyframe 3 first needed at 1.0 s, then retried after back-offs of 0.5, 1, 2 s of show time
    assert hangs == hangs_b == 4
    assert took < 4 * 0.3 + 20.0  # never deadline + build deadline per keyframe
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not any(f.max() == 0 for f in a)


def test_isolated_and_in_process_renders_match_under_live_control(ctx, registry):
    from installation.control.events import ControlEvent

    def run(isolated, live=True):
        show = make_show('mode = "ok"', extra='[[scenes.post]]\nstage = "levels"\nbrightness = 0.5')
        app = make_app(ctx, registry, show, isolated=isolated)
        out = []
        for i in range(30):
            if not live:
                pass
            elif i == 8:
                app.control.events.put(ControlEvent("/post/levels/mix", (0.3,)))
                app.control.events.put(ControlEvent("/walk/speed", (3.0,)))
            if i == 20:
                app.handle("/scene/index", 0)
            out += render(app, 1)
        app.close()
        return out

    a, b, still = run(True), run(False), run(True, live=False)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len({colour(f) for f in a}) > 10
    assert all(np.array_equal(x, y) for x, y in zip(a[:9], still[:9]))
    assert not any(np.array_equal(x, y) for x, y in zip(a[11:15], still[11:15]))  # control reached the child


def test_stop_is_bounded_while_the_plugin_holds_the_gil_in_c(ctx, registry):
    show = make_show('mode = "native_hang"\nkey = "stop"\nfault_at = 1\nfault_count = -1\nhang_s = 60')
    app = make_app(ctx, registry, show, clock=RealClock(), policy=RestartPolicy(deadline=30.0))
    end = time.perf_counter() + 60
    while time.perf_counter() < end:
        app.frame()
        state = json.loads(COUNTER.read_text()).get("stop", {}) if COUNTER.exists() else {}
        if state.get("faults"):
            break
        time.sleep(0.02)
    time.sleep(0.3)
    worker = app.runtimes[0].worker
    pid = worker.pid
    assert pid is not None and not gone(pid)
    t0 = time.perf_counter()
    worker.stop()
    assert time.perf_counter() - t0 < 1.5
    assert gone(pid)
    app.close()


def test_worker_killed_for_memory_restarts_one_degrade_step_cheaper(ctx, registry):
    show = make_show('mode = "oom_kill"\nkey = "ok9"\nsize = 64\noom_below = 16')
    app = make_app(ctx, registry, show, policy=RestartPolicy(deadline=5.0, backoff=0.2, memory_mb=2000))
    frames = render(app, 30)
    worker = app.runtimes[0].worker
    assert worker.faults["oom"] == 2 and worker.faults["crash"] == 0 and worker.restarts == 2
    assert worker.degrade_notes == ["faulty: resolution lowered to 32", "faulty: resolution lowered to 16"]
    assert worker.state == "ok" and worker.produced > 3 and all(gone(p) for p in worker.pids[:2])
    assert not any(f.max() == 0 for f in frames)
    app.close()
