"""Compact sub-pixel super-resolution (ESPCN class) and a Lanczos resampler, both pure torch.

ESPCN (Shi et al., 2016) runs every convolution at the *low* resolution and only at the end
rearranges ``3·s²`` channels into an ``s``× larger image (pixel shuffle), which is why it is
cheap enough to run on every keyframe.  Here the network predicts a *residual* over bicubic
upsampling: it starts out exactly as good as bicubic and only has to learn the missing detail,
so short training on a CPU already beats bicubic.

``lanczos_resize`` is the fallback stage: a separable Lanczos-3 filter written as two small
matrix products, so it runs on whatever device the frames are on (no round trip through cv2).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SCALES = (2, 4)


class ESPCN(nn.Module):
    def __init__(self, scale: int = 2, features: int = 64, mid: int = 32, layers: int = 3):
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale}")
        if layers < 2:
            raise ValueError("ESPCN needs at least 2 feature layers")
        self.scale, self.features, self.mid, self.layers = int(scale), int(features), int(mid), int(layers)
        body: list[nn.Module] = [nn.Conv2d(3, features, 5, padding=2), nn.PReLU(features)]
        ch = features
        for _ in range(layers - 2):
            body += [nn.Conv2d(ch, mid, 3, padding=1), nn.PReLU(mid)]
            ch = mid
        body += [nn.Conv2d(ch, mid, 3, padding=1), nn.PReLU(mid), nn.Conv2d(mid, 3 * scale * scale, 3, padding=1)]
        self.body = nn.Sequential(*body)
        self.shuffle = nn.PixelShuffle(scale)
        last = self.body[-1]
        assert isinstance(last, nn.Conv2d)
        nn.init.zeros_(last.weight)  # start as plain bicubic
        assert last.bias is not None
        nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 3, h, w]`` in [0, 1] → ``[N, 3, s·h, s·w]`` (not clamped, for training)."""
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return base + self.shuffle(self.body(x * 2 - 1))

    def config(self) -> dict:
        return {"scale": self.scale, "features": self.features, "mid": self.mid, "layers": self.layers}


#: reductions the network can learn to invert: what made the low-resolution frames it will see
DEGRADATIONS = ("bicubic", "area")


def check_degradation(degradation: str) -> str:
    """``degradation`` if it is one the network can learn; ValueError naming the choices otherwise."""
    if degradation not in DEGRADATIONS:
        raise ValueError(f"degradation must be one of {', '.join(DEGRADATIONS)}, got {degradation!r}")
    return degradation


def downscale(x: torch.Tensor, scale: int, degradation: str = "bicubic") -> torch.Tensor:
    """The degradation the network learns to invert: antialiased bicubic reduction by ``scale``,
    or ``"area"`` averaging (how the wave data and so the wave model's frames are made)."""
    h, w = x.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"image size {h}x{w} is not divisible by scale {scale}")
    if check_degradation(degradation) == "area":
        return F.avg_pool2d(x, scale)
    return F.interpolate(x, size=(h // scale, w // scale), mode="bicubic", align_corners=False, antialias=True).clamp(
        0, 1
    )


def _lanczos_matrix(n_in: int, n_out: int, a: int = 3, device=None) -> torch.Tensor:
    """``[n_out, n_in]`` resampling weights (pixel centres aligned, like cv2 and PIL)."""
    scale = n_in / n_out
    support = a * max(scale, 1.0)  # widen the kernel when reducing (antialias)
    stretch = max(scale, 1.0)
    centres = (torch.arange(n_out, dtype=torch.float64) + 0.5) * scale - 0.5
    taps = torch.arange(-math.ceil(support), math.ceil(support) + 1, dtype=torch.float64)
    idx = centres.floor()[:, None] + taps[None, :]
    d = (centres[:, None] - idx) / stretch
    wts = torch.sinc(d) * torch.sinc(d / a) * (d.abs() < a)
    idx = idx.clamp(0, n_in - 1).long()  # replicate the border
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    m.scatter_add_(1, idx, wts)
    m = m / m.sum(1, keepdim=True)
    return m.to(device=device, dtype=torch.float32)


def lanczos_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Separable Lanczos-3 resize of ``[N, C, H, W]`` to ``size`` (h, w), on ``x``'s device."""
    h, w = x.shape[-2:]
    mh = _lanczos_matrix(h, size[0], device=x.device)
    mw = _lanczos_matrix(w, size[1], device=x.device)
    return torch.einsum("oh,nchw,pw->ncop", mh, x.float(), mw)
