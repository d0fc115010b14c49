"""Reading and writing calibration profiles as TOML, with errors a technician can act on.

``tomllib`` reads; the writer is ours (the schema is small and fixed) so no extra dependency
is needed.  Every refusal names the file, the field (``outputs[1].corners``) and, where the
field is written on its own line, the line number: the reading, locating and printing are
:mod:`installation.problems`, the same as for show files.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import tomllib

from ..problems import ProblemError, Sources, index_lines, parse_toml, read_text, validate
from .profile import BlendEdge, CalibrationProfile, cross_check, format_loc

#: a calibration profile that cannot be used (the one problems error type, under its own name)
ProfileError = ProblemError


def key_lines(text: str) -> dict[tuple, int]:
    """Each table header and ``key =`` line of a TOML text by field path (see :func:`problems.index_lines`)."""
    return index_lines(text)


def load_profile(path) -> CalibrationProfile:
    """Read and validate ``path``; raise :class:`ProfileError` naming file, line and field."""
    path = Path(path)
    text = read_text(path)
    data = parse_toml(text, path)
    sources = Sources((path, text))
    profile = validate(CalibrationProfile, data, sources, context={"defer_cross_checks": True}, root="(profile)")
    profile._source = path
    problems = [sources.problem(loc, msg, field=format_loc(loc)) for loc, msg in cross_check(profile)]
    for i, out in enumerate(profile.outputs):
        for j, mask in enumerate(out.masks):
            if mask.image is not None and not profile.resolve(mask.image).is_file():
                problems.append(
                    sources.problem(
                        ("outputs", i, "masks", j, "image"), f"mask image {profile.resolve(mask.image)} does not exist"
                    )
                )
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
    rows = [", ".join(_value(x) for x in v[i : i + per_line]) for i in range(0, len(v), per_line)]
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
        data["outputs"][i] = out = {
            "name": model.name,
            "display": model.display,
            "resolution": list(model.resolution),
            "position": list(model.position),
            **out,
        }
        out["corners"] = [list(p) for p in model.corners]
        blend = {
            side: edge.model_dump(mode="json") for side, edge in model.blend.sides().items() if edge != BlendEdge()
        }
        out.pop("blend", None)
        if blend:
            out["blend"] = blend
        if "color" in out:
            out["color"] = model.color.model_dump(mode="json")
    return data


def save_profile(profile: CalibrationProfile, path) -> Path:
    """Write ``profile`` to ``path`` as TOML (atomically); ``load_profile`` gives an equal profile back."""
    path = Path(path)
    text = "# Calibration profile (see docs/calibration.md); written by `installation calibrate`.\n" + dumps(
        profile_dict(profile)
    )
    CalibrationProfile.model_validate(tomllib.loads(text))  # never write what we could not read back
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    profile._source = path
    return path
