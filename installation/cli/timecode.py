"""Show times on the command line: ``600``, ``90.5``, ``10:00``, ``00:10:00``, ``1:02:03.5``."""

from __future__ import annotations

import typer


def parse_time(text: str) -> float:
    try:
        parts = [float(p) for p in str(text).strip().split(":")]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a time: use seconds, MM:SS or HH:MM:SS") from None
    if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts) or any(p >= 60 for p in parts[1:]):
        raise typer.BadParameter(f"{text!r} is not a time: use seconds, MM:SS or HH:MM:SS")
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds
