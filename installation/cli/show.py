"""``installation show``: validate show files, write the JSON Schema, inspect the timeline."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from .timecode import parse_time


def register(app: typer.Typer) -> None:
    show_app = typer.Typer(help="Show files: validate, schema for editors, timeline at a time.", no_args_is_help=True)
    app.add_typer(show_app, name="show")

    @show_app.command("validate")
    def validate(
        files: List[Path] = typer.Argument(..., help="Show files (TOML)."),
        schema_only: bool = typer.Option(False, "--schema-only", help="Skip checking plugin names against the installed plugins."),
        plugins_dir: Optional[Path] = typer.Option(None, "--plugins-dir", help="Also load plugins from *.py files in this folder."),
    ):
        """Report every error with file:line, field path and a hint; exit 1 if any file is invalid.

        The same check ``run``, ``render`` and hot reload make: walk options, the weights files
        scenes name, plugin names, bindings and the calibration profile."""
        from ..show.check import show_problems
        from ..show.loader import ShowError, load_show

        registry = None
        if not schema_only:
            from ..plugins import make_plugin_manager

            registry = make_plugin_manager(plugins_dir)
        bad = 0
        for path in files:
            try:
                show = load_show(path)
            except ShowError as exc:
                typer.echo(str(exc), err=True)
                bad += 1
                continue
            errors, warnings = show_problems(show, registry, calibration=True)
            for p in warnings:
                typer.echo("warning: " + p.format(path), err=True)
            if errors:
                for p in sorted(errors, key=lambda p: (str(p.file or ""), p.line or 0)):
                    typer.echo(p.format(path), err=True)
                bad += 1
                continue
            cues = len(show.cues) or len(show.scenes)
            typer.echo(f"{path}: ok ({len(show.scenes)} scenes, {cues} cues"
                       + (", schedule" if show.schedule else "") + (", looping" if show.loop else "")
                       + (f", calibration {show.calibration}" if show.calibration else "") + ")")
        if bad:
            raise typer.Exit(1)

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

    @show_app.command("at")
    def at(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML)."),
        times: List[str] = typer.Argument(..., help="Show times: seconds, MM:SS or HH:MM:SS."),
    ):
        """Print which scenes are visible at each show time, with local time and opacity."""
        from ..show.loader import ShowError, load_show
        from ..show.timeline import Timeline

        try:
            timeline = Timeline(load_show(file))
        except ShowError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1)
        for text in times:
            t = parse_time(text)
            layers = timeline.layers_at(t)
            desc = ", ".join(f"{l.scene.name!r} local {l.local_t:.2f}s opacity {l.opacity:.2f}" for l in layers) or "black"
            typer.echo(f"{text}: {desc}")
