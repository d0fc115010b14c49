"""Projection: the latent that reproduces a picture, so a walk can start from an artist's photo.

* A generator with a mapping network (StyleGAN2): w+ (one w per layer) is optimised with Adam
  from the mean w toward the picture under a pixel loss (mean squared error plus a quarter of
  it measured on 2x downsampled images, which pulls the large shapes first), with a learning
  rate that ramps down at the end.  The body of ``synthesize`` is run with gradients (its
  ``no_grad`` decorator unwrapped); the network's weights stay frozen.
* A generator with ``encode`` (the VAE): the posterior mean of its encoder, then refined by
  Adam on z through the frozen decoder (its ``decode``, ``generate`` with gradients).

PSNR (dB, on [0, 1] pixels) says how close the result came; a picture the model made itself
comes back at 25 dB or more (tests/test_studio_project.py).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..walks.wspace import has_w_space


@dataclass
class Projection:
    frame: torch.Tensor  # [3, H, W] the model's picture of the result, [0, 1], CPU
    psnr: float
    z: torch.Tensor | None  # [latent_dim] when the model has an encoder
    w: torch.Tensor | None  # [num_ws, w_dim] for a mapping-network model
    steps: int


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(F.mse_loss(a.float().clamp(0, 1), b.float().clamp(0, 1)))
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def can_project(generator: Any) -> bool:
    return has_w_space(generator) or callable(getattr(generator, "encode", None))


def fit_target(image: torch.Tensor, resolution: tuple[int, int]) -> torch.Tensor:
    """``[3, h, w]`` [0, 1] → ``[1, 3, H, W]`` at the model's size (centre crop to its aspect, area resize)."""
    img = image[:3].float().unsqueeze(0)
    h, w = img.shape[-2:]
    th, tw = resolution
    s = max(th / h, tw / w)
    nh, nw = max(th, round(h * s)), max(tw, round(w * s))
    img = F.interpolate(img, size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
    y, x = (nh - th) // 2, (nw - tw) // 2
    return img[..., y : y + th, x : x + tw].clamp(0, 1)


def _lr(lr: float, i: int, steps: int) -> float:
    """Constant, then the last quarter of the steps ramps down along a cosine."""
    ramp = min(1.0, (1 - i / steps) / 0.25)
    return lr * (0.5 - 0.5 * math.cos(math.pi * ramp)) if ramp < 1 else lr


def optimise(
    render: Callable[[torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    target: torch.Tensor,
    steps: int,
    lr: float,
    progress=None,
    best: float = -1.0,
) -> tuple[torch.Tensor, float]:
    """Adam on ``start`` so that ``render(latent)`` matches ``target``: (best latent, its PSNR).

    The latent kept is the one that rendered the best picture, i.e. the value *before* the step
    that picture's gradient then took (the step after it may overshoot).  ``best`` is the score
    the start already has (the encoder mean's), so the result is never worse than the start.
    """
    x = start.detach().clone().requires_grad_(True)
    best_x = start.detach().clone()
    opt = torch.optim.Adam([x], lr=lr, betas=(0.9, 0.999))
    small = F.avg_pool2d(target, 2)
    for i in range(steps):
        for g in opt.param_groups:
            g["lr"] = _lr(lr, i, steps)
        rendered_from = x.detach().clone()
        with torch.enable_grad():
            img = render(x)
            score = psnr(img.detach()[0], target[0])  # scored before the step (img may be a view of x)
            loss = F.mse_loss(img, target) + 0.25 * F.mse_loss(F.avg_pool2d(img, 2), small)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if score > best:
            best, best_x = score, rendered_from
        if progress is not None:
            progress.advance(1, f"PSNR {best:.1f} dB")
    return best_x, best


def project(
    generator: Any, target: torch.Tensor, steps: int = 400, lr: float = 0.08, progress=None, seed: int = 0
) -> Projection:
    """The latent of ``target`` (``[1, 3, H, W]`` at the model's size, [0, 1])."""
    if callable(getattr(generator, "encode", None)) and not has_w_space(generator):
        return _refine_z(generator, target, steps, lr, progress)
    if not has_w_space(generator):
        raise ValueError(
            f"{type(generator).__name__} can be projected into neither w (no mapping network) nor z (no encoder)"
        )
    synth = inspect.unwrap(type(generator).synthesize)  # the body, with gradients
    device = torch.device(getattr(generator, "device", "cpu"))
    num_ws, w_dim = int(generator.num_ws), int(generator.w_dim)
    mean = generator.mean_w().float().to(device).reshape(-1)[-w_dim:]
    torch.manual_seed(seed)
    best_w, _ = optimise(
        lambda w: synth(generator, w), mean.expand(1, num_ws, w_dim), target.to(device), steps, lr, progress
    )
    with torch.no_grad():
        frame = generator.synthesize(best_w)[0, :3].float().clamp(0, 1).cpu()
    return Projection(frame, psnr(frame, target[0].cpu()), None, best_w[0].cpu(), steps)


def _refine_z(generator: Any, target: torch.Tensor, steps: int, lr: float, progress=None) -> Projection:
    """The encoder mean, then (when the model can ``decode`` with gradients) z refined by Adam.

    An amortised encoder lands near, not on, the latent of a picture (about 21.6 dB for the
    shipped VAE on its own pictures); a few hundred steps of the same pixel loss as the w path,
    through the frozen decoder, close the rest.  The best z seen is kept, so refinement never
    ends worse than the encoder's guess.
    """
    device = torch.device(getattr(generator, "device", "cpu"))
    target = target.to(device).clone()  # a normal tensor even when made under inference_mode
    z0 = generator.encode(target)[:1].float().to(device)
    with torch.no_grad():
        frame0 = generator.generate(z0)[0, :3].float().clamp(0, 1)
    decode = getattr(generator, "decode", None)
    if not callable(decode) or steps == 0:
        if progress is not None:
            progress.advance(progress.total - progress.done)
        return Projection(frame0.cpu(), psnr(frame0, target[0]), z0[0].cpu(), None, 1)
    best_z, _ = optimise(lambda z: decode(z)[:, :3], z0, target, steps, lr, progress, psnr(frame0, target[0]))
    with torch.no_grad():
        frame = generator.generate(best_z)[0, :3].float().clamp(0, 1).cpu()
    return Projection(frame, psnr(frame, target[0].cpu()), best_z[0].cpu(), None, steps)
