"""Figures for the VAE watches plugin: img/s, mode-collapse distances, deblur PSNR.

    python -m benchmarks.vae [--threads 1] [--checkpoint VAE.safetensors] [--deblur DEBLUR.safetensors]

Prints VAE decode (generate), encode and deblur throughput at batch 1 and 8 on the CPU (and
CUDA if present), the mean and minimum pairwise RMS distance of 64 samples from seeds 0..63
(compared with 64 real procedural watch faces), and the deblur PSNR on held-out watch faces
blurred 3 px, against the blurred input.  Timings vary with machine load: run it alone.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from installation.walks.slerp import seed_latent
from installation.train.metrics import psnr, spread
from plugins.vae.deblur import gaussian_blur, sigma_for_blur
from plugins.vae.generator import DeblurStage, VAEGenerator
from plugins.vae.watches import draw_watch


def rate(fn, batch: int, seconds: float = 2.0) -> float:
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += batch
    return n / (time.perf_counter() - t0)


def watches(n: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.stack([draw_watch(64, rng) for _ in range(n)])).permute(0, 3, 1, 2).float() / 255


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--deblur", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    real = watches(128, 987654)
    for dev in devices:
        gen = VAEGenerator(args.checkpoint, dev)
        stage = DeblurStage(dev, args.deblur)
        sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
        for b in (1, 8):
            z = torch.stack([seed_latent(s, gen.latent_dim) for s in range(b)]).to(dev)
            frames = gen.generate(z)
            imgs = real[:b].to(dev)
            r_gen = rate(lambda: (gen.generate(z), sync()), b)
            r_enc = rate(lambda: (gen.encode(imgs), sync()), b)
            r_deb = rate(lambda: (stage.process(frames), sync()), b)
            r_both = rate(lambda: (stage.process(gen.generate(z)), sync()), b)
            print(f"{dev} batch {b}: vae generate {r_gen:7.1f} img/s  encode {r_enc:7.1f} img/s  "
                  f"deblur 64² {r_deb:7.1f} img/s  vae+deblur {r_both:7.1f} img/s  ({args.threads} thread(s))")
    gen = VAEGenerator(args.checkpoint, "cpu")
    samples = gen.generate(torch.stack([seed_latent(s, gen.latent_dim) for s in range(64)]))
    fake, ref = spread(samples), spread(real[:64])
    print(f"mode collapse: samples mean pairwise RMS {fake.mean:.3f} (min {fake.min:.3f}); "
          f"real watches {ref.mean:.3f} (min {ref.min:.3f})")
    recon = gen.generate(gen.encode(real))
    print(f"VAE reconstruction of held-out watches: PSNR {psnr(recon, real):.2f} dB")
    stage = DeblurStage("cpu", args.deblur)
    blurred = gaussian_blur(real, sigma_for_blur(3.0))
    restored = stage.process(blurred)
    print(f"deblur on {len(real)} held-out watches blurred 3 px: PSNR blurred {psnr(blurred, real):.2f} dB → "
          f"restored {psnr(restored, real):.2f} dB (gain {psnr(restored, real) - psnr(blurred, real):+.2f} dB)")
    print(f"VAE output → deblur: reconstruction PSNR {psnr(recon, real):.2f} dB → {psnr(stage.process(recon), real):.2f} dB")


if __name__ == "__main__":
    main()
