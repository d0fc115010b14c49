"""A show's ``calibration = "..."``: find the profile, check it, report problems on the show's lines.

The path is relative to the file that names it (the show, or the venue file it includes), as
``Show.calibration_path`` resolves it; ``installation run --calibration FILE`` gives one relative
to the working directory instead.  The profile's canvas must be the show's output size: the pass
cuts that canvas into outputs.  Loading a show does not open the profile (a show can be written
before the venue is calibrated); ``installation show validate`` and ``installation run`` (with a
window) do, through :func:`calibration_problems` and :func:`show_calibration`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from .io import ProfileError, load_profile
from .profile import CalibrationProfile


def profile_path(show, override: Optional[Path] = None) -> Optional[Path]:
    """The profile file for ``show``: ``override`` if given, else the show's own (or ``None``)."""
    return Path(override) if override is not None else show.calibration_path


def load_checked(path: Path, canvas: tuple[int, int]) -> CalibrationProfile:
    """Load ``path`` and check its canvas against the show's output size ``canvas`` (width, height)."""
    if not Path(path).is_file():
        raise ProfileError(path, [("(file)", "calibration profile not found (paths are relative to the file "
                                   "that names them)", None)])
    profile = load_profile(path)
    if tuple(profile.canvas) != tuple(canvas):
        raise ProfileError(path, [("canvas", f"the profile's canvas {profile.canvas[0]}x{profile.canvas[1]} differs "
                                             f"from the show's output {canvas[0]}x{canvas[1]}; make them equal",
                                   None)])
    return profile


def calibration_problems(show, override: Optional[Path] = None, canvas: Optional[tuple[int, int]] = None):
    """``[loader.Problem]`` for a show whose profile is missing, invalid or of another canvas size."""
    from ..show.loader import Problem

    path = profile_path(show, override)
    if path is None:
        return []
    canvas = canvas or (show.output.width, show.output.height)
    try:
        load_checked(path, canvas)
    except ProfileError as exc:
        file, line = (None, None)
        sources = getattr(show, "_sources", None)
        if override is None and sources is not None:
            file, line = sources.locate(("calibration",))
        return [Problem(line, "calibration", f"{p.path}{':' + str(ln) if ln else ''}: {field}: {msg}", "",
                        Path(file) if file and str(file) != str(show.source) else None)
                for p in [exc] for field, msg, ln in exc.problems]
    return []


def show_calibration(show, override: Optional[Path] = None,
                     canvas: Optional[tuple[int, int]] = None) -> Optional[CalibrationProfile]:
    """The checked profile for ``show`` (``None`` without one); raises ``loader.ShowError`` otherwise."""
    from ..show.loader import ShowError

    problems = calibration_problems(show, override, canvas)
    if problems:
        raise ShowError(show.source or "<show>", problems)
    path = profile_path(show, override)
    return None if path is None else load_checked(path, canvas or (show.output.width, show.output.height))


__all__ = ["ProfileError", "calibration_problems", "load_checked", "profile_path", "show_calibration"]
