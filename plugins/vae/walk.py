"""The ``latents`` walk: slerp through latents read from a file (e.g. your encoded photos).

``installation vae encode PHOTO... --out faces.safetensors`` writes the file; a scene then says
``[scenes.walk] type = "latents"`` with ``file = "faces.safetensors"``.  Timing works like the
built-in slerp walk (``hold``, ``transition``, ``ease``; per-key lists allowed), and the walk
loops back to the first photo.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from installation.api import CheckpointError, SeedSlerp, load_weights

LATENTS_KEY = "latents"
LATENTS_MODEL = "latents"  # the ``model`` of the file's metadata, when it has one


def read_latents(path: str | Path) -> torch.Tensor:
    """``[K, latent_dim]`` float32 from a safetensors file written by ``installation vae encode``."""
    state, meta = load_weights(path)
    if meta is not None and meta.model != LATENTS_MODEL:
        raise CheckpointError(path, f"metadata says model {meta.model!r}, expected {LATENTS_MODEL!r} (a file from `installation vae encode`)")
    if LATENTS_KEY not in state:
        raise CheckpointError(path, f"no {LATENTS_KEY!r} tensor (found {', '.join(sorted(state)) or 'nothing'})")
    z = state[LATENTS_KEY].float()
    if z.dim() != 2 or z.shape[0] < 1:
        raise CheckpointError(path, f"{LATENTS_KEY!r} must be [K, latent_dim], got {tuple(z.shape)}")
    if not bool(torch.isfinite(z).all()):
        raise CheckpointError(path, "latents contain NaN or infinite values")
    return z


class LatentFileWalk(SeedSlerp):
    """:class:`~installation.walks.slerp.SeedSlerp` whose keyframes come from a latents file."""

    def __init__(self, latent_dim: int, seed: int = 0, file: str | None = None,
                 hold: float | Sequence[float] = 2.0, transition: float | Sequence[float] = 4.0, ease: bool = True):
        if not file:
            raise ValueError("the latents walk needs file = \"LATENTS.safetensors\" (from `installation vae encode`)")
        keys = read_latents(file)
        if keys.shape[1] != int(latent_dim):
            raise CheckpointError(file, f"latents are {keys.shape[1]}-d but the generator takes {latent_dim}-d")
        super().__init__(latent_dim, seed=seed, seeds=list(range(keys.shape[0])), hold=hold, transition=transition, ease=ease)
        self._keys = [k.clone() for k in keys]
