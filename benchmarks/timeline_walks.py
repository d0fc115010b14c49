"""Cost of evaluating the timeline and the walks (they run every frame / every keyframe).

    python -m benchmarks.timeline_walks   (from the repository root)

Prints microseconds per ``Timeline.layers_at`` at increasing show times (seeking a month into
a show must cost about what the first minute does) and per ``walk.latent`` for each walk.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from installation.show.loader import load_show
from installation.show.timeline import Timeline
from installation.walks import MomentumWalk, SeedSlerp, SteeredWalk
from installation.walks.loops import make_loop, make_noise

ROOT = Path(__file__).resolve().parent.parent


def per_call(fn, n: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    torch.set_num_threads(1)
    for name in ("default.toml", "curator-timeline.toml", "performance.toml"):
        tl = Timeline(load_show(ROOT / "shows" / name))
        tl.go(100.0)
        row = []
        for label, t in (("1 min", 60.0), ("1 day", 86_400.0), ("30 days", 30 * 86_400.0)):
            row.append(f"{label} {per_call(lambda: tl.layers_at(t + 0.123), 2000):7.1f} us")
        print(f"timeline {name:24s} " + "  ".join(row))
    dim = 512
    walks = {
        "slerp": SeedSlerp(dim, 0, seeds=[1, 2, 3, 4], hold=1.0, transition=3.0),
        "loop": make_loop(dim, 0, period=30),
        "noise": make_noise(dim, 0, period=60, octaves=6),
        "random": MomentumWalk(dim, 0),
        "steered": SteeredWalk(dim, 0),
    }
    for name, walk in walks.items():
        ctr = iter(range(10**9))
        us = per_call(lambda: walk.latent(next(ctr) * 0.01, {"/walk/speed": 1.0}), 2000)
        print(f"walk {name:8s} latent_dim {dim}: {us:7.1f} us per latent")


if __name__ == "__main__":
    main()
