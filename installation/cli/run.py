"""``installation run SHOW``: play a show in a window, headless, and/or to a video file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from .common import exit_if_recording_lost, resolve_device


def _opens_window(show: Path) -> bool:
    """Whether the show would open a window: no ``\\[\\[outputs]]`` (one window), or a listed window.
    A show that does not load says so later, through the run's own error."""
    from ..show.loader import ShowError, load_show

    try:
        parsed = load_show(show)
    except ShowError:
        return True
    return not parsed.outputs or any(o.type == "window" for o in parsed.outputs)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        show: Path = typer.Argument(
            ..., exists=True, dir_okay=False, help="Show file (TOML), e.g. shows/default.toml."
        ),
        headless: bool = typer.Option(
            False,
            "--headless",
            help="Drop the window outputs and render through an offscreen EGL context (no display needed).",
        ),
        fullscreen: bool = typer.Option(
            False, "--fullscreen", help="Fill the chosen display (the window is borderless, the cursor hidden)."
        ),
        display: int = typer.Option(
            0,
            "--display",
            help="Index of the monitor to open the window on (0 = primary; a show that lists \\[\\[outputs]] sets "
            "each window's display there).",
        ),
        record: Path | None = typer.Option(
            None,
            "--record",
            help="Add a record output: encode what is shown to this video file (H.264, yuv420p) with a "
            "fixed-step clock: identical on every run. If the disk fills, the show renders on to --duration "
            "and the run exits with status 3.",
        ),
        duration: float | None = typer.Option(
            None, "--duration", help="Stop after this many seconds of show time (default: run until Esc / Ctrl-C)."
        ),
        start: float = typer.Option(0.0, "--from", help="Start at this show time in seconds."),
        device: str = typer.Option("auto", "--device", help="Where models run: auto | cpu | cuda."),
        fps: float | None = typer.Option(None, "--fps", help="Override the show's output frame rate."),
        plugins_dir: Path | None = typer.Option(
            None, "--plugins-dir", help="Also load plugins from *.py files in this folder."
        ),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Log plugin and scene events."),
        calibration: Path | None = typer.Option(
            None,
            "--calibration",
            help="Calibration profile (TOML) instead of the show's `calibration`.",
        ),
        output: int | None = typer.Option(
            None, "--output", help="With a per-display calibration profile: the output (0-based) this process shows."
        ),
        host: str | None = typer.Option(
            None,
            "--host",
            help="Draw the outputs the calibration profile's \\[\\[hosts]] entry NAME drives (one machine of a "
            "wall several drive); headless too, and --record records them.",
        ),
        health_port: int | None = typer.Option(
            None, "--health-port", help="Serve the status as JSON at http://HOST:PORT/status (e.g. 8787)."
        ),
        health_host: str = typer.Option(
            "127.0.0.1", "--health-host", help="Address the status endpoint listens on (default loopback only)."
        ),
        log_file: Path | None = typer.Option(
            None, "--log-file", help="Also write JSON-lines logs here, rotated at 10 MB (5 kept)."
        ),
        log_frames: bool = typer.Option(
            False,
            "--log-frames",
            help="With --log-file: one JSON record per frame (frame, show_time_s, monotonic_s, scene), never "
            "rate-limited, to compare synchronised hosts frame by frame.",
        ),
        supervise: bool = typer.Option(
            False,
            "--supervise",
            help="Run the show in a child process; restart it if it dies or stops producing frames, resuming "
            "the schedule.",
        ),
        watchdog: float = typer.Option(
            30.0, "--watchdog", help="With --supervise: seconds without a frame before the runtime is restarted."
        ),
        heartbeat: Path | None = typer.Option(
            None, "--heartbeat", help="Write a heartbeat file each second (the supervisor sets this)."
        ),
        web_port: int | None = typer.Option(
            None,
            "--web-port",
            help="Serve the status and control page at http://HOST:PORT/ (0: any free port; default: the "
            "show's [web] port, else off).",
        ),
        web_host: str | None = typer.Option(
            None,
            "--web-host",
            help="Address the page listens on (default: the show's \\[web] host, 127.0.0.1); off loopback a "
            "token is required.",
        ),
        plugin_deadline: float | None = typer.Option(
            None,
            "--plugin-deadline",
            help="Seconds a generator may take for one keyframe before it counts as hung and is restarted "
            "(default 10 live, 60 with --record).",
        ),
        plugin_memory: float | None = typer.Option(
            None,
            "--plugin-memory",
            help="MiB each generator's worker process may allocate once built; past it the plugin is out of "
            "memory (degraded, then restarted).",
        ),
        no_isolation: bool = typer.Option(
            False,
            "--no-isolation",
            help="Run generators in threads of this process instead of worker processes (debugging only: a "
            "crash or GIL-holding hang then stops the show).",
        ),
    ):
        """Run a show. Without a display, use --headless (and --record out.mp4 to keep the result). Esc quits.

        Exit status: 0 done; 1 a file is wrong (show, plugin, recording path); 2 the machine lacks
        something (display, package); 3 a recording stopped early (full disk), what was written decodes.
        """
        from ..health.logs import setup_logging
        from ..render.context import has_display
        from ..runner import RunOptions, run_show

        if log_frames and log_file is None:
            typer.echo("--log-frames writes to the JSON log: add --log-file PATH", err=True)
            raise typer.Exit(1)
        if record is not None:  # refuse an unwritable place before anything is loaded or drawn
            from ..output.video import RecordingError, open_check

            try:
                open_check(record)
            except RecordingError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(1) from None
        if supervise:
            from ..supervise import SuperviseOptions
            from ..supervise import supervise as run_supervised

            sup_log = log_file.with_name(f"{log_file.stem}.supervisor{log_file.suffix}") if log_file else None
            setup_logging(verbose=True, log_file=sup_log)
            # a broken show file is reported once (error boundary), not restarted forever
            # (unless a last good copy plays)
            from ..show.reload import LastGood, load_or_last_good

            parsed, _ = load_or_last_good(show, store=LastGood(show) if record is None else None, keep=False)
            # a show with opening hours finds its own place from the wall clock: never pass --from
            follows_hours = bool(parsed.schedule) and record is None and not start
            child = [str(show.resolve()), "--device", device]
            child += ["--headless"] if headless else []
            child += ["--fullscreen"] if fullscreen else []
            child += ["--display", str(display)]
            child += ["--fps", str(fps)] if fps is not None else []
            child += ["--plugins-dir", str(plugins_dir.resolve())] if plugins_dir else []
            child += ["--verbose"] if verbose else []
            child += (
                ["--health-port", str(health_port), "--health-host", health_host] if health_port is not None else []
            )
            child += ["--log-file", str(log_file.resolve())] if log_file else []
            child += ["--log-frames"] if log_frames else []
            child += ["--calibration", str(calibration.resolve())] if calibration else []
            child += ["--output", str(output)] if output is not None else []
            child += ["--host", host] if host is not None else []
            child += ["--plugin-deadline", str(plugin_deadline)] if plugin_deadline else []
            child += ["--plugin-memory", str(plugin_memory)] if plugin_memory else []
            child += ["--no-isolation"] if no_isolation else []
            child += ["--web-port", str(web_port)] if web_port is not None else []
            child += ["--web-host", web_host] if web_host else []
            hb = (
                heartbeat
                or Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
                / f"installation-{os.getpid()}.heartbeat"
            )
            result = run_supervised(
                SuperviseOptions(
                    child_args=child,
                    heartbeat=hb,
                    start=start,
                    duration=duration,
                    record=record.resolve() if record else None,
                    watchdog=watchdog,
                    resume=not follows_hours,
                )
            )
            typer.echo(f"supervisor: {result.restarts} restarts")
            raise typer.Exit(result.exit_code)

        setup_logging(verbose=verbose, log_file=log_file)
        if no_isolation and plugin_memory:
            typer.echo("--plugin-memory caps worker processes; with --no-isolation it is ignored", err=True)
        if not headless and not has_display() and _opens_window(show):
            typer.echo(
                "No display found (DISPLAY is not set). Run headless through EGL instead:\n"
                f"  installation run {show} --headless --record out.mp4 --duration 30",
                err=True,
            )
            raise typer.Exit(2)
        opts = RunOptions(
            show=show,
            headless=headless,
            fullscreen=fullscreen,
            display=display,
            record=record,
            duration=duration,
            device=str(resolve_device(device)),
            plugins_dir=plugins_dir,
            start=start,
            fps=fps,
            calibration=calibration,
            output=output,
            host=host,
            health_port=health_port,
            health_host=health_host,
            heartbeat=heartbeat,
            plugin_deadline=plugin_deadline,
            isolated=not no_isolation,
            plugin_memory=plugin_memory,
            web_port=web_port,
            web_host=web_host,
            log_frames=log_frames,
            start_wall=float(os.environ["INSTALLATION_FROM_WALL"])
            if os.environ.get("INSTALLATION_FROM_WALL")
            else None,
        )
        stats = run_show(opts)  # errors the user can fix are printed by the CLI's error boundary
        typer.echo(
            f"{stats.frames} frames, {stats.show_seconds:.1f} s of show in {stats.wall_seconds:.1f} s "
            f"({stats.fps:.1f} fps)" + (f"; recorded {record}" if record and not stats.lost_recordings else "")
        )
        exit_if_recording_lost(stats)
