"""Helpers every walk shares: reading control state, seeded Gaussian draws."""
from __future__ import annotations

from typing import Any, Mapping

import torch


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
