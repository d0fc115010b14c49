"""OSC-to-frame latency in real time: from ``sendto`` to the read-back frame that shows the value.

A sender thread toggles ``/output/brightness`` between 1 and 0 over UDP on 127.0.0.1 at random
moments; the render loop runs the real app (timeline, generator worker, mixer, compositor) on
a real-time clock through a headless EGL context, paced to ``--fps`` like ``installation run
--headless``, and reads every frame back.  A toggle's latency is the time from its send to the
end of the read-back of the first frame that shows it (black for 0, not black for 1).  Also
printed: send → queued (the OSC thread) and the same latency in frames.

    python benchmarks/osc_latency.py --fps 60 --size 1280x720 --toggles 100
"""
from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import textwrap
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installation.app import App  # noqa: E402
from installation.clock import RealClock  # noqa: E402
from installation.control.osc_out import build_message  # noqa: E402
from installation.control.system import Control  # noqa: E402
from installation.plugins import make_plugin_manager  # noqa: E402
from installation.render.compositor import Compositor  # noqa: E402
from installation.render.context import create_headless_context  # noqa: E402
from installation.show.loader import parse_show  # noqa: E402

SHOW = """
[show]
name = "latency"
[output]
width = {w}
height = {h}
fps = {fps}
[control.osc]
host = "127.0.0.1"
port = 0
[[scenes]]
name = "field"
duration = 3600
keyframe_rate = 3
transition = 0
[scenes.generator]
plugin = "noisefield"
size = 256
[scenes.walk]
type = "slerp"
seeds = [1, 2, 3]
"""


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=60.0, help="render loop pace (0 = as fast as possible)")
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--toggles", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))

    show = parse_show(textwrap.dedent(SHOW.format(w=w, h=h, fps=args.fps or 60)))
    ctx = create_headless_context()
    registry = make_plugin_manager(entry_points_enabled=False)
    control = Control.from_show(show)
    control.start_inputs(registry.inputs())
    server = control.inputs["osc"]
    app = App(show, registry, Compositor(ctx, (w, h)), RealClock(), control=control)

    # queued-at times, seen from the render thread (arrival is stamped by the OSC thread)
    arrivals: list[float] = []
    orig_frame = control.frame

    def frame_hook(dt, show_t=None):
        fc = orig_frame(dt, show_t)
        arrivals.extend(e.arrival for e in fc.events if e.address == "/output/brightness")
        return fc

    control.frame = frame_hook

    sends: list[tuple[float, float]] = []  # (send time, value)
    stop = threading.Event()
    rng = random.Random(args.seed)

    def sender():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        value = 0.0
        for _ in range(args.toggles):
            if stop.wait(rng.uniform(0.15, 0.35)):
                break
            t = time.monotonic()
            sock.sendto(build_message("/output/brightness", [value]), server.address)
            sends.append((t, value))
            value = 1.0 - value
        sock.close()

    # warm up until the generator has delivered keyframes and frames are not black
    t_end = time.monotonic() + 30
    while time.monotonic() < t_end:
        app.frame()
        if app.compositor.read_output().max() > 0:
            break
    frames: list[tuple[float, bool, int]] = []  # (read-back done, lit, frame number)
    th = threading.Thread(target=sender, daemon=True)
    th.start()
    n, period, t0 = 0, (1.0 / args.fps if args.fps else 0.0), time.monotonic()
    while th.is_alive() or n < 10:
        start = time.monotonic()
        app.frame()
        lit = bool(app.compositor.read_output().max() > 0)
        frames.append((time.monotonic(), lit, n))
        n += 1
        if period:
            time.sleep(max(0.0, period - (time.monotonic() - start)))
        if not th.is_alive():
            stop.set()
            if n > len(frames) + 10:
                break
        if time.monotonic() - t0 > args.toggles * 0.5 + 30:
            break
    wall = time.monotonic() - t0
    stop.set()
    th.join()
    app.close()
    server_counts = control.counters.snapshot()

    lat, lat_frames, queued = [], [], []
    for k, (ts, value) in enumerate(sends):
        want_lit = value > 0
        idx_after = [f for f in frames if f[0] >= ts]
        hit = next((f for f in idx_after if f[1] == want_lit), None)
        if hit is None or not idx_after:
            continue
        lat.append((hit[0] - ts) * 1000)
        lat_frames.append(hit[2] - idx_after[0][2] + 1)
        if k < len(arrivals):
            queued.append((arrivals[k] - ts) * 1000)
    fps = len(frames) / wall
    print(f"osc latency: {w}x{h}, paced to {args.fps:g} fps (achieved {fps:.1f} fps), {len(lat)}/{len(sends)} toggles measured")
    print(f"  send -> queued by OSC thread   ms: p50 {statistics.median(queued):.3f}  p95 {pct(queued, 95):.3f}  max {max(queued):.3f}")
    print(f"  send -> frame read back        ms: p50 {statistics.median(lat):.1f}  p95 {pct(lat, 95):.1f}  "
          f"max {max(lat):.1f}  mean {statistics.mean(lat):.1f}")
    print(f"  frames read back after the send, up to the one showing it: p50 {statistics.median(lat_frames):.0f}  max {max(lat_frames)}")
    print(f"  counters: {server_counts}")


if __name__ == "__main__":
    main()
