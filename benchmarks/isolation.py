"""What process isolation costs: keyframes/s and latency, in-process worker vs worker process.

For each generator (the built-in noise field, and the shipped StyleGAN2 wave model at its own
size) the same scene is driven through a :class:`GeneratorWorker` three ways, in one run:

* ``direct``      — ``source.make(k)`` called here: the model alone, no worker;
* ``in-process``  — the worker with ``isolated = false`` (a thread; what the runtime did before);
* ``isolated``    — the worker with its source in a worker process (the default): request over a
                    pipe, keyframe back through the shared-memory ring, copied out.

Each way first builds the source (``start`` = time to the first keyframe, which includes starting
the worker process), then ``--keyframes`` keyframes are made with ``ensure`` (the deterministic
path: request, wait, receive), the three ways interleaved keyframe by keyframe so that a loaded
host slows them alike.  Figures: keyframes/s, mean and p95 latency, and the
isolated overhead per keyframe (isolated mean − in-process mean), and the ``handoff``: latency
minus the make itself (as timed where the model ran), i.e. what the transport alone costs, which
a loaded host disturbs much less than the model's own time.  Torch runs on 1 thread
everywhere (``--threads``) so the three ways do the same work.

Run: ``python benchmarks/isolation.py [--keyframes 40] [--generators noisefield,stylegan2] [--device cpu]``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installation.engine.build import SourceRecipe  # noqa: E402
from installation.engine.worker import GeneratorWorker, RestartPolicy  # noqa: E402
from installation.plugins import make_plugin_manager  # noqa: E402
from installation.show.loader import parse_show  # noqa: E402

SCENES = {
    "noisefield": 'plugin = "noisefield"\nsize = 256',
    "stylegan2": 'plugin = "stylegan2"',  # the shipped wave model, at its trained resolution
}


def scene(generator: str):
    show = parse_show(f"""
[show]
name = "bench"
[[scenes]]
name = "{generator}"
keyframe_rate = 4
[scenes.generator]
{SCENES[generator]}
[scenes.walk]
type = "slerp"
seeds = [1, 2, 3, 4, 5]
transition = 1
""")
    return show.scenes[0]


def summary(latencies: list[float], start: float, shape, handoff: list[float]) -> dict:
    lat = sorted(latencies)
    return {"start_s": start, "kf_per_s": len(lat) / sum(lat), "mean_ms": 1000 * statistics.fmean(lat),
            "p95_ms": 1000 * lat[min(len(lat) - 1, int(0.95 * len(lat)))], "shape": tuple(shape),
            "handoff_ms": 1000 * statistics.fmean(handoff) if handoff else None}


def start_worker(recipe: SourceRecipe, registry, isolated: bool, threads: int):
    policy = RestartPolicy(deadline=120.0, build_deadline=300.0, isolated=isolated, torch_threads=threads)
    worker = GeneratorWorker(None, name=recipe.scene.name, recipe=recipe, registry=registry, policy=policy)
    t0 = time.perf_counter()
    if worker.ensure(0) is None:
        raise SystemExit(f"{recipe.scene.name}: no keyframe ({worker.last_error})")
    return worker, time.perf_counter() - t0


def measure(recipe: SourceRecipe, registry, n: int, threads: int) -> dict:
    """The three ways interleaved keyframe by keyframe, so a loaded host slows them alike."""
    t0 = time.perf_counter()
    source, _ = recipe.build(registry)
    source.make(0)
    starts = {"direct": time.perf_counter() - t0}
    workers = {}
    for way, isolated in (("in-process", False), ("isolated", True)):
        workers[way], starts[way] = start_worker(recipe, registry, isolated, threads)
    lat: dict[str, list[float]] = {w: [] for w in starts}
    handoff: dict[str, list[float]] = {w: [] for w in starts}  # latency minus the make itself
    shapes = {}
    try:
        for k in range(1, n + 1):
            t = time.perf_counter()
            shapes["direct"] = source.make(k).shape
            lat["direct"].append(time.perf_counter() - t)
            for way, worker in workers.items():
                t = time.perf_counter()
                kf = worker.ensure(k)
                lat[way].append(time.perf_counter() - t)
                handoff[way].append(lat[way][-1] - worker.last_duration)
                if kf is None:
                    raise SystemExit(f"{recipe.scene.name} {way}: keyframe {k} failed ({worker.last_error})")
                shapes[way] = kf.frame.shape
    finally:
        for worker in workers.values():
            worker.stop()
    return {way: summary(lat[way], starts[way], shapes[way], handoff[way]) for way in starts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keyframes", type=int, default=40)
    ap.add_argument("--generators", default="noisefield,stylegan2")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    registry = make_plugin_manager()
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} torch thread(s), "
          f"{args.keyframes} keyframes each after the first")
    print(f"{'generator':<11} {'way':<11} {'frame':<14} {'start s':>8} {'kf/s':>8} {'mean ms':>8} {'p95 ms':>8} "
          f"{'handoff ms':>10}")
    for name in args.generators.split(","):
        recipe = SourceRecipe.of(scene(name), registry, args.device)
        rows = measure(recipe, registry, args.keyframes, args.threads)
        for way, r in rows.items():
            shape = "x".join(str(s) for s in r["shape"])
            print(f"{name:<11} {way:<11} {shape:<14} {r['start_s']:>8.2f} {r['kf_per_s']:>8.1f} "
                  f"{r['mean_ms']:>8.2f} {r['p95_ms']:>8.2f} "
                  f"{'-' if r['handoff_ms'] is None else format(r['handoff_ms'], '.2f'):>10}")
        over = rows["isolated"]["mean_ms"] - rows["in-process"]["mean_ms"]
        hand = rows["isolated"]["handoff_ms"] - rows["in-process"]["handoff_ms"]
        print(f"{name:<11} isolation costs {over:+.2f} ms per keyframe "
              f"({100 * over / rows['in-process']['mean_ms']:+.1f} %); handoff {hand:+.2f} ms")


if __name__ == "__main__":  # required: worker processes re-import the main module (forkserver)
    main()
