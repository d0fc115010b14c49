"""Which part of a calibrated wall this process draws: a host's outputs, one output, or all.

A wall driven by several machines is one calibration profile (every projector, its overlap and
blend) with a ``[[hosts]]`` table naming the outputs each machine drives.  ``installation run SHOW
--host NAME`` draws that host's outputs: in its window, and — headless, or as a host — in the
offscreen image recordings and streams read, so a machine without a display records exactly what
its projectors would show.  Every host renders the same canvas at the same show time, so the
blends of two hosts' projectors add up across the seam as they do on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..problems import Problem, ProblemError
from .profile import CalibrationProfile


@dataclass(frozen=True)
class Selection:
    """The profile a run shows and the outputs of it this process draws (``None``: all of them)."""

    profile: CalibrationProfile
    outputs: tuple[int, ...] | None
    offscreen: bool  # recordings and streams read the calibrated outputs, not the canvas


def select(profile: CalibrationProfile | None, host: str | None, output: int | None, windows: bool) -> Selection | None:
    """What to draw for ``--host`` / ``--output``; a :class:`ProblemError` naming the profile otherwise."""
    if profile is None:
        if host is not None:
            raise ProblemError(
                "--host",
                Problem(
                    None,
                    "",
                    f"--host {host}: the show names no calibration profile (set `calibration = ...` in the show "
                    "or its venue file, or pass --calibration FILE) with a [[hosts]] table",
                ),
            )
        return None
    source = profile.source or Path("<profile>")
    outputs: tuple[int, ...] | None = None
    if host is not None:
        try:
            outputs = profile.host_outputs(host)
        except ValueError as exc:
            raise ProblemError(source, Problem(None, "hosts", str(exc))) from None
    if output is not None:
        if not 0 <= output < len(profile.outputs):
            raise ProblemError(
                source,
                Problem(None, "outputs", f"--output {output}: the profile has outputs 0..{len(profile.outputs) - 1}"),
            )
        if outputs is not None and output not in outputs:
            names = ", ".join(profile.outputs[i].name for i in outputs)
            raise ProblemError(
                source, Problem(None, "hosts", f"--output {output} is not one of host {host!r}'s outputs ({names})")
            )
        outputs = (output,)
    return Selection(profile, outputs, offscreen=not windows or host is not None)


def offscreen_window(selection: Selection):
    """The image the offscreen output holds: the selected outputs at their desktop positions."""
    from .window import spanning

    outputs = selection.outputs if selection.outputs is not None else tuple(range(len(selection.profile.outputs)))
    return spanning(selection.profile, outputs)
