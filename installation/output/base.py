"""What every output is given: the :class:`Canvas` at open, one :class:`Frame` per drawn frame.

The app draws each frame once into the compositor's canvas; the runner wraps it in a
:class:`Frame` and hands that same object to every output.  A window presents it straight to
its screen (:meth:`Frame.present`, through the calibration pass on site); a recording or a
network stream asks for :meth:`Frame.rgb`, whose readback from GL happens at most once per
frame however many outputs ask.  The protocol outputs implement is
:class:`installation.protocols.Output`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: exit status of a run whose recording stopped early (a full disk) while the show rendered on to
#: the end: the CLI exits with it and the supervisor does not restart on it (a restart would fail again)
EXIT_RECORDING = 3


class OutputError(RuntimeError):
    """An output could not open or write; the message names the output."""


class OptionError(ValueError):
    """A bad option of one ``[[outputs]]`` entry, raised by an output's factory.

    ``field`` is the path inside the entry (``("map", 2, "universe")``); the runner places it on the
    show file's line, ``show.toml:31: outputs[1].map[2].universe: ...``, where a plain ``ValueError``
    could only name the entry.
    """

    def __init__(self, field: tuple | str, message: str, hint: str = ""):
        self.field = (field,) if isinstance(field, (str, int)) else tuple(field)
        self.message = message
        self.hint = hint
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in self.field).replace(".[", "[")
        super().__init__(f"{where}: {message}" + (f" ({hint})" if hint else ""))


@dataclass(frozen=True)
class Canvas:
    """What all outputs show, given to :meth:`Output.open`.

    ``size`` (width, height) and ``fps`` are the show's ``[output]`` (or the command line's);
    ``base`` is the folder relative paths in the show's ``[[outputs]]`` are resolved against (the
    show file's).  ``calibration`` / ``calibration_output`` are the run's calibration profile and
    the one output this process shows (window outputs only; ``None`` without one);
    ``calibration_outputs`` the outputs of the ``--host`` this process is.  With a profile, a
    headless or ``--host`` run's ``size`` is that of the calibrated outputs its recordings get.
    """

    size: tuple[int, int]
    fps: float
    title: str = "installation"
    base: Path | None = None
    show_path: Path | None = None
    calibration: Any = None
    calibration_output: int | None = None
    calibration_outputs: tuple[int, ...] | None = None  # a host's outputs (``--host``); None: all

    def resolve(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() or self.base is None else self.base / p


class Frame:
    """One drawn frame: ``index`` (0-based, this run), show time ``t``, and ways to read it.

    * :attr:`canvas` — the composed canvas texture (RGBA8, before the output gain); windows
      present it through :meth:`present`;
    * :attr:`texture` / :attr:`framebuffer` — the offscreen output (the canvas after the gain,
      RGBA8, bottom row first as GL stores it): what recordings show, for GPU-side outputs
      (a shared-texture or NDI sender); presented at most once per frame;
    * :meth:`rgb` — the offscreen output as RGB uint8 ``[H, W, 3]``, top row first, read back from
      GL once and shared by every CPU output of this frame (treat it as read-only);
    * :meth:`values` — the show's declared control parameters (``{"/output/brightness": 1.0, ...}``)
      as they were when this frame was drawn, for outputs that follow a parameter (a DMX channel).
    """

    def __init__(self, compositor, index: int, t: float, values=None):
        self._compositor = compositor
        self.index = index
        self.t = t
        self.size = compositor.output_size  # the canvas, or a headless host's calibrated outputs
        self._rgb: np.ndarray | None = None
        self._values_of = values
        self._values: dict | None = None
        self.readbacks = 0

    def values(self) -> dict:
        """Parameter address → value, read once per frame (a copy: outputs may keep it)."""
        if self._values is None:
            self._values = dict(self._values_of()) if self._values_of is not None else {}
        return self._values

    @property
    def canvas(self):
        return self._compositor.canvas

    @property
    def texture(self):
        return self._compositor.ensure_output()

    @property
    def framebuffer(self):
        self._compositor.ensure_output()
        return self._compositor.output_fbo

    def rgb(self) -> np.ndarray:
        if self._rgb is None:
            self._rgb = self._compositor.read_output()
            self._rgb.flags.writeable = False
            self.readbacks += 1
        return self._rgb

    def present(self, target, size: tuple[int, int] | None = None, calibration=None) -> None:
        """Draw the frame into ``target`` (a window's framebuffer) filling ``size``; with
        ``calibration=(CalibrationPass, WindowSpec)`` warped and edge-blended per projector."""
        self._compositor.present(target, size, calibration)
