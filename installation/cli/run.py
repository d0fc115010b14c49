"""``installation run SHOW``: play a show in a window, headless, and/or to a video file."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer

from .common import resolve_device


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        show: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML), e.g. shows/default.toml."),
        headless: bool = typer.Option(False, "--headless", help="Render through an offscreen EGL context (no display needed)."),
        fullscreen: bool = typer.Option(False, "--fullscreen", help="Fill the chosen display (the window is borderless, the cursor hidden)."),
        display: int = typer.Option(0, "--display", help="Index of the monitor to open the window on (0 = primary)."),
        record: Optional[Path] = typer.Option(None, "--record", help="Encode what is shown to this video file (H.264, yuv420p) with a fixed-step clock: identical on every run."),
        duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds of show time (default: run until Esc / Ctrl-C)."),
        start: float = typer.Option(0.0, "--from", help="Start at this show time in seconds."),
        device: str = typer.Option("auto", "--device", help="Where models run: auto | cpu | cuda."),
        fps: Optional[float] = typer.Option(None, "--fps", help="Override the show's output frame rate."),
        plugins_dir: Optional[Path] = typer.Option(None, "--plugins-dir", help="Also load plugins from *.py files in this folder."),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Log plugin and scene events."),
        calibration: Optional[Path] = typer.Option(None, "--calibration", help="Calibration profile (TOML) for the window outputs, instead of the show's `calibration`."),
        output: Optional[int] = typer.Option(None, "--output", help="With a per-display calibration profile: the output (0-based) this process shows."),
    ):
        """Run a show. Without a display, use --headless (and --record out.mp4 to keep the result). Esc quits."""
        from ..render.context import NoDisplayError, has_display
        from ..runner import RunOptions, run_show
        from ..show.loader import ShowError

        logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        if not headless and not has_display():
            typer.echo(
                "No display found (DISPLAY is not set). Run headless through EGL instead:\n"
                f"  installation run {show} --headless --record out.mp4 --duration 30",
                err=True,
            )
            raise typer.Exit(2)
        opts = RunOptions(show=show, headless=headless, fullscreen=fullscreen, display=display, record=record,
                          duration=duration, device=str(resolve_device(device)), plugins_dir=plugins_dir,
                          start=start, fps=fps, calibration=calibration, output=output)
        try:
            stats = run_show(opts)
        except ShowError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1)
        except NoDisplayError as exc:
            typer.echo(f"{exc}", err=True)
            raise typer.Exit(2)
        typer.echo(f"{stats.frames} frames, {stats.show_seconds:.1f} s of show in {stats.wall_seconds:.1f} s ({stats.fps:.1f} fps)"
                   + (f"; recorded {record}" if record else ""))
