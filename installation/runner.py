"""Drive a show: pick the context (window or EGL), the clock, the outputs, and loop.

``--record`` uses a fixed-step clock: each frame advances exactly 1/fps of show time however
long it took, so the video is the show as it should look, identical on every run.  Without it
the show runs on the wall clock and the generator worker runs in the background.
"""
from __future__ import annotations

import dataclasses
import logging
import signal
import time
from datetime import datetime
from dataclasses import dataclass
from pathlib import Path

import torch

from .app import App
from .clock import FixedStepClock, RealClock
from .control.system import Control
from .engine.worker import RestartPolicy
from .health import HealthMonitor, Heartbeat, StatusServer
from .output.video import VideoRecorder
from .plugins import make_plugin_manager
from .render.compositor import Compositor
from .render.context import create_headless_context
from .show.check import check_show, scene_load_error
from .show.loader import ShowError
from .show.playhead import Playhead
from .show.reload import LastGood, load_or_last_good

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    show: Path
    headless: bool = False
    fullscreen: bool = False
    display: int = 0
    record: Path | None = None
    duration: float | None = None
    device: str = "cpu"
    plugins_dir: Path | None = None
    start: float = 0.0
    fps: float | None = None
    size: tuple[int, int] | None = None
    schedule: bool = True   # follow the show's opening hours (live runs without --from only)
    watch: bool = True      # hot-reload the show file at the next cue (live runs only)
    crf: int = 18           # H.264 quality of --record (0 = lossless)
    calibration: Path | None = None  # overrides the show's `calibration` (relative to the working directory)
    output: int | None = None  # with a per-display profile: the one output this process shows
    control: bool = True    # start the show's OSC/MIDI/audio/serial inputs
    health_port: int | None = None   # serve GET /status here (0: any free port)
    health_host: str = "127.0.0.1"
    heartbeat: Path | None = None    # file the supervisor watches
    start_wall: float | None = None  # time.time() at which show time was ``start`` (live resume after a restart)
    plugin_deadline: float | None = None  # seconds a keyframe may take before the plugin counts as hung


@dataclass
class RunStats:
    frames: int
    show_seconds: float
    wall_seconds: float

    @property
    def fps(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0


def _finished(opts: RunOptions, clock, frames: int, n_frames: int | None) -> bool:
    if n_frames is None:
        return False
    if clock.deterministic:
        return frames >= n_frames
    return frames > 0 and clock.now() - opts.start >= opts.duration


def _calibration(show, opts: RunOptions, size: tuple[int, int]):
    """The calibration profile for a window run (``--calibration`` or the show's), checked against ``size``."""
    from .calibration.show import show_calibration

    return show_calibration(show, opts.calibration, size)


def _single_window(plan, opts: RunOptions):
    """pygame opens one GL window per process: a per-display profile runs one process per output."""
    from .render.context import NoDisplayError

    if len(plan) > 1:
        raise NoDisplayError(f"the calibration profile opens one window per display ({len(plan)} outputs): start one "
                             f"`installation run {opts.show} --output N` per display, N = 0..{len(plan) - 1}")
    return plan[0]


def run_show(opts: RunOptions) -> RunStats:
    registry = make_plugin_manager(opts.plugins_dir)
    for failure in registry.failures:
        log.warning("plugin %s (%s) failed to load: %s", failure.name, failure.source, failure.error)
    # the check validate and hot reload make; a live run restarted with a broken file plays the last good copy
    store = LastGood(opts.show) if not opts.record else None
    show, rejected = load_or_last_good(opts.show, lambda s: check_show(s, registry, opts.show), store)
    fps = opts.fps or show.output.fps
    size = opts.size or (show.output.width, show.output.height)

    window = None
    profile = None
    if opts.headless:
        ctx = create_headless_context()
        if opts.calibration or show.calibration:
            log.info("calibration applies to window outputs; a headless run renders the canvas")
    else:
        from .output.window import Window

        profile = _calibration(show, opts, size)
        if profile is not None:
            from .calibration.window import window_plan

            spec = _single_window(window_plan(profile, opts.output), opts)
            window = Window(spec.size, display=spec.display, title=show.show.name, position=spec.position,
                            borderless=opts.fullscreen)
        else:
            window = Window(size, fullscreen=opts.fullscreen, display=opts.display, title=show.show.name)
        ctx = window.ctx

    if opts.start_wall is not None and not opts.record:  # a live show resumes where the wall clock is now
        opts = dataclasses.replace(opts, start=opts.start + max(0.0, time.time() - opts.start_wall), start_wall=None)
    clock = FixedStepClock(fps, start=opts.start) if opts.record else RealClock(start=opts.start)
    compositor = Compositor(ctx, size)
    if profile is not None:
        from .calibration.glpass import CalibrationPass

        compositor.set_calibration(CalibrationPass(ctx, profile), spec)
    live = not opts.record
    now = datetime.now if (live and opts.schedule and show.schedule and not opts.start) else None
    playhead = Playhead(show, now=now, watch=opts.show if (live and opts.watch) else None)
    if playhead.watcher is not None:
        playhead.watcher.check, playhead.watcher.store = (lambda s: check_show(s, registry, opts.show)), store
        if rejected is not None:
            playhead.watcher.reject(rejected)
            playhead.watcher.playing = "last good copy"
    control = Control.from_show(show)
    if opts.control:
        control.start_inputs(registry.inputs(), offline=clock.deterministic)
    policy = RestartPolicy(deadline=opts.plugin_deadline) if opts.plugin_deadline else None
    app = App(show, registry, compositor, clock, device=torch.device(opts.device), playhead=playhead,
              control=control, policy=policy)
    recorder = VideoRecorder(opts.record, size, fps, crf=opts.crf) if opts.record else None
    monitor = HealthMonitor(app, fps).activate()
    status = StatusServer(monitor.snapshot, opts.health_port, opts.health_host).start() if opts.health_port is not None else None
    heartbeat = Heartbeat(opts.heartbeat) if opts.heartbeat else None
    n_frames = round(opts.duration * fps) if opts.duration is not None else None

    stop = {"flag": False}

    def _on_signal(signum, frame):  # finish the current frame, then finalise outputs
        stop["flag"] = True

    old_handlers = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    frames, t0 = 0, time.perf_counter()
    try:
        while not stop["flag"]:
            if _finished(opts, clock, frames, n_frames):
                break
            if window is not None:
                for action in window.poll():
                    app.handle(action)
                if window.closed:
                    break
            frame_start = time.perf_counter()
            app.frame()
            if recorder is not None:
                recorder.write(app.compositor.read_output())
            if window is not None:
                compositor.present(ctx.screen, window.size)
                window.flip()
            monitor.frame(time.perf_counter() - frame_start)
            if heartbeat is not None:
                heartbeat.beat(app.t, frames)
            if recorder is None and (window is None or not window.vsync):
                # real time without vsync: pace to the show's frame rate
                time.sleep(max(0.0, 1.0 / fps - (time.perf_counter() - frame_start)))
            frames += 1
        failed = scene_load_error(show, monitor.load_failures, opts.show) if clock.deterministic else None
        if failed is not None:  # an offline render that played the fallback for a model: not a success
            raise failed
    except ShowError:
        raise
    except Exception:
        log.exception("render loop failed", extra={"event": "runtime_error"})
        raise
    finally:
        monitor.deactivate()
        if status is not None:
            status.close()
        for s, h in old_handlers.items():
            signal.signal(s, h)
        app.close()
        if recorder is not None:
            recorder.close()
        if window is not None:
            window.close()
    return RunStats(frames, clock.now() - opts.start, time.perf_counter() - t0)
