"""Image-quality figures shared by every model's tests and benchmarks.

One definition each, so a PSNR or a "samples differ" figure means the same thing for the deblur
stage, super-resolution and any plugin that follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over the batch of each image's PSNR in dB; ``pred`` is clamped to [0, 1] as it would be shown."""
    mse = (pred.float().clamp(0, 1) - target.float()).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return float((10 * torch.log10(1.0 / mse)).mean())


@dataclass(frozen=True)
class Spread:
    """How different a batch of images is from itself: the mode-collapse check.

    Distances are RMS pixel differences in [0, 1] units. ``mean`` is over all pairs, ``min``
    the closest pair (near-duplicates), ``nearest`` the mean distance to each image's nearest
    other image (variety in detail).
    """

    mean: float
    min: float
    nearest: float


def spread(images: torch.Tensor) -> Spread:
    flat = images.detach().flatten(1).float()
    n = flat.shape[0]
    if n < 2:
        raise ValueError("spread needs at least two images")
    d = torch.cdist(flat, flat) / flat.shape[1] ** 0.5
    mean = float(d.sum() / (n * (n - 1)))  # the diagonal is zero
    nearest = d.fill_diagonal_(float("inf")).min(1).values
    return Spread(mean, float(nearest.min()), float(nearest.mean()))
