"""WGAN bikes: inference speed and the mode-collapse figure of the shipped weights.

    python -m benchmarks.wgan [--checkpoint PATH] [--threads 1]   (from the repository root)

Prints generator img/s at batch 1, 8 and 64, and the mean pairwise RMS distance between
images for 64 random latents next to the same figure for 64 procedural training bikes: a
collapsed generator scores far below the data; a healthy one is close to it.  Also reports
the nearest-neighbour distance (generated image → closest other generated image): near 0
means duplicates.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from installation.train.metrics import spread
from plugins.wgan.bikes import draw_bike
from plugins.wgan.loader import WGANGenerator


def img_per_s(gen: WGANGenerator, batch: int, seconds: float = 2.0) -> float:
    z = torch.randn(batch, gen.latent_dim)
    gen.generate(z)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        gen.generate(z)
        n += batch
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gen = WGANGenerator(args.checkpoint)
    print(f"weights {gen.path}  z_dim {gen.latent_dim}  resolution {gen.resolution}  threads {args.threads}")
    for b in (1, 8, 64):
        print(f"generate batch {b:3d}: {img_per_s(gen, b):8.1f} img/s")
    z = torch.randn(64, gen.latent_dim, generator=torch.Generator().manual_seed(0))
    fake = spread(gen.generate(z))
    real = np.stack([draw_bike(np.random.default_rng([12345, i]), gen.resolution[0]) for i in range(64)])
    ref = spread(torch.from_numpy(real).permute(0, 3, 1, 2).float() / 255)
    print(f"mean pairwise RMS distance: generated {fake.mean:.4f}  procedural bikes {ref.mean:.4f}")
    print(f"mean nearest-neighbour RMS distance: generated {fake.nearest:.4f}  procedural bikes {ref.nearest:.4f}")


if __name__ == "__main__":
    main()
