"""How a show file's ``calibration = "calibration/venue.toml"`` finds and checks its profile.

A relative path is looked up from the working directory, then beside the show file, then in
the show folder's parent (so ``shows/x.toml`` naming ``calibration/x.toml`` works from anywhere).
The profile's canvas must be the show's output size: the pass cuts that canvas into outputs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from .io import ProfileError, load_profile
from .profile import CalibrationProfile


class CalibrationNotFound(FileNotFoundError):
    """The profile a show names is in none of the places it is looked for."""


def resolve_profile_path(value: str | Path, show_path: Optional[Path] = None) -> Path:
    """The file ``value`` refers to; raises :class:`CalibrationNotFound` naming every place tried."""
    p = Path(value).expanduser()
    if p.is_absolute():
        candidates = [p]
    else:
        candidates = [Path.cwd() / p]
        if show_path is not None:
            folder = Path(show_path).resolve().parent
            candidates += [folder / p, folder.parent / p]
    for c in candidates:
        if c.is_file():
            return c
    tried = ", ".join(str(c) for c in dict.fromkeys(candidates))
    raise CalibrationNotFound(f"calibration profile {str(value)!r} not found (looked at {tried})")


def load_show_calibration(value: str | Path, show_path: Optional[Path], canvas: tuple[int, int]) -> CalibrationProfile:
    """Find, load and check the profile for a show whose output is ``canvas`` (width, height).

    Raises :class:`CalibrationNotFound`, :class:`ProfileError` or ``ValueError`` (size mismatch).
    """
    path = resolve_profile_path(value, show_path)
    profile = load_profile(path)
    if tuple(profile.canvas) != tuple(canvas):
        raise ValueError(f"{path}: the profile's canvas {profile.canvas[0]}x{profile.canvas[1]} differs from the "
                         f"show's output {canvas[0]}x{canvas[1]}; make them equal (the profile cuts the show's canvas)")
    return profile


__all__ = ["CalibrationNotFound", "ProfileError", "load_show_calibration", "resolve_profile_path"]
