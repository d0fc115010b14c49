"""Helpers shared by sub-commands, and the CLI's one error boundary.

Every sub-command runs inside :func:`error_boundary` (the root group in ``cli/__init__.py``
enters it), so no command catches a file error itself: a :class:`~installation.problems.ProblemError`
prints its located problems, ``file:line: field: message (hint)``, and exits 1; what the user's
machine lacks (a display, an optional package) and files that cannot be opened print one line
and exit 2 or 1.  Anything else is a bug and keeps its traceback.  Nothing here imports torch or
the plugins at import time: ``installation --help`` must stay fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

#: optional packages → the extra that installs them (pyproject.toml ``[project.optional-dependencies]``)
EXTRAS = {
    "mido": "midi",
    "rtmidi": "midi",
    "sounddevice": "audio",
    "serial": "serial",
    "spandrel": "esrgan",
    "hypothesis": "test",
    "pytest": "test",
}

#: exit codes: a file the runtime reads is wrong; the machine lacks something the command needs;
#: a recording stopped early (a full disk) while the show rendered on to --duration
EXIT_PROBLEMS, EXIT_ENVIRONMENT = 1, 2
from ..output.base import EXIT_RECORDING  # noqa: E402 - named with the others; the supervisor reads it too


def resolve_device(name: str):
    """``auto`` picks CUDA when present; asking for CUDA without one is a clear error (a ``torch.device``)."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise typer.BadParameter("CUDA was asked for but torch sees no CUDA device", param_hint="--device")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise typer.BadParameter(f"unknown device {name!r}: use auto, cpu or cuda", param_hint="--device")
    return torch.device(name)


def parse_options(pairs: list[str]) -> dict:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}``; values are parsed as JSON when they can be."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        key, value = pair.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def user_error(exc: BaseException) -> tuple[str, int] | None:
    """``(text, exit code)`` for an error the user can cause and fix; ``None`` for a bug."""
    from ..output.base import OutputError
    from ..problems import ProblemError, Unavailable

    if isinstance(exc, (ProblemError, Unavailable)):  # Unavailable: no display, no MIDI backend, ...
        return str(exc), exc.exit_code
    if isinstance(exc, OutputError):  # an output that cannot open: the message names it
        return str(exc), EXIT_PROBLEMS
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".")[0]
        how = (
            f"pip install 'installation[{EXTRAS[top]}]'"
            if top in EXTRAS
            else f"install {top!r} in this Python environment"
        )
        return f"this command needs the Python package {top!r}, which is not installed: {how}", EXIT_ENVIRONMENT
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}", EXIT_PROBLEMS
    return None


@contextmanager
def error_boundary() -> Iterator[None]:
    """Print user errors as their lines and exit non-zero; let bugs through with their traceback.

    ``INSTALLATION_TRACEBACK=1`` lets every error through (to debug the runtime itself).
    """
    try:
        yield
    except Exception as exc:
        found = None if os.environ.get("INSTALLATION_TRACEBACK") == "1" else user_error(exc)
        if found is None:
            raise
        text, code = found
        typer.echo(text, err=True)
        raise typer.Exit(code) from None


def exit_if_recording_lost(stats) -> None:
    """After a run (``RunStats``): a recording that stopped early (a full disk) is one line on stderr
    naming the file and what it kept, and exit status :data:`EXIT_RECORDING`."""
    for line in stats.lost_recordings:
        typer.echo(line, err=True)
    if stats.lost_recordings:
        raise typer.Exit(EXIT_RECORDING)
