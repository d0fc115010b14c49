"""The runtime side: the ``vae`` generator (with ``encode``) and the ``deblur`` post stage.

Both keep tensors on their device and run under ``torch.inference_mode``; the worker thread
calls them, never the render loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from installation.api import load_image

from .loader import load_deblur, load_vae


class VAEGenerator:
    """Implements :class:`installation.protocols.Generator`; latents are standard-normal.

    A walk's N(0, I) latents are carried onto the model's fitted prior before decoding (see
    :class:`~plugins.vae.model.ConvVAE`), and :meth:`encode` returns coordinates in that same
    standard-normal space, so walks, seeds and encoded photos mix freely.

    ``temperature`` scales z before decoding: below 1 the faces are more typical and cleaner,
    above 1 more unusual (and less reliable).
    """

    def __init__(
        self, checkpoint: str | Path | None = None, device: torch.device | str = "cpu", temperature: float = 1.0
    ):
        self.device = torch.device(device)
        self.model = load_vae(checkpoint, self.device)
        self.latent_dim = self.model.cfg.latent_dim
        self.resolution = (self.model.cfg.resolution, self.model.cfg.resolution)
        self.temperature = float(temperature)
        if self.temperature <= 0:
            raise ValueError("temperature must be > 0")

    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        if latents.dim() != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents [N, {self.latent_dim}], got {tuple(latents.shape)}")
        with torch.inference_mode():
            e = latents.to(self.device, torch.float32) * self.temperature
            return self.model.decoder(self.model.to_prior(e))

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """``generate`` with gradients (weights untouched): projection refines z through the decoder."""
        e = latents.to(self.device, torch.float32) * self.temperature
        return self.model.decoder(self.model.to_prior(e))

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``[N, 3, H, W]`` in [0, 1] (any size; resized to the model's) → latents ``[N, latent_dim]`` on the CPU.

        The posterior mean, not a sample: encoding the same photo twice gives the same point,
        which is what a walk between photos needs.  Divide by ``temperature`` so that
        ``generate(encode(x))`` reconstructs ``x`` at any temperature.
        """
        if images.dim() != 4 or images.shape[1] < 3:
            raise ValueError(f"expected images [N, 3, H, W], got {tuple(images.shape)}")
        x = images[:, :3].to(self.device, torch.float32)
        if tuple(x.shape[-2:]) != self.resolution:
            x = F.interpolate(x, size=self.resolution, mode="bilinear", align_corners=False, antialias=True)
        with torch.inference_mode():
            mu, _ = self.model.encoder(x.clamp(0, 1))
            e = self.model.from_prior(mu)
        return (e / self.temperature).cpu()

    def encode_files(self, paths: Iterable[str | Path]) -> torch.Tensor:
        """Encode image files (centre-cropped square); a file that cannot be read raises naming it."""
        arrays = [load_image(p, self.resolution[0]) for p in paths]
        if not arrays:
            raise ValueError("no images to encode")
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255.0
        return self.encode(batch)


class DeblurStage:
    """Implements :class:`installation.protocols.PostProcessor`: the deblur AE on whole frames.

    ``passes`` runs the network more than once for frames softer than the 3 px blur it was
    trained on.  How much of the restoration shows is the post chain's ``mix`` (show file and
    live ``/post/deblur/mix``), as for every stage.  An alpha channel, if any, passes through.
    """

    def __init__(self, device: torch.device | str = "cpu", checkpoint: str | Path | None = None, passes: int = 1):
        self.device = torch.device(device)
        self.model = load_deblur(checkpoint, self.device)
        self.passes = int(passes)
        if self.passes < 1:
            raise ValueError("passes must be >= 1")

    def process(self, frames: torch.Tensor) -> torch.Tensor:
        rgb = frames[:, :3].to(self.device, torch.float32)
        with torch.inference_mode():
            out = rgb
            for _ in range(self.passes):
                out = self.model(out)
        if frames.shape[1] > 3:
            out = torch.cat([out, frames[:, 3:].to(out)], 1)
        return out
