"""Display-loop frame rate, headless (EGL), with the generator worker running in the background.

Prints frames per second of App.frame() (compose) plus one present pass (what a window costs) at 1280x720 and 1920x1080, with and
without reading the output back (what recording costs), and keyframes the generator delivered.  Then the upscale filter's cost: ms per composed 1080p frame
of a 64x64 keyframe pair crossfading (cover), Catmull-Rom bicubic against the bilinear sampler,
alternating in the same run.

    python benchmarks/compositor.py [--seconds 5] [--size 256]
"""
from __future__ import annotations

import argparse
import time

import torch

from installation.app import App
from installation.clock import RealClock
from installation.plugins import make_plugin_manager
from installation.engine.buffer import Keyframe
from installation.render.compositor import Compositor, LayerDraw
from installation.render.context import create_headless_context
from installation.show.loader import parse_show

SHOW = """
[output]
width = {w}
height = {h}
[[scenes]]
name = "bench"
duration = 3600
keyframe_rate = 3
[scenes.generator]
plugin = "noisefield"
size = {size}
"""


def measure(ctx, registry, w, h, size, seconds, readback):
    show = parse_show(SHOW.format(w=w, h=h, size=size))
    comp = Compositor(ctx, (w, h))
    app = App(show, registry, comp, RealClock(), device="cpu")
    while app.runtimes and not next(iter(app.runtimes.values())).worker.produced or not app.runtimes:
        app.frame()  # warm up until the first keyframe exists
        time.sleep(0.01)
    ctx.finish()
    frames, t0 = 0, time.perf_counter()
    produced0 = next(iter(app.runtimes.values())).worker.produced
    while time.perf_counter() - t0 < seconds:
        app.frame()
        if readback:
            comp.read_output()  # a recording: the present pass and the readback
        else:
            comp.ensure_output()  # one present pass, as a window's present to its screen
            ctx.finish()
        frames += 1
    dt = time.perf_counter() - t0
    produced = next(iter(app.runtimes.values())).worker.produced - produced0
    app.close()
    return frames / dt, produced / dt


def filter_cost(ctx, w=1920, h=1080, src=64, frames=60, rounds=3):
    """ms/frame of compose (+ finish) per filter, alternating so both see the same machine load."""
    a = Keyframe(0, 0.0, torch.rand(3, src, src), arrival=0.0)
    b = Keyframe(1, 0.0, torch.rand(3, src, src), arrival=0.0)
    comps = {f: Compositor(ctx, (w, h), filter=f) for f in ("bilinear", "catmull-rom")}
    best = {f: float("inf") for f in comps}
    for _ in range(rounds):
        for f, comp in comps.items():
            comp.compose([LayerDraw(a, b, 0.5)])  # upload, warm
            ctx.finish()
            t0 = time.perf_counter()
            for i in range(frames):
                comp.compose([LayerDraw(a, b, 0.5 + 0.4 * (i % 2))])
            ctx.finish()
            best[f] = min(best[f], (time.perf_counter() - t0) / frames * 1000)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--size", type=int, default=256, help="generator resolution")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ctx = create_headless_context()
    registry = make_plugin_manager()
    print(f"renderer: {ctx.info['GL_RENDERER']}; generator noisefield {args.size}px on cpu, 3 keyframes/s requested")
    for w, h in [(1280, 720), (1920, 1080)]:
        for readback in (False, True):
            fps, kps = measure(ctx, registry, w, h, args.size, args.seconds, readback)
            print(f"{w}x{h} {'with readback   ' if readback else 'display only    '} {fps:7.1f} fps   generator {kps:5.1f} keyframes/s")
    cost = filter_cost(ctx)
    print("1920x1080 compose of a 64x64 crossfade, best of 3 x 60 frames: "
          + "   ".join(f"{f} {ms:6.2f} ms/frame" for f, ms in cost.items()))


if __name__ == "__main__":
    main()
