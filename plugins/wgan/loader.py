"""The "wgan" generator: a trained DCGAN-shaped generator loaded from safetensors + JSON.

``checkpoint=None`` loads the shipped bikes (``weights/bikes64``), trained here on the
procedural bicycles of :mod:`plugins.wgan.bikes`.  Any other path must be weights exported by
``installation train wgan`` (``NAME.safetensors`` with its ``NAME.json``); a file that does not
match is refused with an error naming it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from installation.api import CheckpointError, load_into, load_weights

from .model import Generator

SHIPPED = Path(__file__).parent / "weights" / "bikes64.safetensors"
MODEL = "wgan-dcgan"  # the ``model`` of the weights metadata


class WGANGenerator:
    """Implements :class:`installation.protocols.Generator`: Gaussian z → RGB in [0, 1]."""

    def __init__(self, checkpoint: str | Path | None = None, device: torch.device | str = "cpu"):
        path = Path(checkpoint) if checkpoint else SHIPPED
        state, meta = load_weights(path, model=MODEL)
        cfg = meta.config
        try:
            self.net = Generator(int(cfg.get("z_dim", 100)), int(cfg.get("width", 32)), int(cfg.get("resolution", 64)))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(path.with_suffix(".json"), f"bad generator config ({exc})") from exc
        load_into(self.net, state, path.with_suffix(".safetensors"))
        self.device = torch.device(device)
        self.net.to(self.device).eval()  # eval: BatchNorm uses the statistics recomputed at export
        self.latent_dim = self.net.z_dim
        self.resolution = (self.net.resolution, self.net.resolution)
        self.path = path

    @torch.no_grad()
    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        z = latents.to(self.device, torch.float32)
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"wgan expects latents [N, {self.latent_dim}], got {tuple(z.shape)}")
        return ((self.net(z) + 1) / 2).clamp(0.0, 1.0)


def make_wgan(checkpoint=None, device="cpu", **options) -> WGANGenerator:
    if options:
        raise ValueError(f"wgan takes no generator options, got {', '.join(sorted(options))}")
    return WGANGenerator(checkpoint, device)
