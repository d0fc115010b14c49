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

from ..problems import Problem, ProblemError
from .io import ProfileError, load_profile
from .profile import CalibrationProfile


def profile_path(show, override: Path | None = None) -> Path | None:
    """The profile file for ``show``: ``override`` if given, else the show's own (or ``None``)."""
    return Path(override) if override is not None else show.calibration_path


def load_checked(path: Path, canvas: tuple[int, int]) -> CalibrationProfile:
    """Load ``path`` and check its canvas against the show's output size ``canvas`` (width, height)."""
    if not Path(path).is_file():
        raise ProfileError(
            path,
            Problem(None, "<file>", "calibration profile not found (paths are relative to the file that names them)"),
        )
    profile = load_profile(path)
    if tuple(profile.canvas) != tuple(canvas):
        raise ProfileError(
            path,
            Problem(
                None,
                "canvas",
                f"the profile's canvas {profile.canvas[0]}x{profile.canvas[1]} "
                f"differs from the show's output {canvas[0]}x{canvas[1]}; make them equal",
            ),
        )
    return profile


def calibration_problems(show, override: Path | None = None, canvas: tuple[int, int] | None = None):
    """``[Problem]`` for a show whose profile is missing, invalid or of another canvas size."""
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
        return [
            Problem(
                line,
                "calibration",
                p.format(exc.path),
                "",
                Path(file) if file and str(file) != str(show.source) else None,
            )
            for p in exc.problems
        ]
    return []


def show_calibration(
    show, override: Path | None = None, canvas: tuple[int, int] | None = None
) -> CalibrationProfile | None:
    """The checked profile for ``show`` (``None`` without one); raises :class:`ProblemError` otherwise."""
    problems = calibration_problems(show, override, canvas)
    if problems:
        raise ProblemError(show.source or "<show>", problems)
    path = profile_path(show, override)
    return None if path is None else load_checked(path, canvas or (show.output.width, show.output.height))


__all__ = ["ProfileError", "calibration_problems", "load_checked", "profile_path", "show_calibration"]
