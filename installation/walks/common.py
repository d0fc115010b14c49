"""Helpers every walk shares: reading control state, seeded Gaussian draws."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

#: keys of the control state that are not addresses: the stamped walk changes of a synchronised
#: show (``(initial items, ((seq, show time, ((address, value), ...)), ...))``) and the show time at
#: which the scene's local time is 0, added by its worker (see :mod:`installation.control.stamps`)
CHANGES_KEY, ORIGIN_KEY = "@changes", "@origin"


def control_value(control: Mapping[str, Any] | None, key: str, default: float) -> float:
    """A control value by its address, e.g. ``"/walk/speed"``, else ``default``.

    Accepted shapes of the control state: the address with or without its leading slash
    (``"/walk/speed"``, ``"walk/speed"``), the bare name of a ``/walk/*`` parameter (``"speed"``),
    and for ``/direction/K`` the K-th entry of a ``"directions"`` sequence.
    """
    if not control:
        return float(default)
    bare = key.strip("/")
    parts = bare.split("/")
    candidates = [key, "/" + bare, bare] + ([parts[1]] if parts[0] == "walk" and len(parts) == 2 else [])
    for k in candidates:
        if k in control and control[k] is not None:
            try:
                return float(control[k])
            except (TypeError, ValueError):
                return float(default)
    if parts[0] == "direction" and len(parts) == 2 and parts[1].isdigit():
        seq = control.get("directions")
        i = int(parts[1])
        if isinstance(seq, (list, tuple)) and i < len(seq):
            return float(seq[i])
    return float(default)


def gaussian(seed: int, *shape: int) -> torch.Tensor:
    """Standard-normal tensor of ``shape`` from ``seed`` alone (identical on every machine)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(int(seed)), dtype=torch.float64)


class OptionError(ValueError):
    """A walk option that cannot play, naming the option (``field``) so a show check can point at
    its line: ``period = 0``, ``seeds = []``, a ``hold`` list of the wrong length ..."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def number(field: str, value: Any, minimum: float | None = None, positive: bool = False) -> float:
    """``value`` as a finite float, at least ``minimum`` (or > 0 with ``positive``), else OptionError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptionError(field, f"must be a number, not {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise OptionError(field, f"must be a finite number, not {value!r}")
    if positive and v <= 0:
        raise OptionError(field, f"must be positive, not {value!r}")
    if minimum is not None and v < minimum:
        raise OptionError(field, f"must be at least {minimum:g}, not {value!r}")
    return v


def whole(field: str, value: Any, minimum: int = 0) -> int:
    """``value`` as an int of at least ``minimum``, else OptionError."""
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
        raise OptionError(field, f"must be a whole number, not {value!r}")
    if int(value) < minimum:
        raise OptionError(field, f"must be at least {minimum}, not {value!r}")
    return int(value)
