"""Built-in outputs: a window, headless (offscreen EGL) and a video recording.

Registered through :func:`register_outputs` like any plugin's, so a network output (NDI, a web
stream, DMX) from an entry point or ``--plugins-dir`` is listed in ``[[outputs]]`` the same way.
"""

from __future__ import annotations

from .. import hookimpl
from ..output.headless import HeadlessOutput
from ..output.record import RecordOutput
from ..output.window import WindowOutput


@hookimpl
def register_outputs():
    return {"window": WindowOutput, "headless": HeadlessOutput, "record": RecordOutput}
