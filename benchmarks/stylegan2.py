"""StyleGAN2 inference speed: images per second at batch 1 and 8.

Configs: the shipped wave model (its own weights), and randomly initialised 256² and 1024²
generators with the paper's default channel counts (channel_base 32768, max 512, 8 mapping
layers, z/w 512).  Random weights cost the same as trained ones.  Each measurement runs one
warm-up batch and then ``--iters`` timed batches (keep it tiny for 1024² on a CPU).

On CUDA the generator runs as a show would: fp16 under autocast with fp32 demodulation,
channels_last, conv clamp ±256; ``--precision fp32`` compares.  On the CPU ``--threads`` sets
torch's thread count (default 1: the machines this was written on share 2 cores).

Run: ``python benchmarks/stylegan2.py [--configs shipped,256,1024] [--batches 1,8] [--iters 2] [--device cpu]``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plugins.stylegan2.generator import StyleGAN2Generator  # noqa: E402
from plugins.stylegan2.loader import load_stylegan2  # noqa: E402
from plugins.stylegan2.network import G2Config, StyleGAN2  # noqa: E402


def build(name: str, device: str):
    if name == "shipped":
        net, _ = load_stylegan2(None)
        return net
    res = int(name)
    clamp = 256.0 if device.startswith("cuda") else None
    return StyleGAN2(G2Config(resolution=res, conv_clamp=clamp))


def measure(gen: StyleGAN2Generator, batch: int, iters: int) -> float:
    z = torch.randn(batch, gen.latent_dim)
    sync = torch.cuda.synchronize if gen.device.type == "cuda" else (lambda: None)
    gen.generate(z)  # warm-up (cudnn autotune, allocator)
    sync()
    t0 = time.perf_counter()
    for _ in range(iters):
        gen.generate(z)
    sync()
    return batch * iters / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="shipped,256,1024")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, precision {args.precision}")
    print(f"{'config':>8} {'res':>5} {'params':>8} {'batch':>5} {'img/s':>9} {'ms/img':>9}")
    for name in args.configs.split(","):
        net = build(name, args.device)
        gen = StyleGAN2Generator(net, device=args.device, precision=args.precision, truncation=0.8)
        params = sum(p.numel() for p in net.parameters()) / 1e6
        iters = 1 if net.cfg.resolution >= 1024 and args.device == "cpu" else args.iters
        for batch in (int(b) for b in args.batches.split(",")):
            ips = measure(gen, batch, iters)
            print(f"{name:>8} {net.cfg.resolution:>5} {params:>7.1f}M {batch:>5} {ips:>9.2f} {1000 / ips:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
