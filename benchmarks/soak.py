"""Soak: a full show through the whole pipeline for days of show time on a fixed-step clock.

Walk → generator → post chain → worker → mixer → compositor (EGL) → read-back → (optionally)
the video encoder, every frame, at a small size and a low frame rate so that 72 hours of show
time fit in minutes.  Reports memory growth after warm-up (resident set, Python objects, live
GL textures), exceptions and plugin faults (target: 0), and frames produced.

    python benchmarks/soak.py --hours 72 --fps 1 --size 64 --json soak.json

Runs with one torch thread.  A short version runs in ``tests/test_soak.py``.

``--compressed`` runs the other soak (:mod:`soak_compressed`): an accelerated clock, opening hours
in Europe/Berlin, process-isolated workers and every plugin fault injected at random::

    python benchmarks/soak.py --compressed --hours 72 --rate 540 --fps 10 --size 32 --json soak.json
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, not an installed one
sys.path.insert(1, str(Path(__file__).resolve().parent))  # soak_compressed beside it

from installation.app import App
from installation.clock import FixedStepClock
from installation.health.monitor import memory_figures
from installation.plugins import make_plugin_manager
from installation.render.compositor import Compositor
from installation.render.context import create_headless_context
from installation.show.loader import parse_show


def soak_show(size: int, fps: float, keyframe_rate: float) -> str:
    """Three procedural scenes (one with a post stage) looping with long crossfades."""
    return f"""
[show]
name = "soak"
[output]
width = {size}
height = {size}
fps = {fps}
[[scenes]]
name = "a"
duration = 1200
keyframe_rate = {keyframe_rate}
transition = 30
[scenes.generator]
plugin = "noisefield"
size = 32
[scenes.walk]
type = "slerp"
seeds = [1, 2, 3, 4, 5]
transition = 40
[[scenes]]
name = "b"
duration = 900
keyframe_rate = {keyframe_rate * 2}
transition = 60
[scenes.generator]
plugin = "noisefield"
size = 48
seed = 3
[scenes.walk]
type = "slerp"
seeds = [7, 8, 9]
hold = 10
transition = 25
[[scenes.post]]
stage = "levels"
saturation = 1.2
[[scenes]]
name = "c"
duration = 1500
keyframe_rate = {keyframe_rate}
transition = 45
[scenes.generator]
plugin = "noisefield"
size = 32
octaves = 2
seed = 5
[scenes.walk]
type = "slerp"
seeds = [11, 12, 13, 14]
transition = 60
"""


class _Count(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < 100:
            self.records.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        else:
            self.records.append("")


def live_textures(app: App) -> int:
    kfs = set()
    for rt in [*app.runtimes.values(), *([app.fallback] if app.fallback else [])]:
        for kf in [*rt.worker.buffer.snapshot(), *rt.retired, rt.mixer.shown_a, rt.mixer.shown_b]:
            if kf is not None and kf.texture is not None:
                kfs.add(id(kf))
    return len(kfs)


def run_soak(hours: float, fps: float = 1.0, size: int = 64, keyframe_rate: float = 0.25, warmup_hours: float = 1.0,
             record: Path | None = None, samples: int = 24, progress=None) -> dict:
    torch.set_num_threads(1)
    counter = _Count()
    logging.getLogger().addHandler(counter)
    show = parse_show(soak_show(size, fps, keyframe_rate), "<soak>")
    ctx = create_headless_context()
    compositor = Compositor(ctx, (size, size))
    app = App(show, make_plugin_manager(entry_points_enabled=False), compositor, FixedStepClock(fps))
    recorder = None
    if record is not None:
        from installation.output.video import VideoRecorder

        recorder = VideoRecorder(record, (size, size), fps)
    n_frames = round(hours * 3600 * fps)
    warm = min(round(warmup_hours * 3600 * fps), n_frames // 2)
    every = max(1, (n_frames - warm) // max(1, samples))
    exceptions: list[str] = []
    series: list[dict] = []
    checksum = 0
    t0 = time.perf_counter()

    def sample(frame: int) -> dict:
        gc.collect()
        s = {"frame": frame, "show_h": round(frame / fps / 3600, 3), "wall_s": round(time.perf_counter() - t0, 1),
             "rss_mb": memory_figures().get("rss_mb"), "py_objects": len(gc.get_objects()),
             "live_textures": live_textures(app)}
        series.append(s)
        if progress:
            progress(s)
        return s

    try:
        for frame in range(n_frames):
            try:
                app.frame()
                rgb = compositor.read_output()
                checksum = (checksum + int(rgb[size // 2, size // 2].sum())) % 1_000_000_007
                if recorder is not None:
                    recorder.write(rgb)
            except Exception as exc:  # counted, and the soak goes on to see whether it recurs
                exceptions.append(f"frame {frame}: {type(exc).__name__}: {exc}")
            if frame + 1 == warm or (frame + 1 > warm and (frame + 1 - warm) % every == 0) or frame + 1 == n_frames:
                sample(frame + 1)
    finally:
        faults = {}
        for rt in [*app.runtimes.values(), *([app.fallback] if app.fallback else [])]:
            faults[rt.worker.name] = sum(rt.worker.faults.values())
        app.close()
        if recorder is not None:
            recorder.close()
        logging.getLogger().removeHandler(counter)
    base = next(s for s in series if s["frame"] >= warm)
    final = series[-1]
    mid = min((s for s in series if s["frame"] >= warm), key=lambda s: abs(s["frame"] - (warm + n_frames) / 2))
    return {
        "show_hours": hours, "fps": fps, "size": size, "keyframe_rate": keyframe_rate,
        "frames": n_frames, "frames_made": compositor.frames, "wall_s": round(time.perf_counter() - t0, 1),
        "warmup_frames": warm,
        "rss_after_warmup_mb": base["rss_mb"], "rss_final_mb": final["rss_mb"],
        "rss_max_after_warmup_mb": max(s["rss_mb"] for s in series if s["frame"] >= warm),
        "rss_growth_pct": round(100 * (final["rss_mb"] - base["rss_mb"]) / base["rss_mb"], 3),
        # a leak grows in both halves; allocator warm-up (arenas, caches) only early on
        "rss_growth_second_half_pct": round(100 * (final["rss_mb"] - mid["rss_mb"]) / mid["rss_mb"], 3),
        "py_objects_growth": final["py_objects"] - base["py_objects"],
        "live_textures_final": final["live_textures"],
        "exceptions": len(exceptions), "exception_samples": exceptions[:10],
        "warnings_logged": len(counter.records), "warning_samples": counter.records[:10],
        "plugin_faults_active": faults,
        "checksum": checksum,
        "series": series,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=72.0, help="show time to run (hours)")
    ap.add_argument("--fps", type=float, default=1.0)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--keyframe-rate", type=float, default=0.25)
    ap.add_argument("--warmup-hours", type=float, default=1.0)
    ap.add_argument("--record", type=Path, default=None, help="also encode the output to this video file")
    ap.add_argument("--json", type=Path, default=None, help="write the full result (with the memory series) here")
    ap.add_argument("--compressed", action="store_true",
                    help="accelerated clock, opening hours, isolated workers, random faults of every kind")
    ap.add_argument("--rate", type=float, default=540.0, help="--compressed: show time per real second")
    ap.add_argument("--seed", type=int, default=1, help="--compressed: which faults, when")
    ap.add_argument("--fault-rate", type=float, default=0.03, help="--compressed: chance a keyframe call faults")
    ap.add_argument("--memory-mb", type=float, default=256.0, help="--compressed: each worker's memory cap (MiB)")
    args = ap.parse_args()
    if args.compressed:
        compressed(args)
        return
    frames = round(args.hours * 3600 * args.fps)
    print(f"soak: {args.hours:g} h of show at {args.fps:g} fps = {frames} frames, {args.size}x{args.size}", flush=True)

    def progress(s):
        print(f"  {s['show_h']:8.2f} h show  {s['wall_s']:8.1f} s wall  rss {s['rss_mb']:.1f} MiB  "
              f"objects {s['py_objects']}  textures {s['live_textures']}", flush=True)

    result = run_soak(args.hours, args.fps, args.size, args.keyframe_rate, args.warmup_hours, args.record, progress=progress)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    summary = {k: v for k, v in result.items() if k != "series"}
    print(json.dumps(summary, indent=1))
    sys.exit(1 if result["exceptions"] else 0)


def compressed(args) -> None:
    from soak_compressed import run_compressed

    fps = args.fps if args.fps != 1.0 else 10.0  # frames per real second; 1 (the fixed-step default) is too few
    print(f"compressed soak: {args.hours:g} h of show at {args.rate:g}x, {fps:g} frames per real second, "
          f"{args.size}x{args.size}, faults at {args.fault_rate:g} per keyframe (seed {args.seed})", flush=True)

    def progress(s):
        print(f"  {s['show_h']:8.2f} h show  {s['wall_s']:7.1f} s wall  {s['label']:6s}  runtime {s['rss_runtime_mb']:.1f} MiB"
              f"  workers {s['workers']} ({s['rss_workers_mb']:.0f} MiB)  threads {s['threads']}", flush=True)

    result = run_compressed(args.hours, args.rate, fps, args.size, args.seed, args.fault_rate, args.memory_mb,
                            progress=progress)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "series"}, indent=1))
    ok = (result["black_open_frames"] == 0 and result["all_recovered"] and not result["leaked_children"]
          and not result["shm_leaked"] and result["fds_end"] <= result["fds_base"]
          and result["threads_end"] <= result["threads_base"] and result["final_open"] == result["expected_open"]
          and result["exceptions"] == 0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
