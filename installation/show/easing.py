"""Easing curves for transitions: ``x`` in [0, 1] of the crossfade → opacity in [0, 1]."""

from __future__ import annotations

import math


def ease(curve: str, x: float) -> float:
    x = min(max(float(x), 0.0), 1.0)
    if curve == "linear":
        return x
    if curve == "smooth":  # smoothstep: gentle at both ends, the classic crossfade
        return x * x * (3 - 2 * x)
    if curve == "ease-in":
        return x * x
    if curve == "ease-out":
        return 1 - (1 - x) * (1 - x)
    if curve == "ease-in-out":  # cosine: a slower middle than smoothstep's
        return 0.5 - 0.5 * math.cos(math.pi * x)
    if curve == "cut":
        return 1.0
    raise ValueError(f"unknown easing curve {curve!r}")
