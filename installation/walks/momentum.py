"""A random walk with momentum that never repeats, evaluated at any t without replaying.

An integrated random walk must be stepped from the start to know where it is at t, which makes
seeking a week-long show impossible.  Instead the walk is a stationary Gaussian process whose
spectrum is that of a walk with momentum (a damped velocity: the Matérn-3/2 spectrum, a Student-t
with 3 degrees of freedom over frequency), drawn as a random-phase Fourier sum:

    z(t) = Σ_m (a_m cos ω_m t + b_m sin ω_m t) / √M,    ω_m ~ t₃ / lengthscale.

Every coordinate is exactly a unit Gaussian at every t (so the walk stays on the latent
distribution); it turns smoothly (no kinks: momentum) over about ``lengthscale`` seconds, and
the incommensurate frequencies keep it from ever looping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from .common import gaussian, number, whole


class MomentumWalk:
    def __init__(self, latent_dim: int, seed: int = 0, lengthscale: float = 8.0, features: int = 64):
        lengthscale = number("lengthscale", lengthscale, positive=True)
        features = whole("features", features, 1)
        self.latent_dim = int(latent_dim)
        g = torch.Generator().manual_seed(int(seed) + 7919)
        # Student-t(3) = normal / sqrt(chi2_3 / 3)
        normal = torch.randn(int(features), generator=g, dtype=torch.float64)
        chi2 = (torch.randn(int(features), 3, generator=g, dtype=torch.float64) ** 2).sum(1)
        self.omega = normal / torch.sqrt(chi2 / 3) / float(lengthscale)
        coeffs = gaussian(seed, 2, int(features), self.latent_dim) / math.sqrt(features)
        self.a, self.b = coeffs[0], coeffs[1]

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        phase = self.omega * float(t)
        return (torch.cos(phase) @ self.a + torch.sin(phase) @ self.b).float()
