"""The one check a show must pass to play: ``show validate``, ``run``, ``render`` and hot reload
call it (the reload watcher is handed it as a callable, so the show layer never imports this).

It spans layers: the show's own checks (cues, walk options, weights files, plugin names, from
:mod:`installation.show.check`), the control bindings (:mod:`installation.control.check`) and the
calibration profile, so it lives above all of them, beside the app.
"""

from __future__ import annotations

from pathlib import Path

from .control.check import control_problems
from .problems import Problem
from .show.check import file_problems, plugin_problems, walk_problems
from .show.loader import ShowError, load_show
from .show.schema import Show
from .show.timeline import Timeline


def show_problems(show: Show, registry=None, calibration: bool = False) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings): everything that stops ``show`` from playing (see the module doc).

    ``registry`` None checks walks against the built-in ones and skips plugin names; with
    ``[show] on_error = "fallback"`` broken weights are warnings (the fallback plays there)."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    try:
        Timeline(show)
    except ValueError as exc:
        errors.append(Problem(None, "cues", str(exc)))
    if registry is not None:
        e, w = plugin_problems(show, registry)
        errors += e
        warnings += w
    errors += walk_problems(show, registry)
    files = file_problems(show, registry)
    (warnings if show.show.on_error == "fallback" else errors).extend(files)
    errors += control_problems(show)
    if calibration:
        from .calibration.show import calibration_problems

        errors += calibration_problems(show)
    return errors, warnings


def check_show(show: Show, registry=None, path: Path | str | None = None, calibration: bool = False) -> list[Problem]:
    """Raise :class:`ShowError` listing every error of ``show``; return its warnings."""
    errors, warnings = show_problems(show, registry, calibration)
    if errors:
        errors.sort(key=lambda p: (str(p.file or ""), p.line or 0))
        raise ShowError(path or show.source or "<show>", errors)
    return warnings


def load_checked(path: Path | str, registry=None, calibration: bool = False) -> Show:
    """:func:`load_show` then :func:`check_show`: a show that loads here can play."""
    show = load_show(path)
    check_show(show, registry, path, calibration)
    return show
