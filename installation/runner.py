"""Drive a show: a small loop over a clock, the app and a list of outputs.

``--record`` uses a fixed-step clock: each frame advances exactly 1/fps of show time however
long it took, so the video is the show as it should look, identical on every run.  Without it
the show runs on the wall clock and the generator workers run in the background.  Under
``[sync] link = true`` show time comes from the Link session the hosts share
(:mod:`installation.sync`), and ``--record`` records the live frames as this host plays them.

Each frame the app updates and draws once into the canvas; the same :class:`Frame` is then
handed to every output (windows, recordings, plugin outputs: see :mod:`installation.output.setup`).
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .app import App
from .checks import check_show
from .clock import FixedStepClock, RealClock
from .control.system import Control
from .engine.transport import warm_up
from .engine.worker import RestartPolicy, interrupt_waits, reset_interrupt
from .health import HealthMonitor, Heartbeat, StatusServer
from .output.base import Canvas, Frame
from .output.record import lost_recordings
from .output.setup import build_outputs, close_outputs, open_outputs, select_outputs
from .pacing import Pacer
from .plugins import make_plugin_manager
from .progress import Progress
from .render.compositor import Compositor
from .show.check import scene_load_error
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
    schedule: bool = True  # follow the show's opening hours (live runs without --from only)
    watch: bool = True  # hot-reload the show file at the next cue (live runs only)
    crf: int = 18  # H.264 quality of --record (0 = lossless)
    calibration: Path | None = None  # overrides the show's `calibration` (relative to the working directory)
    output: int | None = None  # with a per-display profile: the one output this process shows
    host: str | None = None  # the profile's [[hosts]] entry whose outputs this process draws
    canvas_only: bool = False  # `installation render`: the canvas, offline (no calibration, no [sync])
    control: bool = True  # start the show's OSC/MIDI/audio/serial inputs
    health_port: int | None = None  # serve GET /status here (0: any free port)
    health_host: str = "127.0.0.1"
    heartbeat: Path | None = None  # file the supervisor watches
    start_wall: float | None = None  # time.time() at which show time was ``start`` (live resume after a restart)
    plugin_deadline: float | None = None  # seconds a keyframe may take before the plugin counts as hung
    isolated: bool = True  # each generator in a worker process of its own (False: threads, for debugging)
    plugin_memory: float | None = None  # MiB a generator's worker process may allocate once built (then: oom)
    web_port: int | None = None  # serve the web page here (0: any free port); None: the show's [web] port
    web_host: str | None = None  # None: the show's [web] host (default 127.0.0.1)
    progress: bool = True  # --record: a bar with ETA on a terminal, a log line every 10 s otherwise
    audio: Path | None = None  # a soundtrack whose features drive the show's bindings (overrides [audio] track)
    log_frames: bool = False  # one JSON log record per frame (frame, show_time_s, monotonic_s, scene)


@dataclass
class RunStats:
    frames: int
    show_seconds: float
    wall_seconds: float
    lost_recordings: tuple[str, ...] = ()  # a recording that stopped early (full disk): file and what was kept

    @property
    def fps(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0


def _finished(opts: RunOptions, clock, frames: int, n_frames: int | None) -> bool:
    if n_frames is None:
        return False
    if clock.deterministic:
        return frames >= n_frames
    return frames > 0 and clock.now() - opts.start >= opts.duration


def _canvas(show, opts: RunOptions, size: tuple[int, int], fps: float, windows: bool):
    """What every output is told at open, and the calibrated outputs this process draws (or ``None``).

    Windows show the profile; headless runs and ``--host`` runs draw it offscreen too, so their
    recordings are what the projectors show; ``installation render`` keeps the canvas."""
    from .calibration.hosts import offscreen_window, select

    profile = None
    named = bool(opts.calibration or show.calibration)
    if windows or (named and not opts.canvas_only) or opts.host is not None:
        from .calibration.show import show_calibration

        profile = show_calibration(show, opts.calibration, size)  # checked against the canvas size
    elif named:
        log.info("render draws the canvas; the calibration profile applies to `installation run`")
    selection = select(profile, opts.host, opts.output, windows)
    offscreen = offscreen_window(selection) if selection is not None and selection.offscreen else None
    canvas = Canvas(
        offscreen.size if offscreen is not None else size,
        fps,
        title=show.show.name,
        base=show.source.parent if show.source else None,
        show_path=opts.show,
        calibration=profile,
        calibration_output=opts.output,
        calibration_outputs=selection.outputs if selection is not None else None,
    )
    return canvas, (profile, offscreen) if offscreen is not None else None


def run_show(opts: RunOptions) -> RunStats:
    with _StopOnSignal() as stop:
        return _run_show(opts, stop)


def _run_show(opts: RunOptions, stop: _StopOnSignal) -> RunStats:
    registry = make_plugin_manager(opts.plugins_dir)
    for failure in registry.failures:
        log.warning("plugin %s (%s) failed to load: %s", failure.name, failure.source, failure.error)
    # the check validate and hot reload make; a live run restarted with a broken file plays the last good copy
    store = LastGood(opts.show) if not opts.record else None
    show, rejected = load_or_last_good(opts.show, lambda s: check_show(s, registry, opts.show), store)
    if opts.isolated:  # the fork server for generator workers imports torch meanwhile
        warm_up()
    fps = opts.fps or show.output.fps
    size = opts.size or (show.output.width, show.output.height)

    slots = build_outputs(
        select_outputs(show, opts.headless, opts.record, opts.crf, opts.fullscreen, opts.display), registry.outputs()
    )
    canvas, offscreen = _canvas(show, opts, size, fps, windows=any(s.type == "window" for s in slots))
    ctx = open_outputs(slots, canvas)
    outputs = [s.output for s in slots]
    app = monitor = status = control = sync = None
    servers: list = []  # the web page and OSCQuery, closed before the app
    try:
        if opts.start_wall is not None and not opts.record:  # a live show resumes where the wall clock is now
            opts = dataclasses.replace(
                opts, start=opts.start + max(0.0, time.time() - opts.start_wall), start_wall=None
            )
        sync = _link_clock(opts, show)
        clock = sync or (FixedStepClock(fps, start=opts.start) if opts.record else RealClock(start=opts.start))
        if sync is not None:  # show time is the hosts' (--from and a resume are theirs); --duration counts from now
            opts = dataclasses.replace(opts, start=sync.now())
        live = not opts.record
        now = (
            time.time if (live and opts.schedule and show.schedule and (not opts.start or sync is not None)) else None
        )  # an instant: the schedule converts to the venue zone
        # under [sync] the hours open and close each host by its wall clock; show time stays the hosts'
        playhead = Playhead(
            show, now=now, watch=opts.show if (live and opts.watch) else None, hours_gate_only=sync is not None
        )
        if playhead.watcher is not None:
            playhead.watcher.check, playhead.watcher.store = (lambda s: check_show(s, registry, opts.show)), store
            if rejected is not None:
                playhead.watcher.reject(rejected)
                playhead.watcher.playing = "last good copy"
        control = Control.from_show(show, audio=opts.audio)
        if sync is not None:
            from .sync import attach

            attach(control, sync)  # what reaches this host's inputs plays on every host, at one show time
            from .audio.link_beats import beat_source_for

            # cues `at_beat` and `keyframe_beats` follow the Link session's beat, as every host hears it
            playhead.beats = beat_source_for(control.beats, sync.session, clock.now)
        if opts.control:
            control.start_inputs(registry.inputs(), offline=clock.deterministic)
            if sync is not None:
                from .sync import listen_osc_group

                listen_osc_group(control, show.sync)
        policy = RestartPolicy(
            deadline=opts.plugin_deadline or (60.0 if clock.deterministic else 10.0),
            isolated=opts.isolated,
            memory_mb=opts.plugin_memory,
        )
        compositor = Compositor(ctx, size)
        if offscreen is not None:  # headless or --host: recordings get the calibrated outputs
            from .calibration.glpass import CalibrationPass

            compositor.set_offscreen_calibration(CalibrationPass(ctx, offscreen[0]), offscreen[1])
        app = App(
            show,
            registry,
            compositor,
            clock,
            device=torch.device(opts.device),
            playhead=playhead,
            control=control,
            policy=policy,
        )
        monitor = HealthMonitor(app, fps).activate()
        status = (
            StatusServer(monitor.snapshot, opts.health_port, opts.health_host).start()
            if opts.health_port is not None
            else None
        )
        if live:
            servers = _start_servers(opts, show, app, monitor, canvas, outputs)
        heartbeat = Heartbeat(opts.heartbeat) if opts.heartbeat else None
        n_frames = round(opts.duration * fps) if opts.duration is not None else None
        # real time without an output that waits for the display's refresh: pace to the show's frame rate
        pace = not clock.deterministic and not any(getattr(o, "paced", False) for o in outputs)
        with Progress(
            f"record {Path(opts.record).name}" if opts.record else "run",
            n_frames or 0,
            "frames",
            enabled=bool(opts.record and opts.progress),
        ) as bar:
            frames, t0 = _loop(opts, clock, app, outputs, monitor, heartbeat, n_frames, fps, pace, stop, bar)
    finally:
        if monitor is not None:
            monitor.deactivate()
        if status is not None:
            status.close()
        for server in servers:
            server.close()
        if app is not None:
            app.close()
        elif control is not None:
            control.stop()
        close_outputs(slots)
        if sync is not None:
            sync.close()
    return RunStats(frames, clock.now() - opts.start, time.perf_counter() - t0, tuple(lost_recordings(outputs)))


def _link_clock(opts: RunOptions, show):
    """Under ``[sync] link = true`` a live run's clock is the Link session's (None otherwise)."""
    if not show.sync.link or opts.canvas_only:  # `installation render`: offline, on the fixed-step clock
        return None
    if opts.record:  # the live frames as this host plays them (fragmented MP4: a kill loses a second or two)
        log.info("[sync]: --record records the live, Link-timed frames")
    from .sync import link_clock

    return link_clock(show)


def _start_servers(opts: RunOptions, show, app: App, monitor, canvas: Canvas, outputs: list) -> list:
    """Live runs: the web page (appending its output to ``outputs``) and, when the show listens
    for OSC, its OSCQuery tree.  Returns what to close.  Not in offline renders: a render is the
    show file alone, frame for frame."""
    servers: list = []
    web_port = opts.web_port if opts.web_port is not None else show.web.port
    if web_port is not None:
        from .web import start_web

        output, server = start_web(app, monitor.snapshot, show.web, web_port, opts.web_host)
        output.open(canvas)
        outputs.append(output)
        servers += [server, output]
    if show.web.oscquery and opts.control:
        from .control.oscquery import start_for

        query = start_for(app.control, show.show.name, show.web.oscquery_port)
        if query is not None:
            servers.append(query)
    return servers


class _StopOnSignal:
    """SIGINT/SIGTERM set a flag the loop reads: the current frame finishes, then outputs finalise.

    Installed before anything starts (inputs, status, workers), so a signal that arrives while the
    show is still starting ends it cleanly (exit 0) instead of killing the process mid-setup."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.flag = False
        self._old: dict = {}

    def _on_signal(self, signum, frame) -> None:
        self.flag = True
        interrupt_waits()  # a --record frame waiting on a plugin stops waiting (workers end in app.close)

    def __enter__(self) -> _StopOnSignal:
        reset_interrupt()
        self._old = {s: signal.signal(s, self._on_signal) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


def _loop(
    opts,
    clock,
    app: App,
    outputs: list,
    monitor,
    heartbeat,
    n_frames,
    fps,
    pace,
    stop: _StopOnSignal,
    progress: Progress | None = None,
    pacer: Pacer | None = None,
) -> tuple[int, float]:
    """Until done or stopped: poll the outputs for input, draw one frame, hand it to every output.

    With ``pace`` (real time, no output waiting for vsync) frames keep the slots of a display at
    ``fps`` (:class:`~installation.pacing.Pacer`: a deadline schedule, not a fixed sleep)."""
    pacer = pacer or Pacer(fps)
    pollers = [o for o in outputs if callable(getattr(o, "poll", None))]
    if opts.log_frames:
        from .health.logs import log_frame
        from .sync.digest import shown_keyframes
    frames, t0 = 0, time.perf_counter()
    try:
        while not stop.flag and not _finished(opts, clock, frames, n_frames):
            for o in pollers:
                for action in o.poll():
                    app.handle(action)
            if any(getattr(o, "closed", False) for o in outputs):
                break
            frame_start = time.perf_counter()
            app.frame()
            frame = Frame(app.compositor, frames, app.t, values=app.control.registry.values)
            for o in outputs:
                o.write(frame)
            pacer.presented_now()
            monitor.frame(time.perf_counter() - frame_start)
            if opts.log_frames:
                at = getattr(clock, "ticked_at", None)
                log_frame(
                    frames,
                    app.t,
                    time.monotonic() if at is None else at,
                    app.control.registry.get("/status/scene", ""),
                    shown_keyframes(app.snapshot),
                )
            if heartbeat is not None:
                heartbeat.beat(app.t, frames)
            if pace:
                pacer.wait()
            frames += 1
            if progress is not None:
                progress.advance(1)
        failed = scene_load_error(app.show, monitor.load_failures, opts.show) if clock.deterministic else None
        if failed is not None:  # an offline render that played the fallback for a model: not a success
            raise failed
    except ShowError:
        raise
    except Exception:
        log.exception("render loop failed", extra={"event": "runtime_error"})
        raise
    return frames, t0
