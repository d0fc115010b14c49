"""DCGAN-shaped generator and critic at 64², as used by the WGAN paper (Arjovsky et al., 2017).

Generator: z → 4×4 (transposed conv) → 8 → 16 → 32 → 64, each step a stride-2 transposed
conv + BatchNorm + ReLU, ``tanh`` out.  Critic: the mirror image with stride-2 convs and leaky
ReLU, ending in one *unbounded* score per image (no sigmoid: a Wasserstein critic estimates a
distance, not a probability).

The critic's normalisation depends on the constraint: BatchNorm is what the WGAN paper's DCGAN
critic used with weight clipping, but a gradient penalty is defined per sample, so with ``gp``
the critic uses a per-sample LayerNorm (GroupNorm with one group) instead.

Channel counts are small (``width`` 32 → 256, 128, 64, 32 feature maps) so a run on one CPU
thread learns bikes in tens of minutes and inference runs at hundreds of images a second.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _levels(resolution: int) -> int:
    n = int(round(math.log2(resolution)))
    if 2**n != resolution or resolution < 8:
        raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
    return n - 2  # number of 2× steps from 4×4


class Generator(nn.Module):
    def __init__(self, z_dim: int = 100, width: int = 32, resolution: int = 64):
        super().__init__()
        self.z_dim, self.width, self.resolution = int(z_dim), int(width), int(resolution)
        steps = _levels(resolution)
        ch = width * 2 ** (steps - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, ch, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(True),
        ]
        for _ in range(steps - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``[N, z_dim]`` → ``[N, 3, R, R]`` in [-1, 1]."""
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))

    def config(self) -> dict:
        return {"z_dim": self.z_dim, "width": self.width, "resolution": self.resolution}


class Critic(nn.Module):
    def __init__(self, width: int = 32, resolution: int = 64, norm: str = "batch"):
        super().__init__()
        if norm not in ("batch", "layer", "none"):
            raise ValueError(f"critic norm must be batch, layer or none, got {norm!r}")
        steps = _levels(resolution)
        ch = width
        layers: list[nn.Module] = [nn.Conv2d(3, ch, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for _ in range(steps - 1):
            layers += [
                nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm == "none"),
                _norm(norm, ch * 2),
                nn.LeakyReLU(0.2, True),
            ]
            ch *= 2
        layers += [nn.Conv2d(ch, 1, 4, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)
        init_dcgan(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 3, R, R]`` in [-1, 1] → ``[N]`` critic scores."""
        return self.net(x).view(x.shape[0])


def _norm(kind: str, ch: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(ch)
    if kind == "layer":
        return nn.GroupNorm(1, ch)
    return nn.Identity()


def init_dcgan(module: nn.Module) -> None:
    """DCGAN init: conv weights N(0, 0.02), norm scales N(1, 0.02), biases zero."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


@torch.no_grad()
def recalibrate_batchnorm(g: Generator, z_dim: int, samples: int = 2048, batch: int = 256, seed: int = 0) -> None:
    """Replace BatchNorm running statistics with exact averages over ``samples`` random latents.

    A GAN generator trains in batch mode; inference in the show runs on one latent at a time, so
    eval mode must use statistics.  Running averages with momentum lag the fast-moving weights;
    recomputing them once at export makes a single-image render match a training-mode batch.
    """
    bns = [m for m in g.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    was_training = g.training
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average = exact mean over all batches
    gen = torch.Generator().manual_seed(seed)
    device = next(g.parameters()).device
    g.train()
    for start in range(0, samples, batch):
        n = min(batch, samples - start)
        g(torch.randn(n, z_dim, generator=gen).to(device))
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    g.train(was_training)
