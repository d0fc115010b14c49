"""Spherical interpolation through keyframe seeds.

Gaussian latents concentrate near a sphere of radius sqrt(dim); linear interpolation cuts
through the low-density interior (washed-out frames mid-way), slerp stays on the shell.
"""
from __future__ import annotations

import bisect
import math
from typing import Any, Mapping, Sequence

import torch

from .named import resolve_keys, seed_latent


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation, falling back to lerp for (nearly) parallel vectors; norms are lerped."""
    na, nb = a.norm(), b.norm()
    ua, ub = a / na, b / nb
    dot = float((ua * ub).sum().clamp(-1.0, 1.0))
    if abs(dot) > 0.9995:
        return a + (b - a) * t
    omega = math.acos(dot)
    so = math.sin(omega)
    direction = (math.sin((1 - t) * omega) / so) * ua + (math.sin(t * omega) / so) * ub
    return direction * (na + (nb - na) * t)


def smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def _per_seed(value: float | Sequence[float], n: int, name: str) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)] * n
    values = [float(v) for v in value]
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries for {n} seeds")
    return values


class SeedSlerp:
    """Visit ``seeds`` in a circle: hold each for ``hold`` s, then slerp to the next over ``transition`` s.

    ``hold`` and ``transition`` may be lists (one entry per seed).  The walk is periodic: the
    last seed flows back into the first, so a gallery loop never jumps.  A seed may be the
    name of a latent in the seed bank file ``bank`` (see :mod:`.named`).
    """

    def __init__(self, latent_dim: int, seed: int = 0, seeds: Sequence[int | str] | None = None,
                 hold: float | Sequence[float] = 0.0, transition: float | Sequence[float] = 4.0, ease: bool = True,
                 bank: str | None = None, generator: Any = None):
        self.latent_dim = int(latent_dim)
        self.seeds = list(seeds) if seeds else [seed + i for i in range(4)]
        n = len(self.seeds)
        self.holds = _per_seed(hold, n, "hold")
        self.transitions = _per_seed(transition, n, "transition")
        if any(v < 0 for v in self.holds + self.transitions) or sum(self.holds) + sum(self.transitions) <= 0:
            raise ValueError("hold and transition must be >= 0 and not all zero")
        self.hold, self.transition = self.holds[0], self.transitions[0]
        self.ease = ease
        #: w of bank entries that have one (mapping-network models), for a w-space walk
        self._keys, self.w_keys = resolve_keys(self.seeds, self.latent_dim, bank, generator)
        self._starts = [0.0]
        for h, tr in zip(self.holds, self.transitions):
            self._starts.append(self._starts[-1] + h + tr)

    @property
    def period(self) -> float:
        return self._starts[-1]

    def segment(self, t: float) -> tuple[int, int, float]:
        """(from key, to key, eased fraction) at time ``t``: what a w-space walk lerps between."""
        t = t % self.period
        i = min(bisect.bisect_right(self._starts, t) - 1, len(self._keys) - 1)
        local = t - self._starts[i]
        j = (i + 1) % len(self._keys)
        if local < self.holds[i] or self.transitions[i] <= 0:
            return i, j, 0.0
        x = (local - self.holds[i]) / self.transitions[i]
        return i, j, smoothstep(x) if self.ease else min(x, 1.0)

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        i, j, x = self.segment(t)
        if x <= 0.0:
            return self._keys[i].clone()
        return slerp(self._keys[i], self._keys[j], x)
