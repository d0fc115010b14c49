"""``installation render SHOW OUT``: any stretch of a show to video, offline and deterministic.

The render seeks: ``--from 00:10:00`` starts the fixed-step clock at 600 s; nothing before it
is played.  Given the same show, frame rate and size, a frame at show time t is the same in
every render that contains it (with ``--crf 0`` bit for bit after decoding).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer

from .common import exit_if_recording_lost, resolve_device
from .timecode import parse_time


def _size(text: Optional[str]) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: write WIDTHxHEIGHT, e.g. 1920x1080", param_hint="--size") from None
    if w % 2 or h % 2 or w < 16 or h < 16:
        raise typer.BadParameter("width and height must be even and at least 16", param_hint="--size")
    return w, h


def register(app: typer.Typer) -> None:
    @app.command("render")
    def render(
        show: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML)."),
        out: Path = typer.Argument(..., help="Video file to write (.mp4)."),
        start: str = typer.Option("0", "--from", help="Show time to start at: seconds, MM:SS or HH:MM:SS."),
        duration: str = typer.Option("10", "--duration", help="Length to render: seconds, MM:SS or HH:MM:SS."),
        fps: Optional[float] = typer.Option(None, "--fps", help="Frame rate (default: the show's)."),
        size: Optional[str] = typer.Option(None, "--size", help="WIDTHxHEIGHT (default: the show's output size)."),
        crf: int = typer.Option(18, "--crf", min=0, max=51, help="H.264 quality: 0 is lossless, 18 visually lossless."),
        device: str = typer.Option("auto", "--device", help="Where models run: auto | cpu | cuda."),
        plugins_dir: Optional[Path] = typer.Option(None, "--plugins-dir", help="Also load plugins from *.py files in this folder."),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Log plugin and scene events."),
    ):
        """Render SHOW from --from for --duration seconds of show time to OUT (headless, fixed-step clock).

        Exit status 3: the recording stopped early (full disk); the show rendered on, what was written decodes.
        """
        from ..runner import RunOptions, run_show

        logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        t0, length = parse_time(start), parse_time(duration)
        if length <= 0:
            raise typer.BadParameter("must be positive", param_hint="--duration")
        from ..output.video import RecordingError, open_check

        try:  # refuse an unwritable place before anything is loaded or drawn
            open_check(out)
        except RecordingError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1)
        opts = RunOptions(show=show, headless=True, record=out, duration=length, start=t0, fps=fps,
                          size=_size(size), device=str(resolve_device(device)), plugins_dir=plugins_dir,
                          crf=crf)
        stats = run_show(opts)  # a broken show file is printed by the CLI's error boundary
        typer.echo(f"rendered {stats.frames} frames ({t0:.2f}–{t0 + stats.show_seconds:.2f} s of show) "
                   f"in {stats.wall_seconds:.1f} s to {out}")
        exit_if_recording_lost(stats)
