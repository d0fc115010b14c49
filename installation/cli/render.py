"""``installation render SHOW OUT`` (or ``--out OUT``): any stretch of a show to video, offline and deterministic.

The render seeks: ``--from 00:10:00`` starts the fixed-step clock at 600 s; nothing before it
is played.  Given the same show, frame rate and size, a frame at show time t is the same in
every render that contains it (with ``--crf 0`` bit for bit after decoding).
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from .common import exit_if_recording_lost, resolve_device
from .timecode import parse_time


def _size(text: str | None) -> tuple[int, int] | None:
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
        out_arg: Path | None = typer.Argument(None, metavar="OUT", help="Video file to write (.mp4)."),
        out_opt: Path | None = typer.Option(None, "--out", "-o", help="The video file, as an option (same as OUT)."),
        start: str = typer.Option("0", "--from", help="Show time to start at: seconds, MM:SS or HH:MM:SS."),
        duration: str | None = typer.Option(
            None,
            "--duration",
            help="Length to render: seconds, MM:SS or HH:MM:SS (default: to the end of --audio, else 10 s).",
        ),
        audio: Path | None = typer.Option(
            None,
            "--audio",
            exists=True,
            dir_okay=False,
            help="Soundtrack (wav, mp3, flac): its features drive the show's bindings and it is muxed into OUT (AAC).",
        ),
        fps: float | None = typer.Option(None, "--fps", help="Frame rate (default: the show's)."),
        size: str | None = typer.Option(None, "--size", help="WIDTHxHEIGHT (default: the show's output size)."),
        crf: int = typer.Option(18, "--crf", min=0, max=51, help="H.264 quality: 0 is lossless, 18 visually lossless."),
        device: str = typer.Option("auto", "--device", help="Where models run: auto | cpu | cuda."),
        plugins_dir: Path | None = typer.Option(
            None, "--plugins-dir", help="Also load plugins from *.py files in this folder."
        ),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Log plugin and scene events."),
    ):
        """Render SHOW from --from for --duration seconds of show time to OUT (headless, fixed-step clock).

        Exit status 3: the recording stopped early (full disk); the show rendered on, what was written decodes.
        """
        from ..runner import RunOptions, run_show

        if out_arg is not None and out_opt is not None and out_arg != out_opt:
            raise typer.BadParameter("give the video file once: OUT or --out", param_hint="OUT")
        out = out_arg or out_opt
        if out is None:
            raise typer.BadParameter("where to write the video: OUT or --out video.mp4", param_hint="OUT")

        logging.basicConfig(
            level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
        )
        t0 = parse_time(start)
        if audio is None:  # the show's own [audio] track is muxed too (and sets the length)
            from ..show.loader import load_show

            spec = load_show(show).audio  # a broken show file is printed by the CLI's error boundary
            if spec is not None:
                track = Path(spec.track).expanduser()
                audio = track if track.is_absolute() else show.parent / track
        if duration is not None:
            length = parse_time(duration)
        elif audio is not None:
            from ..audio.decode import AudioError, track_seconds

            try:
                length = track_seconds(audio) - t0
            except AudioError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(1) from None
        else:
            length = 10.0
        if length <= 0:
            raise typer.BadParameter("must be positive", param_hint="--duration")
        from ..output.video import RecordingError, open_check

        try:  # refuse an unwritable place before anything is loaded or drawn
            open_check(out)
        except RecordingError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        opts = RunOptions(
            show=show,
            headless=True,
            canvas_only=True,  # the show as authored: calibration is for `installation run`
            record=out,
            duration=length,
            start=t0,
            fps=fps,
            size=_size(size),
            device=str(resolve_device(device)),
            plugins_dir=plugins_dir,
            crf=crf,
            audio=audio,
        )
        from ..audio.decode import AudioError

        try:
            stats = run_show(opts)  # a broken show file is printed by the CLI's error boundary
        except AudioError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        if audio is not None and not stats.lost_recordings:  # a cut recording is left as it decodes
            from ..output.audio_mux import add_audio

            add_audio(out, audio, t0)  # as long as the video: frame 0 and sample 0 are show time t0
        typer.echo(
            f"rendered {stats.frames} frames ({t0:.2f}–{t0 + stats.show_seconds:.2f} s of show) "
            f"in {stats.wall_seconds:.1f} s to {out}"
        )
        exit_if_recording_lost(stats)
