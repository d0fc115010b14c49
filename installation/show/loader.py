"""Loading show files with errors that name file, line and field.

``tomllib`` gives no positions, so :func:`locate` re-reads the text to map a field path such as
``scenes[1].generator.plugin`` back to the line that sets it (or the table that lacks it).
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .schema import Show, check_references

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


@dataclass
class Problem:
    line: int | None
    field: str
    message: str
    hint: str = ""
    file: Path | None = None  # set when the problem lies in an included file

    def format(self, path: Path | str) -> str:
        path = self.file or path
        where = f"{path}:{self.line}" if self.line else str(path)
        text = f"{where}: {self.field}: {self.message}"
        return text + (f" ({self.hint})" if self.hint else "")


class ShowError(ValueError):
    """A show file that cannot be used; ``problems`` lists every error found."""

    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = Path(path)
        self.problems = problems
        super().__init__("\n".join(p.format(path) for p in problems))


def _split_key(key: str) -> list[str]:
    return [k.strip().strip("\"'") for k in key.split(".")]


def _index_paths(text: str) -> dict[tuple, int]:
    """Map every table and key path in ``text`` to its 1-based line number."""
    paths: dict[tuple, int] = {}
    counters: dict[tuple, int] = {}
    current: tuple = ()

    def resolve(keys: list[str]) -> tuple:
        out: list = []
        for k in keys:
            out.append(k)
            if tuple(out) in counters:  # an array of tables: step into its latest element
                out.append(counters[tuple(out)])
        return tuple(out)

    for n, line in enumerate(text.split("\n"), 1):  # TOML lines end at LF only (not at U+0085, U+2028 ...)
        m = _HEADER.match(line)
        if m:
            keys = _split_key(m.group(2))
            if m.group(1) == "[[":
                parent = resolve(keys[:-1]) + (keys[-1],)
                paths.setdefault(parent, n)
                counters[parent] = counters.get(parent, -1) + 1
                current = parent + (counters[parent],)
            else:
                current = resolve(keys)
            paths.setdefault(current, n)
            continue
        m = _KEY.match(line)
        if m and not line.lstrip().startswith("#"):
            paths.setdefault(current + tuple(_split_key(m.group(1))), n)
    return paths


def locate(text: str, loc: tuple) -> int | None:
    """Line of the deepest existing prefix of ``loc`` (the key itself, or its table)."""
    paths = _index_paths(text)
    loc = tuple(loc)
    for end in range(len(loc), 0, -1):
        if loc[:end] in paths:
            return paths[loc[:end]]
    return None


def field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of ``loc`` (for "did you mean")."""
    import typing

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        ann = current.model_fields[part].annotation
        for arg in (ann, *typing.get_args(ann)):
            inner = typing.get_args(arg) or (arg,)
            for cand in (arg, *inner):
                if isinstance(cand, type) and issubclass(cand, BaseModel):
                    current = cand
                    break
            else:
                continue
            break
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_HINTS = {
    "missing": "add it",
    "float_parsing": "write a number, e.g. 2.5",
    "int_parsing": "write a whole number",
    "bool_parsing": "write true or false",
    "string_type": "write a quoted string",
    "list_type": "write a list, e.g. [1, 2]",
    "model_type": "write a table",
    "dict_type": "write a table",
    "greater_than": "",
    "date_type": "write a date, e.g. 2026-05-01",
}


class Sources:
    """The text of the show file and of every file it includes, to find where a key was set.

    The show file wins over its includes (as in the merge), so it is searched first; a field
    path is reported at the file whose index matches the longest prefix of it.
    """

    def __init__(self, main: tuple[Path | str, str]):
        self.files: list[tuple[Path | str, dict[tuple, int]]] = [(main[0], _index_paths(main[1]))]

    def add(self, path: Path, text: str) -> None:
        self.files.append((path, _index_paths(text)))

    def locate(self, loc: tuple) -> tuple[Path | str, int | None]:
        best = (self.files[0][0], None, 0)
        for path, paths in self.files:
            for end in range(len(loc), 0, -1):
                if loc[:end] in paths:
                    if end > best[2]:
                        best = (path, paths[loc[:end]], end)
                    break
        return best[0], best[1]


def problems_from_validation(exc: ValidationError, text: "str | Sources", model: type[BaseModel] = Show) -> list[Problem]:
    sources = Sources(("<show>", text)) if isinstance(text, str) else text
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        hint = _HINTS.get(err["type"], "")
        if err["type"] == "extra_forbidden":
            owner = _model_at(model, loc)
            if owner is not None:
                names = [f.alias or n for n, f in owner.model_fields.items()]
                close = difflib.get_close_matches(str(loc[-1]), names, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(names)}"
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required field is missing"
            hint = f"add `{loc[-1]} = ...`" if loc and isinstance(loc[-1], str) else "add it"
        else:
            message = err["msg"].removeprefix("Value error, ")
        file, line = sources.locate(loc)
        problems.append(Problem(line, field_path(loc), message, hint, file if file != sources.files[0][0] else None))
    return problems


def _merge(base: dict, over: dict) -> dict:
    """Tables merge key by key (recursively); any other value in ``over`` replaces ``base``'s."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _toml(text: str, path: Path | str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ShowError(path, [Problem(int(m.group(1)) if m else None, "<toml>", str(exc))]) from None


def _read(path: Path, where: Path | str, line: int | None, field: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShowError(where, [Problem(line, field, f"cannot read {path}: {exc.strerror or exc}",
                                        "paths are relative to the file that includes them")]) from None


def _resolve_includes(data: dict, path: Path | str, text: str, sources: Sources, stack: tuple = ()) -> dict:
    """Merge ``include = [...]`` files under ``data`` (depth first; later includes win over earlier)."""
    includes = data.get("include", [])
    if not includes:
        return data
    if not isinstance(includes, list) or not all(isinstance(x, str) for x in includes):
        raise ShowError(path, [Problem(locate(text, ("include",)), "include", "must be a list of file paths",
                                       'e.g. include = ["venue.toml"]')])
    base_dir = Path(path).parent if str(path) != "<show>" else Path.cwd()
    merged: dict = {}
    for k, name in enumerate(includes):
        inc = (base_dir / name).resolve()
        if inc in stack:
            raise ShowError(path, [Problem(locate(text, ("include",)), f"include[{k}]", f"{name} includes itself (cycle)")])
        inc_text = _read(inc, path, locate(text, ("include",)), f"include[{k}]")
        sources.add(inc, inc_text)
        inc_data = _resolve_includes(_toml(inc_text, inc), inc, inc_text, sources, stack + (inc,))
        inc_data.pop("include", None)
        if isinstance(inc_data.get("calibration"), str):  # relative to the file that names it
            inc_data["calibration"] = str(inc.parent / Path(inc_data["calibration"]).expanduser())
        merged = _merge(merged, inc_data)
    data = _merge(merged, data)
    return data


def resolve_paths(show: Show, sources: Sources) -> None:
    """Make relative ``checkpoint`` paths (of generators and post stages) relative to the file that
    names them, not to the working directory: a show plays the same from wherever it is started."""
    def resolve(loc: tuple, value: Any) -> Any:
        if not isinstance(value, str) or not value or Path(value).expanduser().is_absolute():
            return str(Path(value).expanduser()) if isinstance(value, str) and value else value
        file = sources.locate(loc)[0]
        base = Path(file).parent if str(file) != "<show>" else Path.cwd()
        return str(base / value)

    for i, scene in enumerate(show.scenes):
        scene.generator.checkpoint = resolve(("scenes", i, "generator", "checkpoint"), scene.generator.checkpoint)
        for j, stage in enumerate(scene.post):
            if stage.model_extra and "checkpoint" in stage.model_extra:
                stage.model_extra["checkpoint"] = resolve(("scenes", i, "post", j, "checkpoint"), stage.model_extra["checkpoint"])


def parse_show(text: str, path: Path | str = "<show>") -> Show:
    data = _toml(text, path)
    sources = Sources((path, text))
    stack = (Path(path).resolve(),) if str(path) != "<show>" else ()
    data = _resolve_includes(data, path, text, sources, stack)
    try:
        show = Show.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, sources)
        problems.sort(key=lambda p: (str(p.file or ""), p.line or 0))
        raise ShowError(path, problems) from None
    refs = check_references(show)
    if refs:
        problems = []
        for loc, message in refs:
            file, line = sources.locate(loc)
            problems.append(Problem(line, field_path(loc), message, "", file if file != path else None))
        raise ShowError(path, problems)
    if str(path) != "<show>":
        show._source = str(Path(path))
    resolve_paths(show, sources)
    show._sources = sources
    return show


def load_show(path: Path | str) -> Show:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShowError(path, [Problem(None, "<file>", f"cannot read: {exc.strerror or exc}")]) from None
    return parse_show(text, path)
