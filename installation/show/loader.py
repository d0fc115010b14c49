"""Loading show files: includes merged, the schema checked, every error on its file and line.

The locating and printing of errors is :mod:`installation.problems`, shared with calibration
profiles; this module adds what only show files have: ``include = [...]`` (venue files merged
under the show, each error reported in the file that set the key) and the cross-references
between scenes, playlists and cues.  ``ShowError`` and ``Problem`` stay importable from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..problems import (
    Problem,
    ProblemError,
    Sources,
    field_path,
    locate,
    parse_toml,
    read_text,
    validate,
)
from .schema import Show, check_references

#: a show file that cannot be used (the one problems error type, under its historical name)
ShowError = ProblemError


def _merge(base: dict, over: dict) -> dict:
    """Tables merge key by key (recursively); any other value in ``over`` replaces ``base``'s."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _resolve_includes(data: dict, path: Path | str, text: str, sources: Sources, stack: tuple = ()) -> dict:
    """Merge ``include = [...]`` files under ``data`` (depth first; later includes win over earlier)."""
    includes = data.get("include", [])
    if not includes:
        return data
    line = locate(text, ("include",))
    if not isinstance(includes, list) or not all(isinstance(x, str) for x in includes):
        raise ShowError(path, Problem(line, "include", "must be a list of file paths", 'e.g. include = ["venue.toml"]'))
    base_dir = Path(path).parent if str(path) != "<show>" else Path.cwd()
    merged: dict = {}
    for k, name in enumerate(includes):
        inc = (base_dir / name).resolve()
        if inc in stack:
            raise ShowError(path, Problem(line, f"include[{k}]", f"{name} includes itself (cycle)"))
        inc_text = read_text(
            inc, where=path, line=line, field=f"include[{k}]", hint="paths are relative to the file that includes them"
        )
        sources.add(inc, inc_text)
        inc_data = _resolve_includes(parse_toml(inc_text, inc), inc, inc_text, sources, stack + (inc,))
        inc_data.pop("include", None)
        if isinstance(inc_data.get("calibration"), str):  # relative to the file that names it
            inc_data["calibration"] = str(inc.parent / Path(inc_data["calibration"]).expanduser())
        merged = _merge(merged, inc_data)
    return _merge(merged, data)


def resolve_paths(show: Show, sources: Sources) -> None:
    """Make relative ``checkpoint`` paths (of generators and post stages) and sound files (``[audio]
    track``, ``[control.audio] file``) relative to the file that names them, not to the working
    directory: a show plays the same from wherever it is started."""

    def resolve(loc: tuple, value: Any) -> Any:
        if not isinstance(value, str) or not value or Path(value).expanduser().is_absolute():
            return str(Path(value).expanduser()) if isinstance(value, str) and value else value
        file = sources.locate(loc)[0]
        base = Path(file).parent if str(file) != "<show>" else Path.cwd()
        return str(base / value)

    # sound files too (the soundtrack, a file looped as the live input), made absolute: the readers
    # of these fields used to join them to the show's folder themselves
    if show.audio is not None:
        show.audio.track = str(Path(resolve(("audio", "track"), show.audio.track)).absolute())
    if show.control.audio.file:
        show.control.audio.file = str(Path(resolve(("control", "audio", "file"), show.control.audio.file)).absolute())
    for i, scene in enumerate(show.scenes):
        scene.generator.checkpoint = resolve(("scenes", i, "generator", "checkpoint"), scene.generator.checkpoint)
        for j, stage in enumerate(scene.post):
            if stage.model_extra and "checkpoint" in stage.model_extra:
                stage.model_extra["checkpoint"] = resolve(
                    ("scenes", i, "post", j, "checkpoint"), stage.model_extra["checkpoint"]
                )


def parse_show(text: str, path: Path | str = "<show>") -> Show:
    """Validate a show given as text; ``path`` names it in errors and resolves its includes."""
    data = parse_toml(text, path)
    sources = Sources((path, text))
    stack = (Path(path).resolve(),) if str(path) != "<show>" else ()
    data = _resolve_includes(data, path, text, sources, stack)
    show = validate(Show, data, sources)
    refs = check_references(show)
    if refs:
        raise ShowError(path, [sources.problem(loc, message) for loc, message in refs])
    if str(path) != "<show>":
        show._source = str(Path(path))
    resolve_paths(show, sources)
    show._sources = sources
    from ..bank.attach import attach_banks

    attach_banks(show)  # walks naming bank latents read the bank beside the show (or their own `bank`)
    return show


def load_show(path: Path | str) -> Show:
    """Read and validate the show file at ``path`` (a :class:`ShowError` lists what is wrong)."""
    return parse_show(read_text(path), Path(path))


__all__ = ["Problem", "Show", "ShowError", "Sources", "field_path", "load_show", "locate", "parse_show"]
