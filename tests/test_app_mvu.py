"""Model / update / view: update is the only step that asks workers for work; view only reads and
draws; the runner draws each frame once and presents it once per target that needs it."""
from __future__ import annotations

import numpy as np
import pytest

from installation.app import App
from installation.clock import FixedStepClock, RealClock
from installation.engine.worker import GeneratorWorker
from installation.plugins import make_plugin_manager
from installation.render.compositor import Compositor
from installation.show.loader import load_show

pytestmark = pytest.mark.gl


def forbid_work(monkeypatch):
    calls = []
    for name in ("request", "ensure", "restart_source", "set_control", "start", "stop"):
        monkeypatch.setattr(GeneratorWorker, name, lambda self, *a, _n=name, **k: calls.append(_n))
    return calls


@pytest.mark.parametrize("clock", ["fixed", "real"])
def test_view_reads_the_snapshot_and_never_asks_for_work(gl_ctx, small_show, monkeypatch, clock):
    show = load_show(small_show)
    comp = Compositor(gl_ctx, (96, 64))
    app = App(show, make_plugin_manager(entry_points_enabled=False), comp,
              FixedStepClock(12, start=1.9) if clock == "fixed" else RealClock())
    try:
        for _ in range(40):  # until a keyframe shows (live: the worker thread needs a moment)
            app.update()
            if app.snapshot.layers and app.snapshot.layers[0].mixer.ready:
                break
            if clock == "real":
                import time

                time.sleep(0.05)
        assert app.snapshot.layers and app.snapshot.layers[0].mixer.ready
        produced = {id(rt): rt.worker.produced for rt in app.scenes.all()}
        with monkeypatch.context() as m:
            calls = forbid_work(m)
            app.view()
            first = comp.read_output().copy()
            app.view()
            second = comp.read_output().copy()
        assert calls == []                                          # drawing asked for nothing
        assert {id(rt): rt.worker.produced for rt in app.scenes.all()} == produced
        assert np.array_equal(first, second) and first.std() > 1    # the same snapshot draws the same frame
    finally:
        app.close()


def count_presents(monkeypatch):
    counts = {"offscreen": 0, "screen": 0}
    original = Compositor.present

    def present(self, target=None, size=None, calibration=None):
        counts["offscreen" if target is None else "screen"] += 1
        return original(self, target, size, calibration)

    monkeypatch.setattr(Compositor, "present", present)
    return counts


def test_a_recorded_frame_is_read_from_the_canvas_when_presenting_would_only_copy_it(small_show, tmp_path, monkeypatch):
    """No calibration, brightness 1: the present pass would copy the canvas texel for texel, so a
    recording reads the canvas and skips it (tests/test_gl_compositor.py: the same bytes)."""
    from installation.runner import RunOptions, run_show

    counts = count_presents(monkeypatch)
    stats = run_show(RunOptions(show=small_show, headless=True, record=tmp_path / "a.mp4", duration=1.0))
    assert stats.frames == 12 and counts == {"offscreen": 0, "screen": 0}


def test_a_run_without_cpu_outputs_skips_the_offscreen_pass(small_show, monkeypatch):
    from installation.runner import RunOptions, run_show

    counts = count_presents(monkeypatch)
    stats = run_show(RunOptions(show=small_show, headless=True, duration=0.3, control=False, watch=False))
    assert stats.frames >= 1 and counts == {"offscreen": 0, "screen": 0}
