"""The types of a show's ``[control]`` table and ``[[bindings]]`` array.

Live control (OSC, MIDI, sensors) owns its own models in :mod:`installation.control.config`;
the show schema embeds them when that package is present, so a show file is validated in one
pass.  Without it the tables are kept as plain data (and checked when control starts).
"""
from __future__ import annotations

from typing import Any

try:  # pragma: no cover - which branch runs depends on the checkout
    from ..control.config import BindingSpec, ControlConfig

    ControlTable = ControlConfig
    BindingList = list[BindingSpec]
    STRICT_CONTROL = True
except ImportError:  # pragma: no cover
    ControlTable = dict[str, Any]
    BindingList = list[dict[str, Any]]
    STRICT_CONTROL = False

__all__ = ["ControlTable", "BindingList", "STRICT_CONTROL"]
