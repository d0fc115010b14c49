"""The ``latents`` walk: slerp through latents read from a file (e.g. your encoded photos).

``installation vae encode PHOTO... --out faces.safetensors`` writes the file; a scene then says
``[scenes.walk] type = "latents"`` with ``file = "faces.safetensors"``.  Timing works like the
built-in slerp walk (``hold``, ``transition``, ``ease``; per-key lists allowed), and the walk
loops back to the first photo.

The ``posterior`` walk keeps the watch scenes on watches: a slerp between two random prior
latents passes through latents the decoder never learned (the midpoint of the worst pair had
0.46 of its endpoints' Laplacian variance; the deblur stage cannot bring that back).  It walks
instead through a bank of posterior means of encoded training watches
(``weights/watch-bank.safetensors``, made by :func:`make_bank`), hopping each time to the nearest
watch not yet visited and returning the same way, so every segment is a short step between two
encoded watches and its midpoint stays about as sharp as its ends (tests/test_vae_posterior_walk.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from installation.api import CheckpointError, LatentSizeError, SeedSlerp, load_weights

BANK = Path(__file__).parent / "weights" / "watch-bank.safetensors"

LATENTS_KEY = "latents"
LATENTS_MODEL = "latents"  # the ``model`` of the file's metadata, when it has one


def read_latents(path: str | Path) -> torch.Tensor:
    """``[K, latent_dim]`` float32 from a safetensors file written by ``installation vae encode``."""
    state, meta = load_weights(path)
    if meta is not None and meta.model != LATENTS_MODEL:
        raise CheckpointError(
            path,
            f"metadata says model {meta.model!r}, expected {LATENTS_MODEL!r} (a file from `installation vae encode`)",
        )
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

    def __init__(
        self,
        latent_dim: int,
        seed: int = 0,
        file: str | None = None,
        hold: float | Sequence[float] = 2.0,
        transition: float | Sequence[float] = 4.0,
        ease: bool = True,
    ):
        if not file:
            raise ValueError('the latents walk needs file = "LATENTS.safetensors" (from `installation vae encode`)')
        keys = read_latents(file)
        if keys.shape[1] != int(latent_dim):
            raise LatentSizeError(file, f"latents are {keys.shape[1]}-d but the generator takes {latent_dim}-d")
        super().__init__(
            latent_dim, seed=seed, seeds=list(range(keys.shape[0])), hold=hold, transition=transition, ease=ease
        )
        self._keys = [k.clone() for k in keys]


def midpoint(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The latent halfway through a slerp walk from ``a`` to ``b`` (the walk's own interpolation)."""
    w = SeedSlerp(a.shape[0], seeds=[0, 1], hold=0.0, transition=1.0)
    w._keys = [a, b]
    return w.latent(0.5)


def chain(bank: torch.Tensor, start: int, count: int, allowed: torch.Tensor | None = None) -> list[int]:
    """Indices of up to ``count`` bank latents, each the nearest not yet visited to the one before
    among the hops ``allowed`` (``[K, K]`` bool; default all), then back the same way (a->b->c->b),
    so the loop closes with allowed steps only.  Stops early at a dead end."""
    count = max(2, min(int(count), bank.shape[0]))
    d = torch.cdist(bank, bank)
    if allowed is not None:
        d = d.masked_fill(~allowed, float("inf"))
    order = [int(start) % bank.shape[0]]
    for _ in range(count - 1):
        row = d[order[-1]].clone()
        row[order] = float("inf")
        if not torch.isfinite(row.min()):
            break
        order.append(int(row.argmin()))
    return order + order[-2:0:-1]


class PosteriorWalk(SeedSlerp):
    """Slerp through a nearest-neighbour chain of encoded training images (the ``posterior`` walk).

    Options: ``file`` (a latents file; default the shipped watch bank), ``count`` (distinct
    watches visited, default 6), ``hold``, ``transition``, ``ease`` as for slerp.  ``seed`` picks
    the first watch.
    """

    def __init__(
        self,
        latent_dim: int,
        seed: int = 0,
        file: str | None = None,
        count: int = 6,
        hold: float = 2.0,
        transition: float = 4.0,
        ease: bool = True,
    ):
        bank, allowed = read_bank(file or BANK)
        if bank.shape[1] != int(latent_dim):
            raise LatentSizeError(
                file or BANK,
                f"latents are {bank.shape[1]}-d but the generator takes {latent_dim}-d"
                + ("" if file else " (the shipped bank fits the shipped watch model only: give file =)"),
            )
        g = torch.Generator().manual_seed(int(seed))
        starts = torch.randperm(bank.shape[0], generator=g).tolist()
        order = []
        for start in starts:  # the seed's first watch with enough allowed hops around it
            order = chain(bank, start, count, allowed)
            if len(set(order)) >= min(count, bank.shape[0]):
                break
        super().__init__(
            latent_dim, seed=seed, seeds=list(range(len(order))), hold=hold, transition=transition, ease=ease
        )
        self._keys = [bank[i].clone() for i in order]
        self.order = order


SHARP_KEY = "sharp"  # [K, K] uint8: 1 where the slerp midpoint of the two latents is as sharp as both ends


def read_bank(path: str | Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Latents and, for banks made by :func:`make_bank`, the hops whose midpoints stay sharp."""
    z = read_latents(path)
    state, _ = load_weights(path)
    sharp = state.get(SHARP_KEY)
    if sharp is not None and tuple(sharp.shape) != (z.shape[0], z.shape[0]):
        raise CheckpointError(path, f"{SHARP_KEY!r} must be [{z.shape[0]}, {z.shape[0]}], got {tuple(sharp.shape)}")
    return z, (None if sharp is None else sharp.bool())


def laplacian_variance(frames: torch.Tensor) -> torch.Tensor:
    """Sharpness of ``[N, 3, H, W]`` frames: the variance of the grey image's Laplacian."""
    grey = frames.mean(1, keepdim=True)
    k = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3)
    return torch.nn.functional.conv2d(grey, k).flatten(1).var(1)


def make_bank(
    count: int = 256, seed: int = 0, checkpoint: str | Path | None = None, neighbours: int = 12, threshold: float = 0.9
) -> dict[str, torch.Tensor]:
    """Posterior means of ``count`` painted training watches (the data set the model learned), and
    which hops between near neighbours keep their midpoint at least ``threshold`` as sharp as the
    less sharp end (decoded by the model the bank is for)."""
    import numpy as np

    from .generator import VAEGenerator
    from .watches import draw_watch

    gen = VAEGenerator(checkpoint, "cpu")
    rng = np.random.default_rng(seed)
    imgs = np.stack([draw_watch(gen.resolution[0], rng) for _ in range(count)])
    z = gen.encode(torch.from_numpy(imgs).float().permute(0, 3, 1, 2) / 255)
    sharpness = laplacian_variance(gen.generate(z))
    near = torch.cdist(z, z).topk(neighbours + 1, largest=False).indices[:, 1:]
    sharp = torch.zeros(count, count, dtype=torch.uint8)
    for i in range(count):
        mids = torch.stack([midpoint(z[i], z[j]) for j in near[i].tolist()])
        ratio = laplacian_variance(gen.generate(mids)) / torch.minimum(sharpness[i], sharpness[near[i]])
        sharp[i, near[i][ratio >= threshold]] = 1
    sharp = sharp & sharp.T  # a hop is walked both ways
    return {LATENTS_KEY: z, SHARP_KEY: sharp}


if __name__ == "__main__":  # python -m plugins.vae.walk: rewrite the shipped bank
    from installation.api import WeightsMeta, save_weights

    state = make_bank()
    z = state[LATENTS_KEY]
    meta = WeightsMeta(
        model=LATENTS_MODEL,
        config={"latent_dim": int(z.shape[1])},
        provenance={
            "source": "plugins.vae.watches.draw_watch",
            "count": int(z.shape[0]),
            "seed": 0,
            "checkpoint": "shipped",
            "neighbours": 12,
            "threshold": 0.9,
            "sharp_hops": int(state[SHARP_KEY].sum()),
        },
    )
    print(save_weights(BANK, state, meta), int(state[SHARP_KEY].sum()), "sharp hops")
