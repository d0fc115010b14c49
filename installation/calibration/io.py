"""Reading and writing calibration profiles as TOML, with errors a technician can act on.

``tomllib`` reads; the writer is ours (the schema is small and fixed) so no extra dependency
is needed.  Every refusal names the file, the field (``outputs[1].corners``) and, where the
field is written on its own line, the line number.
"""
from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from .profile import BlendEdge, CalibrationProfile, cross_check, format_loc


class ProfileError(ValueError):
    """A calibration profile that cannot be used; ``problems`` holds ``(field, message, line)``."""

    def __init__(self, path, problems: list[tuple[str, str, int | None]]):
        self.path = Path(path)
        self.problems = problems
        lines = []
        for field, msg, line in problems:
            where = f"{self.path}:{line}" if line else str(self.path)
            lines.append(f"{where}: {field}: {msg}")
        super().__init__("invalid calibration profile\n  " + "\n  ".join(lines))


# ---------------------------------------------------------------------------------------- reading

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


def key_lines(text: str) -> dict[tuple, int]:
    """Map each table header and ``key =`` line of a TOML text to its loc tuple and 1-based line.

    Arrays of tables get their index (``[[outputs]]`` twice → ``("outputs", 1)``); dotted
    sub-tables attach to the newest element, as TOML does.  Good enough to point at a field;
    values inside inline tables or arrays are located by their key's line.
    """
    found: dict[tuple, int] = {}
    counters: dict[tuple, int] = {}
    table: tuple = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(raw)
        if m and not raw.lstrip().startswith("#"):
            names = tuple(n.strip().strip('"') for n in m.group(2).split("."))
            if m.group(1) == "[[":
                table = _resolve(names[:-1], counters) + (names[-1],)
                counters[table] = counters.get(table, -1) + 1
                table = table + (counters[table],)
            else:
                table = _resolve(names, counters)
            found.setdefault(table, number)
            continue
        k = _KEY.match(raw)
        if k:
            found.setdefault(table + (k.group(1).strip('"'),), number)
    return found


def _resolve(names: tuple, counters: dict[tuple, int]) -> tuple:
    """Insert the current index after every array-of-tables prefix of a dotted header."""
    out: tuple = ()
    for name in names:
        out = out + (name,)
        if out in counters:
            out = out + (counters[out],)
    return out


def _line_for(loc: tuple, lines: dict[tuple, int]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def load_profile(path) -> CalibrationProfile:
    """Read and validate ``path``; raise :class:`ProfileError` naming file, field and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(path, [("(file)", f"cannot read: {exc.strerror or exc}", None)]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ProfileError(path, [("(syntax)", f"not valid TOML: {exc}", int(m.group(1)) if m else None)]) from exc
    lines = key_lines(text)
    try:
        profile = CalibrationProfile.model_validate(data, context={"defer_cross_checks": True})
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append((format_loc(loc), msg, _line_for(loc, lines)))
        raise ProfileError(path, problems) from None
    profile._source = path
    problems = [(format_loc(loc), msg, _line_for(loc, lines)) for loc, msg in cross_check(profile)]
    for i, out in enumerate(profile.outputs):
        for j, mask in enumerate(out.masks):
            if mask.image is not None and not profile.resolve(mask.image).is_file():
                loc = ("outputs", i, "masks", j, "image")
                problems.append((format_loc(loc), f"mask image {profile.resolve(mask.image)} does not exist",
                                 _line_for(loc, lines)))
    if problems:
        raise ProfileError(path, problems)
    return profile


# ---------------------------------------------------------------------------------------- writing

def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write non-finite number {v} to TOML")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_\-]+", k) else json.dumps(k)


def _is_table_array(v) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def _long_array(key: str, v, per_line: int) -> str:
    rows = [", ".join(_value(x) for x in v[i:i + per_line]) for i in range(0, len(v), per_line)]
    return f"{_key(key)} = [\n" + "".join(f"  {r},\n" for r in rows) + "]"


def dumps(data: dict, _path: tuple = ()) -> str:
    """TOML text for nested dicts/lists of plain values (scalars first, then tables, then arrays of tables)."""
    out: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and not _is_table_array(v)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in data.items() if _is_table_array(v)}
    for k, v in scalars.items():
        if isinstance(v, (list, tuple)) and len(v) > 8 and all(isinstance(x, (list, tuple)) for x in v):
            per_line = data.get("cols", 4) if k == "points" else 4
            out.append(_long_array(k, v, int(per_line)))
        else:
            out.append(f"{_key(k)} = {_value(v)}")
    for k, v in tables.items():
        path = _path + (k,)
        body = dumps(v, path)
        if all(isinstance(x, dict) for x in v.values()) and v:
            out.append("\n" + body)  # a table of tables needs no header of its own
        else:
            out.append(f"\n[{'.'.join(_key(p) for p in path)}]" + ("\n" + body if body else ""))
    for k, items in arrays.items():
        path = _path + (k,)
        for item in items:
            body = dumps(item, path)
            out.append(f"\n[[{'.'.join(_key(p) for p in path)}]]" + ("\n" + body if body else ""))
    return "\n".join(out).strip("\n") + ("\n" if not _path else "")


def profile_dict(profile: CalibrationProfile) -> dict:
    """Plain data for writing: defaults left out except the fields a technician edits on site."""
    dumped = profile.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data = {"version": profile.version, **dumped}
    for i, (out, model) in enumerate(zip(data["outputs"], profile.outputs)):
        data["outputs"][i] = out = {"name": model.name, "display": model.display, "resolution": list(model.resolution),
                                    "position": list(model.position), **out}
        out["corners"] = [list(p) for p in model.corners]
        blend = {side: edge.model_dump(mode="json") for side, edge in model.blend.sides().items()
                 if edge != BlendEdge()}
        out.pop("blend", None)
        if blend:
            out["blend"] = blend
        if "color" in out:
            out["color"] = model.color.model_dump(mode="json")
    return data


def save_profile(profile: CalibrationProfile, path) -> Path:
    """Write ``profile`` to ``path`` as TOML (atomically); ``load_profile`` gives an equal profile back."""
    path = Path(path)
    text = "# Calibration profile (see docs/calibration.md); written by `installation calibrate`.\n" + dumps(profile_dict(profile))
    CalibrationProfile.model_validate(tomllib.loads(text))  # never write what we could not read back
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    profile._source = path
    return path
