"""Live control's view of the show-file models for ``[control]`` and ``[[bindings]]``.

The models themselves live in :mod:`installation.show.control_types`, the show layer, because
the show schema embeds them and the show layer must not import control (layers point one way:
docs/architecture.md).  Control code imports them from here.  A show's control tables are read
and checked with the rest of the show (:func:`installation.show.loader.load_show`): there is one
loader, and its errors name file, line and field like every other problem.
"""

from __future__ import annotations

from ..show.control_types import (
    AudioConfig,
    BindingSpec,
    Combine,
    ControlConfig,
    Curve,
    MidiConfig,
    OscConfig,
    OscOutConfig,
    ParamOverride,
    ReplayConfig,
    SerialConfig,
    Smoothing,
    parse_target,
)

__all__ = [
    "AudioConfig",
    "BindingSpec",
    "Combine",
    "ControlConfig",
    "Curve",
    "MidiConfig",
    "OscConfig",
    "OscOutConfig",
    "ParamOverride",
    "ReplayConfig",
    "SerialConfig",
    "Smoothing",
    "parse_target",
]
