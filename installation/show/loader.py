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

from .schema import Show

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


@dataclass
class Problem:
    line: int | None
    field: str
    message: str
    hint: str = ""

    def format(self, path: Path | str) -> str:
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

    for n, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            keys = _split_key(m.group(2))
            if m.group(1) == "[[":
                parent = resolve(keys[:-1]) + (keys[-1],)
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


def problems_from_validation(exc: ValidationError, text: str, model: type[BaseModel] = Show) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        hint = ""
        if err["type"] == "extra_forbidden":
            owner = _model_at(model, loc)
            if owner is not None:
                close = difflib.get_close_matches(str(loc[-1]), list(owner.model_fields), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(owner.model_fields)}"
            message = "unknown key"
        else:
            message = err["msg"]
        problems.append(Problem(locate(text, loc), field_path(loc), message, hint))
    return problems


def parse_show(text: str, path: Path | str = "<show>") -> Show:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ShowError(path, [Problem(int(m.group(1)) if m else None, "<toml>", str(exc))]) from None
    try:
        return Show.model_validate(data)
    except ValidationError as exc:
        raise ShowError(path, problems_from_validation(exc, text)) from None


def load_show(path: Path | str) -> Show:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShowError(path, [Problem(None, "<file>", f"cannot read: {exc.strerror or exc}")]) from None
    show = parse_show(text, path)
    if show.calibration is not None:
        _check_calibration(show, text, path)
    return show


def _check_calibration(show: Show, text: str, path: Path) -> None:
    """Refuse a show whose calibration profile is missing, invalid or of another canvas size."""
    from ..calibration.show import CalibrationNotFound, ProfileError, load_show_calibration

    try:
        load_show_calibration(show.calibration, path, (show.output.width, show.output.height))
    except (CalibrationNotFound, ProfileError, ValueError) as exc:
        message = str(exc).replace("\n", "\n    ")
        raise ShowError(path, [Problem(locate(text, ("calibration",)), "calibration", message)]) from None
