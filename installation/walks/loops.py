"""Seamless loops: walks that return exactly to where they started after ``period`` seconds.

Both walks are a random Fourier series on the circle,

    z(t) = Σ_k c_k (a_k cos kθ + b_k sin kθ),   θ = 2π t / period,   Σ c_k² = 1,

with ``a_k``, ``b_k`` independent standard-normal vectors.  At every t each coordinate is a unit
Gaussian (cos² + sin² = 1 and the c_k are normalised), so the walk never leaves the latent
distribution the generator was trained on — unlike linear interpolation, whose mid-points shrink
toward the origin.  ``loop`` uses one harmonic (an ellipse through latent space); ``noise`` adds
harmonics with a 1/k^roughness falloff, which is what sampling a smooth noise field along a
circle amounts to (the classic "noise loop").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from .common import gaussian, number, whole


class HarmonicLoop:
    def __init__(
        self,
        latent_dim: int,
        seed: int = 0,
        period: float = 30.0,
        harmonics: int = 1,
        roughness: float = 1.0,
        phase: float = 0.0,
        harmonics_name: str = "harmonics",
    ):
        period = number("period", period, positive=True)
        harmonics = whole(harmonics_name, harmonics, 1)
        roughness = number("roughness", roughness)
        self.latent_dim = int(latent_dim)
        self.period = period
        self.phase = number("phase", phase)
        k = torch.arange(1, harmonics + 1, dtype=torch.float64)
        c = k.pow(-roughness)
        self.k = k
        self.c = c / c.norm()
        coeffs = gaussian(seed, 2, int(harmonics), self.latent_dim)
        self.a, self.b = coeffs[0], coeffs[1]

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        theta = 2 * math.pi * (float(t) / self.period + self.phase)
        w_cos = self.c * torch.cos(self.k * theta)
        w_sin = self.c * torch.sin(self.k * theta)
        return (w_cos @ self.a + w_sin @ self.b).float()


def make_loop(
    latent_dim: int, seed: int = 0, period: float = 30.0, harmonics: int = 1, roughness: float = 1.0, phase: float = 0.0
) -> HarmonicLoop:
    """``loop``: a smooth closed curve with period ``period`` seconds."""
    return HarmonicLoop(latent_dim, seed, period=period, harmonics=harmonics, roughness=roughness, phase=phase)


def make_noise(
    latent_dim: int, seed: int = 0, period: float = 60.0, octaves: int = 6, roughness: float = 1.0, phase: float = 0.0
) -> HarmonicLoop:
    """``noise``: a noise loop, livelier than ``loop`` (more harmonics), still closing exactly."""
    return HarmonicLoop(
        latent_dim, seed, period=period, harmonics=octaves, roughness=roughness, phase=phase, harmonics_name="octaves"
    )
