"""Helpers every walk shares: reading control state, seeded Gaussian draws."""
from __future__ import annotations

from typing import Any, Mapping

import torch


def control_value(control: Mapping[str, Any] | None, key: str, default: float) -> float:
    """``control["/walk/speed"]`` or ``control["walk/speed"]`` as a float, else ``default``.

    Control state keys are OSC-style addresses; walks accept them with or without the slash.
    """
    if not control:
        return float(default)
    for k in (key, "/" + key.lstrip("/"), key.lstrip("/")):
        if k in control:
            try:
                return float(control[k])
            except (TypeError, ValueError):
                return float(default)
    return float(default)


def gaussian(seed: int, *shape: int) -> torch.Tensor:
    """Standard-normal tensor of ``shape`` from ``seed`` alone (identical on every machine)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(int(seed)), dtype=torch.float64)
