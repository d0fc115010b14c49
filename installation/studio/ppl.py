"""Perceptual path length (Karras et al. 2019, StyleGAN, sec. 3.2): how smoothly a latent walk changes.

For random pairs of latents and a random ``t`` in [0, 1], the two pictures at ``t`` and
``t + eps`` along the path between them are compared by a feature network; the squared
Euclidean distance of their features, divided by ``eps²`` (``eps = 1e-4``), is one sample.
The figure is the mean over samples after dropping those below the 1st and above the 99th
percentile, as the paper does.

* ``space = "z"``: spherical interpolation (slerp) in z, then the whole generator (PPL in Z).
* ``space = "w"``: linear interpolation (lerp) in w after the mapping network (PPL in W, full
  paths; ``end = True`` takes ``t`` in {0, 1}, the paper's "end" variant).

The paper measures with LPIPS (VGG16 with learned weights); this module takes any feature
function (the command uses the user's Inception v3 state dict, the one ``--features`` loads for
FID), so figures are comparable between models measured the same way, not with the paper's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..walks.wspace import has_w_space

EPS = 1e-4
DRAW = 256  # paths whose pairs and t are drawn at once


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of the directions of ``a`` and ``b`` (unit length, as in the paper)."""
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    d = (a * b).sum(-1, keepdim=True).clamp(-1, 1)
    p = t * torch.acos(d)
    c = F.normalize(b - d * a, dim=-1)
    return F.normalize(a * torch.cos(p) + c * torch.sin(p), dim=-1)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return a + (b - a) * t


def centre_crop(images: torch.Tensor, crop: float) -> torch.Tensor:
    """The middle ``crop`` share of each side (the paper crops faces to their middle)."""
    if crop >= 1.0:
        return images
    h, w = images.shape[-2:]
    ch, cw = max(1, round(h * crop)), max(1, round(w * crop))
    y, x = (h - ch) // 2, (w - cw) // 2
    return images[..., y : y + ch, x : x + cw]


@torch.no_grad()
def path_lengths(
    render: Callable[[torch.Tensor], torch.Tensor],
    features: Callable[[torch.Tensor], torch.Tensor],
    sample: Callable[[int, torch.Generator], torch.Tensor],
    count: int,
    space: str = "z",
    end: bool = False,
    batch: int = 16,
    crop: float = 1.0,
    seed: int = 0,
    eps: float = EPS,
    progress=None,
) -> torch.Tensor:
    """``[count]`` unfiltered samples of ``|f(G(p(t))) - f(G(p(t + eps)))|² / eps²``.

    ``sample(n, rng)`` draws ``[2n, D]`` latents (pairs in consecutive halves) in the space the
    path runs in; ``render`` maps such latents to ``[N, 3, H, W]`` pictures.  Pairs and ``t`` are
    drawn ``DRAW`` paths at a time whatever ``batch`` is (the pictures are made ``batch`` paths
    at a time), so the figure depends on the seed and the count, not on the batch size.
    """
    if space not in ("z", "w"):
        raise ValueError(f"space must be 'z' or 'w', not {space!r}")
    rng = torch.Generator().manual_seed(seed)
    mix = slerp if space == "z" else lerp
    out = []
    for start in range(0, count, DRAW):
        m = min(DRAW, count - start)
        lat = sample(m, rng)
        a_all, b_all = lat[:m], lat[m:]
        shape = (m,) + (1,) * (a_all.dim() - 1)
        t_all = torch.randint(0, 2, shape, generator=rng).float() if end else torch.rand(shape, generator=rng)
        t_all = t_all.to(a_all.device)
        for i in range(0, m, batch):
            a, b, t = a_all[i : i + batch], b_all[i : i + batch], t_all[i : i + batch]
            n = a.shape[0]
            img = render(torch.cat([mix(a, b, t), mix(a, b, t + eps)]))
            f = features(centre_crop(img, crop)).double().flatten(1)
            out.append(((f[:n] - f[n:]) ** 2).sum(1).cpu() / (eps * eps))
            if progress is not None:
                progress.advance(n)
    return torch.cat(out)


def filtered_mean(lengths: torch.Tensor) -> float:
    """Mean of the samples between the 1st and the 99th percentile (both kept), as in the paper."""
    v = lengths.double()
    lo, hi = torch.quantile(v, 0.01), torch.quantile(v, 0.99)
    return float(v[(v >= lo) & (v <= hi)].mean())


def resolve_space(generator: Any, space: str) -> str:
    """``auto`` → ``w`` where the model has a mapping network, else ``z``; a ValueError for a space it lacks."""
    if space == "auto":
        return "w" if has_w_space(generator) else "z"
    if space not in ("z", "w"):
        raise ValueError(f"space must be auto, z or w, not {space!r}")
    if space == "w" and not has_w_space(generator):
        raise ValueError(f"{type(generator).__name__} has no mapping network (no w space); use z")
    return space


@dataclass
class PathLength:
    value: float  # mean within the 1st-99th percentile
    lengths: torch.Tensor  # [count] unfiltered samples
    space: str  # "z" or "w"
    end: bool

    def line(self, name: str, crop: float = 1.0) -> str:
        where = f"{self.lengths.shape[0]} paths in {self.space} ({'end' if self.end else 'full'}), crop {crop:g}"
        return f"PPL {self.value:.6g} ({name}: {where}; 1st-99th percentile; median {float(self.lengths.median()):.6g})"


def model_ppl(
    generator: Any,
    features: Callable[[torch.Tensor], torch.Tensor],
    count: int,
    space: str = "auto",
    end: bool = False,
    batch: int = 16,
    crop: float = 1.0,
    seed: int = 0,
    eps: float = EPS,
    progress=None,
) -> PathLength:
    """The path length of a generator plugin: the one measurement ``ppl``, ``metrics --ppl`` and training use.

    In w the pairs are mapped standard-normal z (truncation 1); in z slerp runs on the unit
    sphere and the point is scaled back to the prior's typical radius ``sqrt(D)`` before the
    generator sees it.  ``features`` gets pictures clamped to [0, 1].
    """
    space = resolve_space(generator, space)
    dim = int(generator.latent_dim)
    device = torch.device(getattr(generator, "device", "cpu"))
    if space == "w":
        from .latents import w_of

        def sample(n: int, rng: torch.Generator) -> torch.Tensor:
            return w_of(generator, torch.randn(2 * n, dim, generator=rng)).to(device)

        def render(lat: torch.Tensor) -> torch.Tensor:
            return generator.synthesize(lat)[:, :3].float()

    else:

        def sample(n: int, rng: torch.Generator) -> torch.Tensor:
            return torch.randn(2 * n, dim, generator=rng)

        def render(lat: torch.Tensor) -> torch.Tensor:
            return generator.generate((lat * dim**0.5).to(device))[:, :3].float()

    lengths = path_lengths(
        render, lambda x: features(x.clamp(0, 1)), sample, count, space, end, batch, crop, seed, eps, progress
    )
    return PathLength(filtered_mean(lengths), lengths, space, end)
