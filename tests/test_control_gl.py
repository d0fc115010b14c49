"""OSC into the real render path: a value sent over UDP is in the frame read back within 2 frames.

Runs the app (timeline, worker, mixer, compositor) on a fixed-step clock through a headless EGL
context.  ``arrival`` is the frame count when the OSC server had queued the message; the frame
that shows it must be at most 2 frames later.  A reference run without OSC gives the expected
pixels, so the check is exact, not a threshold on an unknown image.
"""
from __future__ import annotations

import socket
import textwrap
import time

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

from installation.app import App
from installation.clock import FixedStepClock
from installation.control.events import ControlEvent
from installation.control.osc_out import build_message
from installation.control.system import Control
from installation.engine.worker import RestartPolicy
from installation.plugins import make_plugin_manager
from installation.render.compositor import Compositor
from installation.show.loader import parse_show

SHOW = textwrap.dedent("""
    [show]
    name = "control test"
    seed = 1
    [output]
    width = 64
    height = 48
    fps = 24
    [control.osc]
    host = "127.0.0.1"
    port = 0
    [[bindings]]
    input = "/fader/gain"
    param = "/output/brightness"
    out_range = [0, 1]
    [[scenes]]
    name = "only"
    duration = 60
    keyframe_rate = 4
    transition = 0
    [scenes.generator]
    plugin = "noisefield"
    size = 32
    [scenes.walk]
    type = "slerp"
    seeds = [1, 2]
    transition = 1
""")



@pytest.fixture
def ctx(gl_ctx):
    # the session's one EGL context (tests/conftest.py): creating and releasing a second context in
    # the process makes later H.264 recordings differ run to run (see the determinism test)
    return gl_ctx


def make_app(ctx, start_osc: bool):
    show = parse_show(SHOW)
    control = Control.from_show(show)
    if start_osc:
        control.start_inputs(make_plugin_manager(entry_points_enabled=False).inputs())
        assert not control.input_failures
    registry = make_plugin_manager(entry_points_enabled=False)
    comp = Compositor(ctx, (show.output.width, show.output.height))
    return App(show, registry, comp, FixedStepClock(show.output.fps), control=control)


def render(app, n, on_frame=None):
    frames = []
    for i in range(n):
        if on_frame is not None:
            on_frame(i)
        app.frame()
        frames.append(app.compositor.read_output().astype(np.int16))
    return frames


@pytest.mark.parametrize("address, value, expect", [
    ("/output/brightness", 0.5, lambda ref: ref * 0.5),
    ("/fader/gain", 0.25, lambda ref: ref * 0.25),           # through a binding
    ("/layer/1/opacity", 0.0, lambda ref: np.zeros_like(ref)),
    ("/output/blackout", 1, lambda ref: np.zeros_like(ref)),
])
@pytest.mark.gl
def test_osc_value_is_in_the_frame_within_two_frames(ctx, address, value, expect):
    ref_app = make_app(ctx, start_osc=False)
    reference = render(ref_app, 12)
    ref_app.close()

    app = make_app(ctx, start_osc=True)
    server = app.control.inputs["osc"]
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    arrival = {}

    def on_frame(i):
        if i == 5:  # between frame 4 and frame 5 the message arrives
            client.sendto(build_message(address, [value]), server.address)
            deadline = time.monotonic() + 5
            while len(app.control.events) == 0 and time.monotonic() < deadline:
                time.sleep(0.001)
            arrival["frame"] = i  # frames completed when it was queued

    try:
        frames = render(app, 12, on_frame)
    finally:
        client.close()
        app.close()
    assert arrival["frame"] == 5
    for i in range(5):
        assert np.array_equal(frames[i], reference[i]), f"frame {i} changed before the message arrived"
    shown = [i for i in range(5, 12) if np.abs(frames[i] - expect(reference[i])).max() <= 1]
    assert reference[5].mean() > 20, "reference frame too dark to tell"
    assert shown and shown[0] - arrival["frame"] < 2, f"first frame showing it: {shown[:1]}, arrival {arrival}"
    assert shown == list(range(shown[0], 12)), "the value must stay applied"


@pytest.mark.gl
def test_scene_triggers_over_osc_and_state_out(ctx):
    show = parse_show(SHOW.replace('[[scenes]]\nname = "only"\nduration = 60', '[[scenes]]\nname = "only"\nduration = 2')
                      + textwrap.dedent("""
        [[scenes]]
        name = "second"
        duration = 2
        transition = 0
        [scenes.generator]
        plugin = "noisefield"
        size = 32
        seed = 4
    """))
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2.0)
    show.control.osc_out.targets = [f"127.0.0.1:{rx.getsockname()[1]}"]
    control = Control.from_show(show)
    registry = make_plugin_manager(entry_points_enabled=False)
    app = App(show, registry, Compositor(ctx, (64, 48)), FixedStepClock(24), control=control)
    try:
        app.frame()
        assert app.state()["scene"] == "only" and app.state()["cue"] == "second"
        control.events.put(ControlEvent("/scene/next"))
        app.frame()
        assert app.state()["scene"] == "second"
        control.events.put(ControlEvent("/scene", ("only",)))
        app.frame()
        # the scene playing is state at /status/scene; /scene only ever holds requests
        assert app.state()["scene"] == "only" and control.registry["/status/scene"] == "only"
        assert control.registry.get("/scene") is None and control.registry["/status/scene/index"] == 0
        seen = {}
        while "/status/scene" not in seen or seen["/status/scene"] != ["only"] or "/status/health" not in seen:
            m = OscMessage(rx.recv(4096))
            seen[m.address] = m.params
        assert seen["/status/health"] == ["ok"]
    finally:
        rx.close()
        app.close()


@pytest.mark.gl
def test_cues_standby_and_goto(ctx):
    body = SHOW.replace('name = "only"\nduration = 60', 'name = "only"\nduration = 5')
    for name in ("b", "c"):
        body += textwrap.dedent(f"""
            [[scenes]]
            name = "{name}"
            duration = 5
            [scenes.generator]
            plugin = "noisefield"
            size = 32
        """)
    show = parse_show(body)
    app = App(show, make_plugin_manager(entry_points_enabled=False), Compositor(ctx, (64, 48)), FixedStepClock(24))
    q = app.control.events
    try:
        app.frame()
        assert app.state()["cue"] == "b"
        q.put(ControlEvent("/cue/next"))
        app.frame()
        assert app.state()["cue"] == "c" and app.state()["scene"] == "only"
        q.put(ControlEvent("/cue/go"))
        app.frame()
        assert app.state()["scene"] == "c" and app.state()["cue"] == "only"
        q.put(ControlEvent("/cue/goto", ("b",)))
        app.frame()
        assert app.state()["scene"] == "b"
        q.put(ControlEvent("/scene/index", (0,)))
        app.frame()
        q.put(ControlEvent("/cue/goto", ("b",)))  # the same cue again fires again
        app.frame()
        assert app.state()["scene"] == "b"
    finally:
        app.close()


@pytest.mark.gl
def test_post_stage_controls_reach_the_chain(ctx):
    body = SHOW + '[[scenes.post]]\nstage = "levels"\nbrightness = 0.5\n'
    show = parse_show(body)
    # in-process workers: the chain is inspected here (test_isolation.py renders the same through a worker process)
    app = App(show, make_plugin_manager(entry_points_enabled=False), Compositor(ctx, (64, 48)), FixedStepClock(24),
              policy=RestartPolicy(deadline=60.0, isolated=False))
    try:
        app.frame()
        chain = app.runtimes[0].worker.source.post
        assert chain.names == ["levels"] and chain.control == {"levels": (True, 1.0)}
        app.control.events.put(ControlEvent("/post/levels/mix", (0.5,)))
        app.control.events.put(ControlEvent("/post/levels/enabled", (False,)))
        app.frame()
        assert chain.control == {"levels": (False, 0.5)}
        import torch
        x = torch.full((1, 3, 4, 4), 0.8)
        assert torch.equal(chain(x), x)
        chain.control = {"levels": (True, 0.5)}
        assert torch.allclose(chain(x), torch.full_like(x, 0.6))
    finally:
        app.close()


@pytest.mark.gl
def test_show_timed_replay_lands_on_an_exact_frame(ctx, tmp_path):
    log = tmp_path / "rehearsal.jsonl"
    log.write_text('{"t": 0.0, "address": "/output/brightness", "args": [0.5]}\n'
                   '{"t": 0.25, "address": "/output/blackout", "args": [true]}\n'
                   '{"t": 0.375, "address": "/output/blackout", "args": [false]}\n')
    body = SHOW.replace("[[bindings]]", f'[control.replay]\npath = "{log}"\ntiming = "show"\nstart = 0.125\n[[bindings]]')

    def run():
        show = parse_show(body)
        app = App(show, make_plugin_manager(entry_points_enabled=False), Compositor(ctx, (64, 48)), FixedStepClock(24))
        try:
            assert "replay" not in app.control.wanted_inputs()
            return render(app, 14)
        finally:
            app.close()

    a, b = run(), run()
    assert all(np.array_equal(x, y) for x, y in zip(a, b)), "a show-timed replay must render identically"
    lit = [bool(f.max() > 0) for f in a]
    # 24 fps: brightness 0.5 from frame 3 (0.125 s), black on frames 9..11 (0.375 s .. 0.5 s)
    assert lit == [True] * 9 + [False] * 3 + [True] * 2
    ref_app = make_app(ctx, start_osc=False)
    ref = render(ref_app, 4)
    ref_app.close()
    assert np.array_equal(a[2], ref[2]) and np.abs(a[3] - ref[3] * 0.5).max() <= 1


@pytest.mark.gl
def test_walk_control_reaches_the_worker_keyed_by_address(ctx):
    app = App(parse_show(SHOW), make_plugin_manager(entry_points_enabled=False), Compositor(ctx, (64, 48)),
              FixedStepClock(24), policy=RestartPolicy(deadline=60.0, isolated=False))  # the source is inspected here
    try:
        app.frame()
        control = app.runtimes[0].worker.source.control
        assert control["/walk/speed"] == 1.0 and "/walk/truncation" not in control  # the scene's own psi holds
        app.control.events.put(ControlEvent("/walk/speed", (2.5,)))
        app.control.events.put(ControlEvent("/walk/truncation", (0.5,)))
        app.control.events.put(ControlEvent("/direction/3", (-1.0,)))
        app.frame()
        control = app.runtimes[0].worker.source.control
        assert control["/walk/speed"] == 2.5 and control["/walk/truncation"] == 0.5 and control["/direction/3"] == -1.0
    finally:
        app.close()


def test_relayout_keeps_values_and_takes_new_bindings():
    control = Control.from_show(parse_show(SHOW))
    control.registry.set("/walk/speed", 3.0)
    new = parse_show(SHOW.replace('input = "/fader/gain"', 'input = "/fader/other"').replace('name = "only"', 'name = "renamed"'))
    control.relayout(new)
    assert control.registry["/walk/speed"] == 3.0
    assert control.registry.param("/scene").choices == ("renamed",)
    assert "/fader/other" in control.router.inputs and "/fader/gain" not in control.router.inputs
    bad = parse_show(SHOW.replace('param = "/output/brightness"', 'param = "/output/brightnes"'))
    with pytest.raises(ValueError, match="brightnes"):
        control.relayout(bad)
    assert "/fader/other" in control.router.inputs  # the old layout stays
    control.stop()


@pytest.mark.gl
def test_health_figures_go_out_over_osc(ctx):
    """The status endpoint's headline figures (uptime, drops, restarts, faults, memory, plugin
    states) reach OSC controllers as /status/... messages."""
    from installation.health.monitor import HealthMonitor

    show = parse_show(SHOW)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2.0)
    show.control.osc_out.targets = [f"127.0.0.1:{rx.getsockname()[1]}"]
    control = Control.from_show(show)
    app = App(show, make_plugin_manager(entry_points_enabled=False), Compositor(ctx, (64, 48)), FixedStepClock(24), control=control)
    monitor = HealthMonitor(app, 24).activate()
    try:
        app.frame()
        monitor.frame(0.01)
        seen = {}
        wanted = {"/status/uptime", "/status/dropped", "/status/restarts", "/status/faults", "/status/memory", "/status/plugins"}
        while not wanted <= set(seen):
            m = OscMessage(rx.recv(4096))
            seen[m.address] = m.params
        assert seen["/status/restarts"] == [0] and seen["/status/faults"] == [0]
        assert seen["/status/memory"][0] > 10  # resident MiB of a process running torch
        assert "only" in seen["/status/plugins"][0]
    finally:
        monitor.deactivate()
        rx.close()
        app.close()


def _distinct_runs(frames):
    """Lengths of runs of identical consecutive frames."""
    runs, n = [], 1
    for a, b in zip(frames, frames[1:]):
        if np.array_equal(a, b):
            n += 1
        else:
            runs.append(n)
            n = 1
    return runs + [n]


@pytest.mark.parametrize("seconds, runs", [
    (None, [1] * 12),                 # unset: every frame of each fade differs
    (0.0, [5, 6, 1]),                 # a cut: each keyframe holds its 6 frames
    (0.125, [3, 1, 1, 4, 1, 1, 1]),   # hold 4 frames, fade over the last 2
])
@pytest.mark.gl
def test_crossfade_time_holds_then_fades_between_keyframes(ctx, seconds, runs):
    # 24 fps and 4 keyframes/s: keyframe k covers frames 6k … 6k+5; frames 1 … 12 are compared
    app = make_app(ctx, start_osc=False)
    try:
        if seconds is not None:
            app.control.events.put(ControlEvent("/crossfade/time", (seconds,)))
        assert _distinct_runs(render(app, 13)[1:13]) == runs
    finally:
        app.close()


@pytest.mark.gl
def test_transition_time_overrides_a_live_scene_change(ctx):
    show = parse_show(SHOW.replace('name = "only"\nduration = 60', 'name = "only"\nduration = 60')
                      + '[[scenes]]\nname = "second"\nduration = 60\ntransition = 0\n'
                        '[scenes.generator]\nplugin = "noisefield"\nsize = 32\nseed = 4\n')
    app = App(show, make_plugin_manager(entry_points_enabled=False), Compositor(ctx, (64, 48)), FixedStepClock(24))
    q = app.control.events
    try:
        app.frame()
        q.put(ControlEvent("/scene/next"))            # the cue's own transition: 0, a cut
        app.frame()
        assert [l.scene.name for l in app.layers] == ["second"]
        q.put(ControlEvent("/transition/time", (0.5,)))
        q.put(ControlEvent("/scene", ("only",)))       # live: a 0.5 s fade instead
        opacities = []
        for _ in range(14):
            app.frame()
            opacities.append([(l.scene.name, round(l.opacity, 3)) for l in app.layers])
        assert [n for n, _ in opacities[0]] == ["second", "only"]
        incoming = [o[-1][1] for o in opacities[:12]]
        assert 0 < incoming[0] < incoming[5] < 1 and incoming == sorted(incoming)
        assert opacities[-1] == [("only", 1.0)]
    finally:
        app.close()
