"""Spherical interpolation through keyframe seeds.

Gaussian latents concentrate near a sphere of radius sqrt(dim); linear interpolation cuts
through the low-density interior (washed-out frames mid-way), slerp stays on the shell.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import torch


def seed_latent(seed: int, dim: int) -> torch.Tensor:
    """The standard-normal latent of ``seed`` (same seed → same vector on every machine)."""
    return torch.randn(dim, generator=torch.Generator().manual_seed(int(seed)), dtype=torch.float32)


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


class SeedSlerp:
    """Visit ``seeds`` in a circle: hold each for ``hold`` s, then slerp to the next over ``transition`` s.

    The walk is periodic with period ``len(seeds) * (hold + transition)``: the last seed flows
    back into the first, so a gallery loop never jumps.
    """

    def __init__(self, latent_dim: int, seed: int = 0, seeds: Sequence[int] | None = None,
                 hold: float = 0.0, transition: float = 4.0, ease: bool = True):
        if transition <= 0 and hold <= 0:
            raise ValueError("hold + transition must be positive")
        self.latent_dim = int(latent_dim)
        self.seeds = list(seeds) if seeds else [seed + i for i in range(4)]
        self.hold = float(hold)
        self.transition = float(transition)
        self.ease = ease
        self._keys = [seed_latent(s, self.latent_dim) for s in self.seeds]

    @property
    def period(self) -> float:
        return len(self.seeds) * (self.hold + self.transition)

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        seg = self.hold + self.transition
        t = t % self.period
        i = int(t // seg) % len(self._keys)
        local = t - i * seg
        a, b = self._keys[i], self._keys[(i + 1) % len(self._keys)]
        if local < self.hold or self.transition <= 0:
            return a.clone()
        x = (local - self.hold) / self.transition
        return slerp(a, b, smoothstep(x) if self.ease else x)
