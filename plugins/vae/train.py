"""Train tasks for the shared loop: ``installation train vae DATA`` and ``installation train deblur DATA``.

Both implement :class:`installation.train.loop.TrainTask` (and ``validate``, so
``--val-fraction`` turns on early stopping); checkpoints, resume, sample grids and the progress
display come from the shared loop.  Options arrive from ``-O KEY=VALUE``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from installation.api import psnr

from .deblur import DeblurAE, DeblurConfig, gaussian_blur, sigma_for_blur
from .loader import export_deblur, export_vae
from .model import ConvVAE, PriorEstimate, VAEConfig, vae_loss


def _chunks(images: torch.Tensor, size: int = 64):
    for i in range(0, images.shape[0], size):
        yield images[i : i + size]


class VAETask:
    """Convolutional VAE with a 200-d latent; ``kl_weight`` is the variety/detail dial."""

    name = "vae"

    def __init__(
        self,
        kl_weight: float = 0.2,
        latent_dim: int = 200,
        lr: float = 1e-3,
        kl_warmup: int = 0,
        channels: list[int] | None = None,
    ):
        self.kl_weight = float(kl_weight)
        if self.kl_weight < 0:
            raise ValueError("kl_weight must be >= 0")
        self.latent_dim, self.lr, self.kl_warmup = int(latent_dim), float(lr), int(kl_warmup)
        self.channels = channels
        self.model: ConvVAE  # built in setup(), which the training loop calls first
        self.steps_done = 0

    def setup(self, device: torch.device, resolution: int) -> None:
        self.device = torch.device(device)
        if self.channels:
            cfg = VAEConfig(
                resolution=resolution,
                latent_dim=self.latent_dim,
                channels=list(self.channels),
                base=resolution // 2 ** len(self.channels),
            )
        else:
            cfg = VAEConfig.for_resolution(resolution, self.latent_dim)
        self.model = ConvVAE(cfg).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self.prior = PriorEstimate(cfg.latent_dim)

    def _apply_prior(self) -> None:
        mean, chol = self.prior.fit()
        self.model.prior_mean.copy_(mean)
        self.model.prior_chol.copy_(chol)

    def _beta(self, step: int) -> float:
        if self.kl_warmup <= 0:
            return self.kl_weight
        return self.kl_weight * min(1.0, (step + 1) / self.kl_warmup)

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        self.model.train()
        recon, mu, logvar = self.model(batch)
        loss, rec, kl = vae_loss(batch, recon, mu, logvar, self._beta(step))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.prior.update(mu, logvar)
        self.steps_done = step + 1
        return {"loss": loss.item(), "rec": rec.item(), "kl": kl.item()}

    @torch.no_grad()
    def validate(self, images: torch.Tensor) -> float:
        """Held-out loss (reconstruction from the mean latent + β·KL), per image."""
        self.model.eval()
        total, n = 0.0, 0
        for x in _chunks(images):
            mu, logvar = self.model.encoder(x)
            loss, _, _ = vae_loss(x, self.model.decoder(mu), mu, logvar, self.kl_weight)
            total, n = total + loss.item() * x.shape[0], n + x.shape[0]
        return total / max(n, 1)

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> torch.Tensor:
        """Decoded standard-normal latents through the fitted prior (what a walk will show)."""
        self.model.eval()
        self._apply_prior()
        e = torch.randn(n, self.model.cfg.latent_dim, generator=torch.Generator().manual_seed(seed))
        return self.model.decoder(self.model.to_prior(e.to(self.device))).cpu()

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "opt": self.opt.state_dict(),
            "steps_done": self.steps_done,
            "prior": self.prior.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        model_state = dict(state["model"])
        for key in ("prior_mean", "prior_chol"):  # checkpoints from before the fitted prior
            model_state.setdefault(key, getattr(self.model, key))
        self.model.load_state_dict(model_state)
        self.opt.load_state_dict(state["opt"])
        for group in self.opt.param_groups:  # the learning rate given now wins (a resumed run may change it)
            group["lr"] = self.lr
        self.steps_done = int(state.get("steps_done", 0))
        if "prior" in state:
            self.prior.load_state_dict(state["prior"])

    def export(self, out_dir: Path) -> Path:
        self._apply_prior()
        return export_vae(
            self.model,
            Path(out_dir) / "vae",
            {
                "kl_weight": self.kl_weight,
                "steps": self.steps_done,
                "prior": "fitted" if self.prior.count else "standard normal",
                "prior_batches": self.prior.count,
            },
        )


class DeblurTask:
    """Plain autoencoder on (Gaussian blur ``blur_px`` wide, clean) pairs made on the fly.

    ``blur_jitter`` varies the blur per image by ±that fraction so the stage copes with the
    slightly different softness of whatever generator it follows; validation always uses
    exactly ``blur_px``.
    """

    name = "deblur"

    def __init__(self, blur_px: float = 3.0, blur_jitter: float = 0.3, width: int = 16, lr: float = 1e-3):
        if blur_px <= 0 or not 0 <= blur_jitter < 1:
            raise ValueError("blur_px must be > 0 and 0 <= blur_jitter < 1")
        self.blur_px, self.blur_jitter, self.width, self.lr = float(blur_px), float(blur_jitter), int(width), float(lr)
        self.sigma = sigma_for_blur(self.blur_px)
        self.model: DeblurAE  # built in setup(), which the training loop calls first
        self.preview: torch.Tensor | None = None  # fixed clean images for comparable sample grids
        self.steps_done = 0

    def setup(self, device: torch.device, resolution: int) -> None:
        self.device = torch.device(device)
        self.model = DeblurAE(DeblurConfig(width=self.width)).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)

    def blur(self, clean: torch.Tensor, jitter: bool = True) -> torch.Tensor:
        if jitter and self.blur_jitter > 0:
            scale = 1 + self.blur_jitter * (2 * torch.rand(clean.shape[0], device=clean.device) - 1)
            return gaussian_blur(clean, self.sigma * scale)
        return gaussian_blur(clean, self.sigma)

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        if self.preview is None:
            self.preview = batch[:8].detach().cpu().clone()
        self.model.train()
        blurred = self.blur(batch)
        restored = self.model(blurred)
        loss = (restored - batch).abs().mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.steps_done = step + 1
        return {"l1": loss.item(), "psnr": psnr(restored.detach(), batch)}

    @torch.no_grad()
    def validate(self, images: torch.Tensor) -> float:
        """Held-out mean squared error of the restoration at exactly ``blur_px`` (lower is better)."""
        self.model.eval()
        total, n = 0.0, 0
        for x in _chunks(images):
            err = (self.model(self.blur(x, jitter=False)) - x).pow(2).mean()
            total, n = total + err.item() * x.shape[0], n + x.shape[0]
        return total / max(n, 1)

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> torch.Tensor:
        """Rows of blurred / restored / clean (as many images as fit in ``n``)."""
        self.model.eval()
        cols = max(1, int(round(n**0.5)))
        clean = self.preview if self.preview is not None else torch.full((cols, 3, 64, 64), 0.5)
        clean = clean[:cols].to(self.device)
        blurred = self.blur(clean, jitter=False)
        rows = [blurred, self.model(blurred), clean]
        out = torch.cat([rows[i % 3] for i in range((n + cols - 1) // cols)])[:n]
        return out.cpu()

    def state_dict(self) -> dict[str, Any]:
        state = {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "steps_done": self.steps_done}
        if self.preview is not None:
            state["preview"] = self.preview
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        for group in self.opt.param_groups:  # the learning rate given now wins (a resumed run may change it)
            group["lr"] = self.lr
        self.steps_done = int(state.get("steps_done", 0))
        if "preview" in state:
            self.preview = state["preview"]

    def export(self, out_dir: Path) -> Path:
        return export_deblur(
            self.model,
            Path(out_dir) / "deblur",
            {"blur_px": self.blur_px, "blur_jitter": self.blur_jitter, "steps": self.steps_done},
        )
