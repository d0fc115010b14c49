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
    """Load and check one show file (warnings printed); a ProblemError lists its errors.

    The same check ``run``, ``render`` and hot reload make (:func:`installation.checks.show_problems`):
    cues, walk options, the weights files scenes name, plugin names, bindings and the calibration profile."""
    from ..problems import ProblemError, render
    from ..checks import show_problems
    from ..show.loader import load_show

    show = load_show(path)
    errors, warnings = show_problems(show, registry, calibration=True)
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

    @show_app.command("at")
    def at(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML)."),
        times: Optional[List[str]] = typer.Argument(None, help="Show times: seconds, MM:SS or HH:MM:SS."),
        when: Optional[List[str]] = typer.Option(None, "--when", help="A wall-clock moment (ISO 8601, or 'now'): with an offset or Z it is that instant, without one the venue's wall clock. Repeatable."),
        as_json: bool = typer.Option(False, "--json", help="With --when: one JSON object a line, the fields /status reports under `schedule`."),
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
            desc = ", ".join(f"{l.scene.name!r} local {l.local_t:.2f}s opacity {l.opacity:.2f}" for l in layers) or "black"
            typer.echo(f"{text}: {desc}")
        if when:
            _at_wall_clock(file, show, when, as_json)

    def _at_wall_clock(file: Path, show, moments: List[str], as_json: bool) -> None:
        """What the running show plays at each moment: the runtime's own Playhead, fed that instant."""
        from ..show.playhead import Playhead

        if show.schedule is None:
            typer.echo(f"{file}: no [schedule]: --when needs opening hours (use show times instead)", err=True)
            raise typer.Exit(1)
        for text in moments:
            instant = _parse_when(text)
            playhead = Playhead(show, now=lambda instant=instant: instant)
            layers = playhead.update(0.0)
            status = playhead.schedule_status()
            if as_json:
                doc = {"when": text, **status,
                       "layers": [{"scene": l.scene.name, "local_t": round(l.local_t, 3), "opacity": round(l.opacity, 4)}
                                  for l in layers]}
                typer.echo(json.dumps(doc))
                continue
            desc = ", ".join(f"{l.scene.name!r} local {l.local_t:.2f}s opacity {l.opacity:.2f}" for l in layers) or "black"
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
            raise typer.BadParameter(f"{text!r} is not an ISO 8601 time: use e.g. 2026-03-29T10:00, "
                                     "2026-03-29T08:00Z or 2026-03-29T10:00+02:00") from None
