"""A procedural generator that needs no weights: smooth colour fields driven by the latent.

The latent is projected (with a fixed, seeded matrix) onto a few octaves of low-resolution
value grids, which are upsampled bicubically, summed and pushed through a cosine palette.  The
map from latent to image is smooth, so slerping latents gives flowing, continuous motion —
exactly what the rest of the pipeline needs to be exercised before any trained model exists.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import hookimpl


class NoiseField:
    """Implements :class:`installation.protocols.Generator` on any torch device."""

    def __init__(
        self,
        device: torch.device | str = "cpu",
        latent_dim: int = 128,
        size: int = 256,
        octaves: int = 3,
        base_grid: int = 4,
        seed: int = 7,
    ):
        self.latent_dim = int(latent_dim)
        self.resolution = (int(size), int(size))
        self.device = torch.device(device)
        self.octaves = int(octaves)
        self.grids = [base_grid * 2**o for o in range(self.octaves)]
        g = torch.Generator().manual_seed(seed)
        # 4 channels per octave: three colour phases and a brightness field
        self.proj = [
            (torch.randn(self.latent_dim, 4 * n * n, generator=g) / math.sqrt(self.latent_dim)).to(self.device)
            for n in self.grids
        ]
        self.palette_a = torch.tensor([0.5, 0.5, 0.5], device=self.device).view(1, 3, 1, 1)
        self.palette_b = torch.tensor([0.5, 0.45, 0.5], device=self.device).view(1, 3, 1, 1)
        self.palette_d = torch.tensor([0.0, 0.33, 0.67], device=self.device).view(1, 3, 1, 1)

    @torch.no_grad()
    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        z = latents.to(self.device, torch.float32)
        n = z.shape[0]
        h, w = self.resolution
        field = torch.zeros(n, 4, h, w, device=self.device)
        for octave, (grid, proj) in enumerate(zip(self.grids, self.proj)):
            coarse = (z @ proj).view(n, 4, grid, grid)
            field += F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False) / (2**octave)
        # one scalar phase through a cosine palette keeps colours coherent; a second field
        # shifts the palette slowly and a third shades brightness, for depth
        phase = 0.22 * field[:, 0:1] + 0.08 * field[:, 1:2] * self.palette_d.new_tensor([1.0, 0.5, -0.5]).view(
            1, 3, 1, 1
        )
        rgb = self.palette_a + self.palette_b * torch.cos(2 * math.pi * (phase + self.palette_d))
        shade = 0.85 + 0.15 * torch.tanh(field[:, 3:4])
        return (rgb * shade).clamp(0.0, 1.0)


def make_noisefield(checkpoint=None, device="cpu", **options) -> NoiseField:
    if checkpoint:
        raise ValueError("noisefield is procedural and takes no checkpoint")
    return NoiseField(device=device, **options)


@hookimpl
def register_generators():
    return {"noisefield": make_noisefield}
