"""The latent a seed walk plays for seed N, batched: what a sheet cell and a bank entry hold.

A walk's ``seeds = [N]`` keyframe is ``seed_latent(N)`` (z); on a generator with a mapping
network the walk runs in w (``space = "auto"``): z mapped without truncation, then truncated
toward the mean w by the scene's ``truncation``.  The frame is ``synthesize(w)`` there and
``generate(z)`` elsewhere, exactly as :class:`installation.engine.source.KeyframeSource` makes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..walks.named import seed_latent
from ..walks.wspace import has_w_space, map_z, truncate


def seed_z(seeds: Sequence[int], dim: int) -> torch.Tensor:
    """``[N, dim]``: the z of each seed."""
    return torch.stack([seed_latent(int(s), dim) for s in seeds])


def w_of(generator: Any, z: torch.Tensor, truncation: float | None = None) -> torch.Tensor:
    """``[N, num_ws, w_dim]``: z carried into w as a walk does (truncation after mapping)."""
    w = map_z(generator, z, 1.0)
    if truncation is None or truncation == 1.0:
        return w
    mean = generator.mean_w().float().cpu().reshape(-1)[-int(generator.w_dim) :]
    return truncate(w, mean, float(truncation))


@torch.no_grad()
def frames_of(generator: Any, z: torch.Tensor, truncation: float | None = None) -> torch.Tensor:
    """``[N, 3, H, W]`` float [0, 1] on the CPU: the frames a walk shows for these z."""
    if has_w_space(generator):
        frames = generator.synthesize(w_of(generator, z, truncation).to(generator.device))
    else:
        if truncation is not None and truncation != 1.0:
            raise ValueError(
                f"truncation needs a generator with a mapping network (w space); {type(generator).__name__} has none"
            )
        frames = generator.generate(z.to(generator.device))
    return frames[:, :3].float().clamp(0, 1).cpu()
