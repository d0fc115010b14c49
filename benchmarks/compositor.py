"""Display-loop frame rate, headless (EGL), with the generator worker running in the background.

Prints frames per second of App.frame() (compose) plus one present pass (what a window costs) at 1280x720 and 1920x1080, with and
without reading the output back (what recording costs), and keyframes the generator delivered.  Then the upscale filter's cost: ms per composed 1080p frame
of a 64x64 keyframe pair crossfading (cover), Catmull-Rom bicubic against the bilinear sampler,
alternating in the same run.

    python benchmarks/compositor.py [--seconds 5] [--size 256]

``--live SECONDS`` instead measures the live loop's promise (issue 19): the runner's own loop at
1920x1080, 30 fps, with the shipped StyleGAN2 waves model and its superres chain in a worker
process (4 keyframes/s asked, far fewer frames than the display draws), each frame presented to
a 1080p framebuffer and finished (what a window's present and flip cost, on llvmpipe through EGL).
It prints ``1920x1080 <generator> median X ms p99 Y ms dropped N``: X and Y are the intervals
between consecutive presentations; an interval of k display periods (rounded) left k-1 slots
showing the previous frame again, and those slots are ``dropped``.  Run it against another tree
with ``PYTHONPATH=/that/tree python benchmarks/compositor.py --live 60``.
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


LIVE_SHOW = """
[output]
width = 1920
height = 1080
fps = 30
[[scenes]]
name = "swell"
duration = 3600
keyframe_rate = 4
truncation = 0.8
trim = 0.08
[scenes.generator]
plugin = "stylegan2"
[scenes.walk]
type = "loop"
period = 120
harmonics = 2
[[scenes.post]]
stage = "superres"
scale = 4
method = "espcn-waves"
[[scenes.post]]
stage = "levels"
contrast = 1.05
"""


class _Presenter:
    """Stands in for the window: presents each frame to a 1080p framebuffer, finishes, notes the time."""

    def __init__(self, ctx, size):
        self.ctx = ctx
        self.fbo = ctx.framebuffer(color_attachments=[ctx.texture(size, 4)])
        self.size = size
        self.times: list[float] = []

    def write(self, frame) -> None:
        frame.present(self.fbo, self.size)
        self.ctx.finish()
        self.times.append(time.perf_counter())


class _Monitor:
    load_failures: dict = {}

    def __init__(self):
        self.work: list[float] = []

    def frame(self, duration=None):
        self.work.append(duration)


def _pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def live(seconds: float, fps: float = 30.0) -> None:
    import gc
    import os
    from types import SimpleNamespace

    from installation import runner
    from installation.engine.transport import warm_up

    warm_up(wait=True)
    ctx = create_headless_context()
    show = parse_show(LIVE_SHOW)
    comp = Compositor(ctx, (1920, 1080))
    clock = RealClock()
    app = App(show, parse_registry(), comp, clock, device="cpu")
    out = _Presenter(ctx, (1920, 1080))
    t_end = time.perf_counter() + 180
    while time.perf_counter() < t_end:  # until the worker process has built the model and made keyframes
        app.frame()
        rt = next(iter(app.runtimes.values()), None)
        if rt is not None and rt.worker.produced >= 3:
            break
        time.sleep(0.03)
    produced0 = next(iter(app.runtimes.values())).worker.produced
    gcs: list[float] = []
    started: list[float] = []

    def on_gc(phase, info):
        if info["generation"] == 2:
            if phase == "start":
                started.append(time.perf_counter())
            elif started:
                gcs.append(time.perf_counter() - started.pop())

    gc.callbacks.append(on_gc)
    monitor = _Monitor()
    opts = SimpleNamespace(log_frames=False, duration=seconds, start=clock.now())
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    frames, _ = runner._loop(opts, clock, app, [out], monitor, None, round(seconds * fps), fps, True,
                             SimpleNamespace(flag=False))
    wall = time.perf_counter() - t0
    gc.callbacks.remove(on_gc)
    produced = next(iter(app.runtimes.values())).worker.produced - produced0
    app.close()
    period = 1.0 / fps
    iv = [b - a for a, b in zip(out.times, out.times[1:])]
    dropped = sum(max(0, round(d / period) - 1) for d in iv)
    ms = [d * 1000 for d in iv]
    print(f"renderer: {ctx.info['GL_RENDERER']}; {frames} frames in {wall:.1f} s at {fps:g} fps target; "
          f"generator {produced / wall:.2f} keyframes/s; load average {load0:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"1920x1080 stylegan2 waves64+superres x4 median {_pct(ms, 0.5):.1f} ms p99 {_pct(ms, 0.99):.1f} ms "
          f"dropped {dropped}   (max {max(ms):.1f} ms; loop work median {_pct(monitor.work, 0.5) * 1000:.1f} ms "
          f"p99 {_pct(monitor.work, 0.99) * 1000:.1f} ms; {len(gcs)} full gc, {sum(gcs) * 1000:.0f} ms)")


def parse_registry():
    return make_plugin_manager()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--size", type=int, default=256, help="generator resolution")
    ap.add_argument("--live", type=float, metavar="SECONDS", help="only the live-loop frame-time measurement")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.live:
        live(args.live)
        return
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
