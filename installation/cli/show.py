"""``installation show``: validate show files, write the JSON Schema, inspect the timeline."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import List, Optional

import typer

from .timecode import parse_time


def _placed(p, path):
    """``p`` with its file named (problems of several files are printed together)."""
    return dataclasses.replace(p, file=path)


def _timeline(path: Path, show):
    """The show's timeline; a cue list that cannot be played is a problem of the ``cues`` field."""
    from ..problems import Problem, ProblemError
    from ..show.timeline import Timeline

    try:
        return Timeline(show)
    except ValueError as exc:
        raise ProblemError(path, Problem(None, "cues", str(exc))) from None


def _check(path: Path, registry):
    """Load and check one show file (warnings printed); a ProblemError lists its errors."""
    from ..calibration.show import calibration_problems
    from ..control.check import control_problems
    from ..problems import ProblemError, render
    from ..show.check import plugin_problems
    from ..show.loader import load_show

    show = load_show(path)
    _timeline(path, show)
    if registry is not None:
        errors, warnings = plugin_problems(show, registry)
        if warnings:
            typer.echo(render(warnings, path, prefix="warning: "), err=True)
        if errors:
            raise ProblemError(path, errors)
    from ..bank.check import bank_problems

    # bindings name parameters; the profile fits; named seeds are in their bank
    for check in (control_problems, calibration_problems, bank_problems):
        problems = check(show)
        if problems:
            raise ProblemError(path, problems)
    return show


def register(app: typer.Typer) -> None:
    show_app = typer.Typer(help="Show files: validate, schema for editors, timeline at a time.", no_args_is_help=True)
    app.add_typer(show_app, name="show")

    @show_app.command("validate")
    def validate(
        files: List[Path] = typer.Argument(..., help="Show files (TOML)."),
        schema_only: bool = typer.Option(False, "--schema-only", help="Skip checking plugin names against the installed plugins."),
        plugins_dir: Optional[Path] = typer.Option(None, "--plugins-dir", help="Also load plugins from *.py files in this folder."),
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
            typer.echo(f"{path}: ok ({len(show.scenes)} scenes, {cues} cues"
                       + (", schedule" if show.schedule else "") + (", looping" if show.loop else "")
                       + (f", calibration {show.calibration}" if show.calibration else "") + ")")
        if bad:
            raise ProblemError(None, [p if p.file else _placed(p, exc.path) for exc in bad for p in exc.problems])

    @show_app.command("schema")
    def schema(out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write here instead of standard output.")):
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
        times: List[str] = typer.Argument(..., help="Show times: seconds, MM:SS or HH:MM:SS."),
    ):
        """Print which scenes are visible at each show time, with local time and opacity."""
        from ..show.loader import load_show

        timeline = _timeline(file, load_show(file))
        for text in times:
            t = parse_time(text)
            layers = timeline.layers_at(t)
            desc = ", ".join(f"{l.scene.name!r} local {l.local_t:.2f}s opacity {l.opacity:.2f}" for l in layers) or "black"
            typer.echo(f"{text}: {desc}")


def _register_preview(show_app: typer.Typer) -> None:
    """``show preview``: the timeline as a strip of frames (and a page to scroll)."""

    @show_app.command("preview")
    def preview(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Strip PNG to write [FILE's name + -preview.png]."),
        html: Optional[Path] = typer.Option(None, "--html", help="Also write a scrollable HTML page (frames embedded)."),
        every: float = typer.Option(10.0, "--every", min=0.1, help="Seconds of show time between frames."),
        start: str = typer.Option("0", "--from", help="Show time to start at: seconds, MM:SS or HH:MM:SS."),
        duration: Optional[str] = typer.Option(None, "--duration", help="Length to preview [one pass of the cue list]."),
        height: int = typer.Option(90, "--height", min=16, max=1080, help="Thumbnail height in pixels."),
        columns: Optional[int] = typer.Option(None, "--columns", min=1, help="Frames per row of the strip [all in one row]."),
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
        typer.echo(f"wrote {out}: {len(stops)} frames every {every:g} s from {pv.clock(t0)}, {len(marks)} cue/scene changes")
        if html is not None:
            html.write_text(pv.page(show.show.name, thumbs, stops, marks, every))
            typer.echo(f"wrote {html}")
