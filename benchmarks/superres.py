"""Super-resolution: PSNR against bicubic and Lanczos on held-out images, and speed.

    python -m benchmarks.superres [--threads 1]   (from the repository root)

Held-out images are procedural shapes/text and bikes drawn with seeds that the training data
never used, reduced with the same antialiased bicubic the network was trained to undo.  Speed
is img/s for 64² inputs (the bikes scene) at batch 1 and 8, for the shipped ESPCN and Lanczos.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from installation.train.metrics import psnr
from plugins.superres.data import draw_shapes
from plugins.superres.model import downscale
from plugins.superres.stage import make_superres
from plugins.wgan.bikes import draw_bike


def held_out(n: int, size: int) -> dict[str, torch.Tensor]:
    def stack(imgs):
        return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float() / 255

    return {
        "shapes": stack([draw_shapes(np.random.default_rng([4242, 1, i]), size) for i in range(n)]),
        "bikes": stack([draw_bike(np.random.default_rng([4242, i]), size) for i in range(n)]),
    }


def img_per_s(stage, batch: int, size: int = 64, seconds: float = 2.0) -> float:
    x = torch.rand(batch, 3, size, size)
    stage.process(x)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        stage.process(x)
        n += batch
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--count", type=int, default=48)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = held_out(args.count, 128)
    for scale in (2, 4):
        espcn, lanczos = make_superres(scale=scale), make_superres(scale=scale, method="lanczos")
        for name, images in data.items():
            low = downscale(images, scale)
            bic = psnr(F.interpolate(low, scale_factor=scale, mode="bicubic", align_corners=False), images)
            print(f"x{scale} {name:6s} PSNR dB: espcn {psnr(espcn.process(low), images):6.2f}  "
                  f"bicubic {bic:6.2f}  lanczos {psnr(lanczos.process(low), images):6.2f}")
        for b in (1, 8):
            print(f"x{scale} 64² input batch {b}: espcn {img_per_s(espcn, b):7.1f} img/s  lanczos {img_per_s(lanczos, b):7.1f} img/s")


if __name__ == "__main__":
    main()
