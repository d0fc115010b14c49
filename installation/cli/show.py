"""``installation show``: validate show files, write the JSON Schema, inspect the timeline."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer

from .timecode import parse_time


def _placed(p, path):
    """``p`` with its file named (problems of several files are printed together)."""
    return dataclasses.replace(p, file=path)


def _fixed(instant):
    """A clock that always reads ``instant`` (each --when moment gets its own)."""
    return lambda: instant


def _timeline(path: Path, show):
    """The show's timeline; a cue list that cannot be played is a problem of the ``cues`` field."""
    from ..problems import Problem, ProblemError
    from ..show.timeline import Timeline

    try:
        return Timeline(show)
    except ValueError as exc:
        raise ProblemError(path, Problem(None, "cues", str(exc))) from None


def _check(path: Path, registry):
    """Load and check one show file (warnings printed); a ProblemError lists its errors.

    The same check ``run``, ``render`` and hot reload make (:func:`installation.checks.show_problems`):
    cues, walk options, the weights files scenes name, plugin names, bindings and the calibration profile."""
    from ..checks import show_problems
    from ..problems import ProblemError, render
    from ..show.loader import load_show

    show = load_show(path)
    from ..bank.check import bank_problems

    errors, warnings = show_problems(show, registry, calibration=True)
    errors += bank_problems(show)  # named seeds are in their bank
    if warnings:
        typer.echo(render(warnings, path, prefix="warning: "), err=True)
    if errors:
        raise ProblemError(path, sorted(errors, key=lambda p: (str(p.file or ""), p.line or 0)))
    return show


def register(app: typer.Typer) -> None:
    show_app = typer.Typer(help="Show files: validate, schema for editors, timeline at a time.", no_args_is_help=True)
    app.add_typer(show_app, name="show")

    @show_app.command("validate")
    def validate(
        files: list[Path] = typer.Argument(..., help="Show files (TOML)."),
        schema_only: bool = typer.Option(
            False, "--schema-only", help="Skip checking plugin names against the installed plugins."
        ),
        plugins_dir: Path | None = typer.Option(
            None, "--plugins-dir", help="Also load plugins from *.py files in this folder."
        ),
    ):
        """Report every error with file:line, field path and a hint; exit 1 if any file is invalid."""
        from ..problems import ProblemError

        registry = None
        if not schema_only:
            from ..plugins import make_plugin_manager

            registry = make_plugin_manager(plugins_dir)
        bad: list[ProblemError] = []
        for path in files:
            try:
                show = _check(path, registry)
            except ProblemError as exc:  # collected: every file is checked, the boundary prints them all
                bad.append(exc)
                continue
            cues = len(show.cues) or len(show.scenes)
            typer.echo(
                f"{path}: ok ({len(show.scenes)} scenes, {cues} cues"
                + (", schedule" if show.schedule else "")
                + (", looping" if show.loop else "")
                + (f", calibration {show.calibration}" if show.calibration else "")
                + ")"
            )
        if bad:
            raise ProblemError(None, [p if p.file else _placed(p, exc.path) for exc in bad for p in exc.problems])

    @show_app.command("schema")
    def schema(out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of standard output.")):
        """Write the show-file JSON Schema (for editor completion and checking, e.g. Taplo or VS Code)."""
        from ..show.schema import Show

        doc = Show.model_json_schema(by_alias=True)
        doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        doc["title"] = "installation show file"
        text = json.dumps(doc, indent=2)
        if out is None:
            typer.echo(text)
        else:
            out.write_text(text + "\n")
            typer.echo(f"wrote {out}")

    _register_preview(show_app)

    @show_app.command("at")
    def at(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML)."),
        times: list[str] | None = typer.Argument(None, help="Show times: seconds, MM:SS or HH:MM:SS."),
        when: list[str] | None = typer.Option(
            None,
            "--when",
            help="A wall-clock moment (ISO 8601, or 'now'): with an offset or Z it is that instant, "
            "without one the venue's wall clock. Repeatable.",
        ),
        as_json: bool = typer.Option(
            False, "--json", help="With --when: one JSON object a line, the fields /status reports under `schedule`."
        ),
    ):
        """Print which scenes are visible at each show time, or at each --when moment of the opening hours."""
        from ..show.loader import load_show

        if not times and not when:
            raise typer.BadParameter("give show times, or --when ISO for a wall-clock moment")
        show = load_show(file)
        timeline = _timeline(file, show)
        for text in times or []:
            t = parse_time(text)
            layers = timeline.layers_at(t)
            desc = (
                ", ".join(
                    f"{layer.scene.name!r} local {layer.local_t:.2f}s opacity {layer.opacity:.2f}" for layer in layers
                )
                or "black"
            )
            typer.echo(f"{text}: {desc}")
        if when:
            _at_wall_clock(file, show, when, as_json)

    def _at_wall_clock(file: Path, show, moments: list[str], as_json: bool) -> None:
        """What the running show plays at each moment: the runtime's own Playhead, fed that instant."""
        from ..show.playhead import Playhead

        if show.schedule is None:
            typer.echo(f"{file}: no [schedule]: --when needs opening hours (use show times instead)", err=True)
            raise typer.Exit(1)
        for text in moments:
            instant = _parse_when(text)
            playhead = Playhead(show, now=_fixed(instant))
            layers = playhead.update(0.0)
            status = playhead.schedule_status()
            assert status is not None  # the show has a schedule (checked above)
            if as_json:
                doc = {
                    "when": text,
                    **status,
                    "layers": [
                        {
                            "scene": layer.scene.name,
                            "local_t": round(layer.local_t, 3),
                            "opacity": round(layer.opacity, 4),
                        }
                        for layer in layers
                    ],
                }
                typer.echo(json.dumps(doc))
                continue
            desc = (
                ", ".join(
                    f"{layer.scene.name!r} local {layer.local_t:.2f}s opacity {layer.opacity:.2f}" for layer in layers
                )
                or "black"
            )
            if status["open"]:
                state = f"open, show {status['show_time_s']:.2f} s, fade {status['fade']:.2f}"
            else:
                state = f"closed ({status['since_close_s'] / 60:.1f} min since the last close)"
            typer.echo(f"{text}: {status['venue_time']} {status['timezone']}: {state}: {desc}")

    def _parse_when(text: str):
        """ISO 8601 (aware: an instant; naive: the venue's wall clock, which the schedule applies), or 'now'."""
        import datetime as dt

        if text.strip().lower() == "now":
            return dt.datetime.now(dt.timezone.utc)
        try:
            return dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise typer.BadParameter(
                f"{text!r} is not an ISO 8601 time: use e.g. 2026-03-29T10:00, "
                "2026-03-29T08:00Z or 2026-03-29T10:00+02:00"
            ) from None


def _register_preview(show_app: typer.Typer) -> None:
    """``show preview``: the timeline as a strip of frames (and a page to scroll)."""

    @show_app.command("preview")
    def preview(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML)."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Strip PNG to write \\[FILE's name + -preview.png]."),
        html: Path | None = typer.Option(None, "--html", help="Also write a scrollable HTML page (frames embedded)."),
        every: float = typer.Option(10.0, "--every", min=0.1, help="Seconds of show time between frames."),
        start: str = typer.Option("0", "--from", help="Show time to start at: seconds, MM:SS or HH:MM:SS."),
        duration: str | None = typer.Option(None, "--duration", help="Length to preview \\[one pass of the cue list]."),
        height: int = typer.Option(90, "--height", min=16, max=1080, help="Thumbnail height in pixels."),
        columns: int | None = typer.Option(
            None, "--columns", min=1, help="Frames per row of the strip \\[all in one row]."
        ),
        device: str = typer.Option("auto", "--device", help="Where models run: auto | cpu | cuda."),
    ):
        """Draw the timeline as a strip of frames, one every --every seconds, with scene names and cue times."""
        import torch

        from ..app import SceneLoadError, build_source
        from ..plugins import make_plugin_manager
        from ..problems import Problem, ProblemError
        from ..progress import Progress
        from ..show.loader import load_show
        from ..studio import preview as pv
        from ..studio.sheet import to_uint8, write_png
        from .common import resolve_device

        show = load_show(file)
        _timeline(file, show)  # a cue list that cannot be played is reported as in validate
        timeline, length = pv.preview_timeline(show)
        t0 = parse_time(start)
        span = parse_time(duration) if duration is not None else max(length - t0, every)
        stops, marks = pv.plan(timeline, every, span, t0)
        registry, dev = make_plugin_manager(), torch.device(str(resolve_device(device)))
        sources: dict = {}

        def frame_of(i: int, local_t: float):
            if i not in sources:
                try:
                    sources[i] = build_source(show.scenes[i], registry, dev, show.show.seed)
                except SceneLoadError as exc:
                    raise ProblemError(file, Problem(None, f"scenes[{i}]", str(exc))) from None
            src = sources[i]
            return to_uint8(src.make(int(local_t * src.rate)).unsqueeze(0).cpu())[0]

        width = max(16, int(round(height * show.output.width / show.output.height)))
        with Progress(f"preview {file.name}", len(stops), "frames") as bar:
            thumbs = pv.thumbnails(stops, frame_of, height, width, bar)
        out = out or file.with_name(file.stem + "-preview.png")
        write_png(pv.strip(thumbs, stops, marks, every, columns), out)
        typer.echo(
            f"wrote {out}: {len(stops)} frames every {every:g} s from {pv.clock(t0)}, {len(marks)} cue/scene changes"
        )
        if html is not None:
            html.write_text(pv.page(show.show.name, thumbs, stops, marks, every))
            typer.echo(f"wrote {html}")
