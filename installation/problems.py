"""One way to locate and print an error in any file the runtime reads.

Show files, the venue files they include, and calibration profiles are TOML checked by pydantic
models.  ``tomllib`` gives no positions and pydantic gives only a field path such as
``("scenes", 1, "generator", "plugin")``, so this module re-reads the text to map a field path
back to the line that sets it (or the table that lacks it), and turns every refusal into a
:class:`Problem`: file, line, field, message, hint.  :class:`ProblemError` carries a list of them
and prints one line each, ``file:line: field: message (hint)``; the CLI's error boundary prints
it and exits 1.

Every schema family (show, control, calibration) derives from :class:`StrictModel`, so an
unknown key is an error everywhere (a misspelt ``rate_limt`` must not silently leave a venue
network open), and every loader goes through :func:`read_text`, :func:`parse_toml` and
:func:`validate`, so a file that cannot be read, is not TOML or does not fit its schema reads
the same whichever kind of file it is.

This module sits at the bottom of the layers: it imports nothing from the rest of the package.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import tomllib
from pydantic import BaseModel, ConfigDict, ValidationError

#: the field named for a file that cannot be read, and for a file that is not TOML
FILE_FIELD = "<file>"
TOML_FIELD = "<toml>"


# ------------------------------------------------------------------------------------ the types


class StrictModel(BaseModel):
    """The base of every schema the runtime reads from a file: unknown keys are errors.

    ``populate_by_name`` lets a field aliased for TOML (``continue``) be set by its Python name
    too.  Plugin-owned tables (generator options, walk parameters) opt out with their own
    ``extra="allow"`` model; nothing else should.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)  # inf or nan plays nowhere


@dataclass
class Problem:
    """One thing wrong in a file.

    ``file`` is ``None`` when the problem lies in the file the :class:`ProblemError` is about
    (its ``path``); it names the other file when the problem lies in one that file includes.
    ``line`` is ``None`` when no line can be pointed at (a missing table, an unreadable file).
    """

    line: int | None
    field: str
    message: str
    hint: str = ""
    file: Path | None = None

    def format(self, path: Path | str | None = None) -> str:
        """``file:line: field: message (hint)``; ``path`` stands in when ``file`` is ``None``."""
        where = str(self.file or path or "<input>")
        if self.line:
            where += f":{self.line}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return text + (f" ({self.hint})" if self.hint else "")


class Unavailable(RuntimeError):
    """The machine lacks something a command needs: a display, a MIDI backend, an optional package.

    Not a problem in a file; the CLI prints the message as one line and exits 2, never a traceback.
    """

    exit_code = 2


def problem(file: Path | str | None, line: int | None, field: str, message: str, hint: str | None = None) -> Problem:
    """A :class:`Problem`, arguments in reading order (``file:line: field: message (hint)``)."""
    return Problem(line, field, message, hint or "", Path(file) if file is not None else None)


class ProblemError(ValueError):
    """A file (or several) that cannot be used; ``problems`` lists every error found, not just the first.

    ``path`` is the file the problems are about; a problem whose ``file`` is set lies elsewhere
    (an included file).  ``str()`` is the rendered list, one line per problem.
    """

    exit_code = 1

    def __init__(self, path: Path | str | None, problems: Problem | Iterable[Problem]):
        self.path = Path(path) if path is not None else None
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(render(self.problems, self.path))

    def __str__(self) -> str:  # rendered afresh: checks may append problems after construction
        return render(self.problems, self.path)

    def __reduce__(self):  # crosses process boundaries (a worker, the supervisor) intact
        return (type(self), (self.path, self.problems))


def render(problems: Iterable[Problem], path: Path | str | None = None, prefix: str = "") -> str:
    """The one way problems are printed: a line each, ``file:line: field: message (hint)``."""
    return "\n".join(prefix + p.format(path) for p in problems)


# ------------------------------------------------------------------------------- locating lines

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"^\s*((?:[A-Za-z0-9_\-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*'))*)\s*="
)
_PART = re.compile(r"\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^.\s]+)\s*")


def split_key(key: str) -> list[str]:
    """``a."b.c".d`` → ``["a", "b.c", "d"]``: TOML dotted keys, dots inside quotes kept."""
    return [m.group(1).strip("\"'") for m in _PART.finditer(key)]


def index_lines(text: str) -> dict[tuple, int]:
    """Map every table header and ``key =`` of a TOML text to its field path and 1-based line.

    Arrays of tables get their index (``[[outputs]]`` twice → ``("outputs", 1)``); dotted
    sub-tables attach to the newest element, as TOML does.  Values inside inline tables and
    arrays are located at their key's line.  Lines end at LF only, as in TOML (a U+2028 inside
    a string must not shift the lines after it).
    """
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

    for n, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("#"):
            continue
        m = _HEADER.match(line)
        if m:
            keys = split_key(m.group(2))
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
        if m:
            paths.setdefault(current + tuple(split_key(m.group(1))), n)
    return paths


def _deepest(paths: dict[tuple, int], loc: tuple) -> tuple[int | None, int]:
    for end in range(len(loc), 0, -1):
        if loc[:end] in paths:
            return paths[loc[:end]], end
    return None, 0


def locate(text: str, loc: tuple) -> int | None:
    """Line of the deepest existing prefix of ``loc`` (the key itself, or its table)."""
    return _deepest(index_lines(text), tuple(loc))[0]


def field_path(loc: Iterable) -> str:
    """``("scenes", 1, "generator")`` → ``scenes[1].generator``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Sources:
    """The text of a file and of every file it includes, to find where a key was set.

    The main file wins over its includes (as in the merge), so it is searched first; a field
    path is reported at the file whose index matches the longest prefix of it.
    """

    def __init__(self, main: tuple[Path | str, str]):
        self.files: list[tuple[Path | str, dict[tuple, int]]] = [(main[0], index_lines(main[1]))]

    @property
    def main(self) -> Path | str:
        return self.files[0][0]

    def add(self, path: Path, text: str) -> None:
        self.files.append((path, index_lines(text)))

    def locate(self, loc: tuple) -> tuple[Path | str, int | None]:
        best: tuple[Path | str, int | None, int] = (self.main, None, 0)
        for path, paths in self.files:
            line, end = _deepest(paths, tuple(loc))
            if end > best[2]:
                best = (path, line, end)
        return best[0], best[1]

    def problem(self, loc: tuple, message: str, hint: str = "", field: str | None = None) -> Problem:
        """A problem at ``loc``, placed on its line (``file`` set only when it lies in an include)."""
        file, line = self.locate(tuple(loc))
        return Problem(
            line, field_path(loc) if field is None else field, message, hint, Path(file) if file != self.main else None
        )


# ------------------------------------------------------------------------------------- reading


def read_text(
    path: Path | str,
    *,
    where: Path | str | None = None,
    line: int | None = None,
    field: str = FILE_FIELD,
    hint: str = "",
) -> str:
    """The file's text, or a :class:`ProblemError`: about ``path`` itself, or, when ``where`` is
    given, about the line of ``where`` that names ``path`` (an include, a calibration)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if where is None:
            raise ProblemError(path, Problem(None, field, f"cannot read: {why}", hint)) from None
        raise ProblemError(where, Problem(line, field, f"cannot read {path}: {why}", hint)) from None


def parse_toml(text: str, path: Path | str | None) -> dict:
    """``tomllib.loads`` with a syntax error turned into a problem on its line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        if m:
            line: int | None = int(m.group(1))
        elif "end of document" in str(exc):  # an unclosed array or string: point at the last line written
            line = max(1, len(text.rstrip("\n").split("\n")))
        else:
            line = None
        raise ProblemError(path, Problem(line, TOML_FIELD, f"not valid TOML: {exc}")) from None


_HINTS = {
    "float_parsing": "write a number, e.g. 2.5",
    "float_type": "write a number, e.g. 2.5",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "int_from_float": "write a whole number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write a quoted string",
    "list_type": "write a list, e.g. [1, 2]",
    "tuple_type": "write a list, e.g. [1, 2]",
    "model_type": "write a table",
    "model_attributes_type": "write a table",
    "dict_type": "write a table",
    "date_type": "write a date, e.g. 2026-05-01",
    "date_parsing": "write a date, e.g. 2026-05-01",
}


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of ``loc`` (for "did you mean")."""
    current: Any = model
    free_key = False  # the next part is a key of a dict field (``[control.params]``), not a field
    for part in loc[:-1]:
        if isinstance(part, int) or free_key:
            free_key = False
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        fields = {f.alias or n: f for n, f in current.model_fields.items()}
        if part not in fields:
            return None
        ann = fields[part].annotation
        candidates = [ann, *typing.get_args(ann)]
        free_key = any(typing.get_origin(a) is dict for a in candidates)
        for arg in candidates:
            found = next(
                (c for c in (arg, *typing.get_args(arg)) if isinstance(c, type) and issubclass(c, BaseModel)), None
            )
            if found is not None:
                current = found
                break
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def from_validation(
    exc: ValidationError, sources: Sources | str, model: type[BaseModel], root: str = ""
) -> list[Problem]:
    """Every error of a pydantic validation as a located :class:`Problem`, with a hint.

    An unknown key gets the closest allowed name ("did you mean 'width'?"), a missing one the
    line to add, a wrong type an example of the right one.  ``root`` names the field of an
    error on the whole file (an empty path).
    """
    sources = Sources(("<input>", sources)) if isinstance(sources, str) else sources
    out = []
    for err in exc.errors(include_url=False):
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
        out.append(sources.problem(loc, message, hint, field=None if loc else root))
    out.sort(key=lambda p: (str(p.file or ""), p.line or 0))
    return out


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, sources: Sources, *, context: dict | None = None, root: str = "") -> M:
    """``model.model_validate(data)``, or a :class:`ProblemError` listing every located error."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ProblemError(sources.main, from_validation(exc, sources, model, root)) from None


def load(model: type[M], path: Path | str, *, context: dict | None = None, root: str = "") -> tuple[M, Sources]:
    """Read, parse and validate one file (no includes) into ``model``; the sources place later checks."""
    text = read_text(path)
    data = parse_toml(text, path)
    sources = Sources((path, text))
    return validate(model, data, sources, context=context, root=root), sources


__all__ = [
    "FILE_FIELD",
    "TOML_FIELD",
    "Problem",
    "ProblemError",
    "Sources",
    "StrictModel",
    "Unavailable",
    "field_path",
    "from_validation",
    "index_lines",
    "load",
    "locate",
    "parse_toml",
    "problem",
    "read_text",
    "render",
    "split_key",
    "validate",
]
