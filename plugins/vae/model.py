"""Convolutional VAE: a strided-conv encoder to (mu, log-variance) of a 200-d latent, and a
resize-then-conv decoder back to an image.

The decoder upsamples with nearest-neighbour interpolation followed by a 3×3 convolution
instead of transposed convolutions: a stride-2 transposed conv with a kernel not divisible by
the stride overlaps unevenly and prints a checkerboard on flat areas (an earlier watch model
showed exactly that on dials).  The encoder is kept, not thrown away after training, so a
user can encode their own photos and walk between them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class VAEConfig:
    """Everything needed to rebuild the network; saved as the weights' JSON config."""

    resolution: int = 64
    latent_dim: int = 200
    channels: list[int] = field(default_factory=lambda: [32, 64, 128, 128])  # encoder widths, 64→4 px
    base: int = 4  # spatial size at the bottleneck

    def __post_init__(self):
        self.resolution, self.latent_dim, self.base = int(self.resolution), int(self.latent_dim), int(self.base)
        self.channels = [int(c) for c in self.channels]
        if self.resolution != self.base * 2 ** len(self.channels):
            raise ValueError(
                f"resolution {self.resolution} must be base {self.base} × 2^{len(self.channels)} "
                f"(= {self.base * 2 ** len(self.channels)}) for channels {self.channels}"
            )
        if self.latent_dim < 1:
            raise ValueError("latent_dim must be positive")

    @classmethod
    def for_resolution(cls, resolution: int, latent_dim: int = 200) -> VAEConfig:
        """Default widths for a power-of-two ``resolution`` (one stride-2 stage per octave down to 4 px)."""
        stages = int(round(math.log2(resolution / 4)))
        if stages < 1 or 4 * 2**stages != resolution:
            raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
        widths = [min(32 * 2**i, 128) for i in range(stages)]
        return cls(resolution=resolution, latent_dim=latent_dim, channels=widths)

    def to_dict(self) -> dict:
        return asdict(self)


class Encoder(nn.Module):
    """Image ``[N, 3, R, R]`` in [0, 1] → (mu, logvar), each ``[N, latent_dim]``."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        layers, c_in = [], 3
        for c in cfg.channels:
            layers += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.BatchNorm2d(c), nn.LeakyReLU(0.2, inplace=True)]
            c_in = c
        self.features = nn.Sequential(*layers)
        flat = c_in * cfg.base * cfg.base
        self.mu = nn.Linear(flat, cfg.latent_dim)
        self.logvar = nn.Linear(flat, cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x * 2 - 1).flatten(1)
        return self.mu(h), self.logvar(h).clamp(-12.0, 8.0)


class UpBlock(nn.Module):
    """×2 nearest upsample, then 3×3 conv, norm, activation (no transposed conv: no checkerboard)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.norm(self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))), 0.2)


class Decoder(nn.Module):
    """Latent ``[N, latent_dim]`` → image ``[N, 3, R, R]`` in [0, 1]."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        widths = list(reversed(cfg.channels))
        self.base, self.c0 = cfg.base, widths[0]
        self.fc = nn.Linear(cfg.latent_dim, widths[0] * cfg.base * cfg.base)
        outs = widths[1:] + [max(widths[-1] // 2, 16)]
        self.blocks = nn.Sequential(*[UpBlock(a, b) for a, b in zip(widths, outs)])
        self.to_rgb = nn.Conv2d(outs[-1], 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.fc(z), 0.2).view(-1, self.c0, self.base, self.base)
        return torch.sigmoid(self.to_rgb(self.blocks(h)))


class ConvVAE(nn.Module):
    """Encoder, decoder, and the fitted prior that maps a walk's N(0, I) latents into the model's.

    A VAE's posteriors do not fill N(0, I) evenly (with a small ``kl_weight`` they spread wider
    and correlate), so decoding plain N(0, I) samples lands in holes and gives mush.  The
    aggregated posterior is therefore fitted with one full-covariance Gaussian after training
    (``prior_mean``, ``prior_chol``; "ex-post density estimation", Ghosh et al. 2020) and
    :meth:`to_prior` carries standard-normal walk latents onto it.  Defaults are the identity.
    """

    prior_mean: torch.Tensor  # buffers, typed for the checker
    prior_chol: torch.Tensor

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.register_buffer("prior_mean", torch.zeros(cfg.latent_dim))
        self.register_buffer("prior_chol", torch.eye(cfg.latent_dim))

    def to_prior(self, e: torch.Tensor) -> torch.Tensor:
        """Standard-normal ``e`` ``[N, D]`` → model latent ``z = mean + L e``."""
        return self.prior_mean + e @ self.prior_chol.T

    def from_prior(self, z: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`to_prior`: model latent → standard-normal coordinates."""
        return torch.linalg.solve_triangular(self.prior_chol, (z - self.prior_mean).T, upper=False).T

    @staticmethod
    def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """z = mu + sigma·eps: sampling written so gradients flow to mu and logvar."""
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x)
        return self.decoder(self.reparameterise(mu, logvar)), mu, logvar


def vae_loss(
    x: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, kl_weight: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, reconstruction, KL), all per image averaged over the batch.

    Reconstruction is the squared error summed over pixels and channels; KL is the closed form
    against N(0, I) summed over latent dimensions.  ``kl_weight`` (β) is the artist's dial:
    low β → sharper reconstructions but a prior that decodes less reliably (less variety in
    what random latents give); high β → smoother latent space, blurrier images.  With this
    scaling β = 2σ² of a Gaussian likelihood with per-pixel standard deviation σ.
    """
    rec = (recon - x).pow(2).flatten(1).sum(1).mean()
    kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
    return rec + kl_weight * kl, rec, kl


class PriorEstimate:
    """Running mean and covariance of the aggregated posterior, seen through training batches.

    Exponential moving averages (bias-corrected, like Adam's moments) of ``mu``, ``mu muᵀ`` and
    the posterior variance; :meth:`fit` returns ``(mean, cholesky(cov))`` with
    ``cov = Cov(mu) + diag(E[sigma²])``, the covariance of the mixture of posteriors.
    """

    def __init__(self, dim: int, decay: float = 0.995):
        self.dim, self.decay, self.count = int(dim), float(decay), 0
        self.m1 = torch.zeros(dim, dtype=torch.float64)
        self.m2 = torch.zeros(dim, dim, dtype=torch.float64)
        self.var = torch.zeros(dim, dtype=torch.float64)

    @torch.no_grad()
    def update(self, mu: torch.Tensor, logvar: torch.Tensor) -> None:
        mu = mu.detach().double().cpu()
        a = self.decay
        self.m1.mul_(a).add_(mu.mean(0), alpha=1 - a)
        self.m2.mul_(a).add_(mu.T @ mu / mu.shape[0], alpha=1 - a)
        self.var.mul_(a).add_(logvar.detach().double().exp().cpu().mean(0), alpha=1 - a)
        self.count += 1

    def fit(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.count == 0:
            return torch.zeros(self.dim), torch.eye(self.dim)
        corr = 1 - self.decay**self.count
        mean, m2, var = self.m1 / corr, self.m2 / corr, self.var / corr
        cov = m2 - torch.outer(mean, mean) + torch.diag(var)
        cov = (cov + cov.T) / 2 + 1e-6 * torch.eye(self.dim, dtype=cov.dtype)
        return mean.float(), torch.linalg.cholesky(cov).float()

    def state_dict(self) -> dict:
        return {"m1": self.m1, "m2": self.m2, "var": self.var, "count": self.count, "decay": self.decay}

    def load_state_dict(self, state: dict) -> None:
        self.m1, self.m2, self.var = state["m1"].double(), state["m2"].double(), state["var"].double()
        self.count, self.decay = int(state["count"]), float(state["decay"])
