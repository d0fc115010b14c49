"""The deblur autoencoder and the blur it learns to undo.

A VAE trained with a pixel loss averages over what it is unsure of, so its watch faces come
out soft.  This small, fully convolutional encoder–decoder is trained on pairs (Gaussian blur
of a clean image, the clean image) and restores edges.  It never touches a latent, so it works
after any generator and at any resolution (frames are reflect-padded to a multiple of 4).

Two choices are deliberate: the network predicts a *correction* added to its input (so an
untrained or unsure network returns the input rather than a grey mess), and the decoder uses
resize-then-conv rather than transposed convolutions (no checkerboard).  The additive skips
from encoder to decoder carry the fine layout the bottleneck cannot.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))  # ≈ 2.355


def sigma_for_blur(blur_px: float) -> float:
    """The Gaussian sigma whose blur is ``blur_px`` wide (full width at half maximum)."""
    return float(blur_px) / FWHM_PER_SIGMA


def gaussian_blur(images: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of ``[N, C, H, W]`` with reflect padding, on the images' device.

    ``sigma`` may be one value or one per image (``[N]``), so a batch can mix blur strengths.
    """
    n, c, h, w = images.shape
    sig = torch.as_tensor(sigma, dtype=images.dtype, device=images.device).reshape(-1)
    if sig.numel() == 1:
        sig = sig.expand(n)
    if bool((sig <= 0).any()):
        return images.clone() if bool((sig <= 0).all()) else _mixed(images, sig)
    radius = max(1, int(math.ceil(3.0 * float(sig.max()))))
    radius = min(radius, h - 1, w - 1)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    k = torch.exp(-0.5 * (x[None, :] / sig[:, None]) ** 2)
    k = k / k.sum(1, keepdim=True)  # [N, K]
    # grouped conv with one kernel per (image, channel)
    kk = k.repeat_interleave(c, 0)  # [N*C, K]
    flat = images.reshape(1, n * c, h, w)
    flat = F.pad(flat, (radius, radius, 0, 0), mode="reflect")
    flat = F.conv2d(flat, kk.view(n * c, 1, 1, -1), groups=n * c)
    flat = F.pad(flat, (0, 0, radius, radius), mode="reflect")
    flat = F.conv2d(flat, kk.view(n * c, 1, -1, 1), groups=n * c)
    return flat.view(n, c, h, w)


def _mixed(images: torch.Tensor, sig: torch.Tensor) -> torch.Tensor:
    out = images.clone()
    keep = sig > 0
    out[keep] = gaussian_blur(images[keep], sig[keep])
    return out


@dataclass
class DeblurConfig:
    width: int = 16

    def __post_init__(self):
        self.width = int(self.width)
        if self.width < 4:
            raise ValueError("width must be >= 4")

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(c_in: int, c_out: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=(k - 1) // 2 if stride == 1 else 1)


class DeblurAE(nn.Module):
    """Blurred ``[N, 3, H, W]`` in [0, 1] → restored, same shape, any H and W."""

    def __init__(self, cfg: DeblurConfig | None = None):
        super().__init__()
        self.cfg = cfg or DeblurConfig()
        w = self.cfg.width
        self.enc0 = nn.Sequential(_conv(3, w), nn.LeakyReLU(0.2, True), _conv(w, w), nn.LeakyReLU(0.2, True))
        self.enc1 = nn.Sequential(
            _conv(w, 2 * w, 4, 2), nn.LeakyReLU(0.2, True), _conv(2 * w, 2 * w), nn.LeakyReLU(0.2, True)
        )
        self.enc2 = nn.Sequential(
            _conv(2 * w, 4 * w, 4, 2), nn.LeakyReLU(0.2, True), _conv(4 * w, 4 * w), nn.LeakyReLU(0.2, True)
        )
        self.up1 = _conv(4 * w, 2 * w)
        self.dec1 = nn.Sequential(nn.LeakyReLU(0.2, True), _conv(2 * w, 2 * w), nn.LeakyReLU(0.2, True))
        self.up0 = _conv(2 * w, w)
        self.dec0 = nn.Sequential(nn.LeakyReLU(0.2, True), _conv(w, w), nn.LeakyReLU(0.2, True))
        self.out = _conv(w, 3)
        nn.init.zeros_(self.out.weight)  # start as the identity: output = input
        assert self.out.bias is not None
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        xp = F.pad(x, (0, pw, 0, ph), mode="reflect" if (ph < h and pw < w) else "replicate") if (ph or pw) else x
        inp = xp * 2 - 1
        e0 = self.enc0(inp)
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        d1 = self.dec1(self.up1(F.interpolate(e2, scale_factor=2, mode="nearest")) + e1)
        d0 = self.dec0(self.up0(F.interpolate(d1, scale_factor=2, mode="nearest")) + e0)
        y = (xp + self.out(d0)).clamp(0.0, 1.0)
        return y[..., :h, :w]
