"""Fault recovery on a live show: how long a faulting plugin's scene takes to come back, and
whether the render loop ever waited on it.

Each fault is injected by the ``faulty`` test plugin (tests/fault_plugins) into one scene of a
live show (real-time clock, EGL, 64x64, paced to 30 fps).  Printed per fault kind: the worst
render-loop frame time while it happened, the time from the fault to the next good keyframe
(``recovery``; for a hang, from the moment it stopped answering), faults and restarts counted, and frames that came out black (should be 0).
Generators run in worker processes (the default); ``--no-isolation`` runs them in threads and
skips the faults only a process survives (segfault, a hang in C holding the GIL).

    python benchmarks/fault_recovery.py [--deadline 1.0] [--backoff 0.5] [--seconds 6] [--no-isolation]
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from installation.app import App  # noqa: E402
from installation.clock import RealClock  # noqa: E402
from installation.engine.worker import RestartPolicy  # noqa: E402
from installation.plugins import make_plugin_manager  # noqa: E402
from installation.render.compositor import Compositor  # noqa: E402
from installation.render.context import create_headless_context  # noqa: E402
from installation.show.loader import parse_show  # noqa: E402

CASES = {
    "raise": 'mode = "raise"\nfault_at = 6',
    "nan": 'mode = "nan"\nfault_at = 6',
    "wrong shape": 'mode = "shape"\nfault_at = 6',
    "hang": 'mode = "hang"\nfault_at = 6\nhang_s = 120',
    "build fails": 'mode = "crash_build"\nfault_at = 0',
    "out of memory": 'mode = "oom"\nsize = 64\noom_below = 16',
    "memory cap": 'mode = "alloc"\nsize = 64\noom_below = 16',  # allocates until --plugin-memory (100 MiB)
    "segfault": 'mode = "segfault"\nfault_at = 6',
    "hang in C": 'mode = "native_hang"\nfault_at = 6\nhang_s = 120',  # holds the GIL
}
PROCESS_ONLY = ("segfault", "hang in C", "memory cap")


def show_text(options: str) -> str:
    return f"""
[output]
width = 64
height = 64
fps = 30
[[scenes]]
name = "under test"
duration = 600
keyframe_rate = 4
transition = 0
[scenes.generator]
plugin = "faulty"
key = "bench"
fault_count = 1
{options}
[scenes.walk]
type = "slerp"
seeds = [1, 2, 3]
transition = 1
"""


def run_case(ctx, options: str, policy: RestartPolicy, seconds: float) -> dict:
    counter = Path(tempfile.mkdtemp()) / "counter.json"  # fault counts survive a restarted worker process
    options += f'\ncounter = "{counter}"'
    registry = make_plugin_manager(ROOT / "tests" / "fault_plugins", entry_points_enabled=False)
    app = App(parse_show(show_text(options)), registry, Compositor(ctx, (64, 64)), RealClock(), policy=policy)
    worst, black, frames = 0.0, 0, 0
    end = time.perf_counter() + seconds
    try:
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            app.frame()
            rgb = app.compositor.read_output()
            dt = time.perf_counter() - t0
            worst = max(worst, dt)
            black += int(rgb.max() == 0) if frames > 15 else 0  # after the first half second
            frames += 1
            time.sleep(max(0.0, 1 / 30 - dt))
        worker = app.runtimes[0].worker
        return {"frames": frames, "worst_frame_ms": 1000 * worst, "black_frames": black,
                "faults": sum(worker.faults.values()), "restarts": worker.restarts, "degraded": worker.degraded,
                "recovery_s": worker.last_recovery, "state": worker.state}
    finally:
        app.close()
        sys.modules["installation_plugin_faulty"].release_all()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deadline", type=float, default=1.0)
    ap.add_argument("--backoff", type=float, default=0.5)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--no-isolation", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.ERROR)
    policy = RestartPolicy(deadline=args.deadline, backoff=args.backoff, isolated=not args.no_isolation)
    ctx = create_headless_context()
    if not args.no_isolation:  # the fork server's start (importing torch, once per runtime) is not a fault's cost
        from installation.engine.transport import warm_up

        warm_up(wait=True)
    print(f"policy: deadline {args.deadline:g} s, first back-off {args.backoff:g} s; live 30 fps, {args.seconds:g} s per case; "
          f"{'threads' if args.no_isolation else 'worker processes'}")
    print(f"{'fault':<14} {'frames':>6} {'worst frame':>12} {'black':>6} {'faults':>7} {'restarts':>9} {'degraded':>9} {'recovery':>10}  state")
    for name, options in CASES.items():
        if args.no_isolation and name in PROCESS_ONLY:
            continue
        case_policy = dataclasses.replace(policy, memory_mb=100.0) if name == "memory cap" else policy
        r = run_case(ctx, options, case_policy, args.seconds)
        rec = r["recovery_s"]
        if rec is not None and name == "hang":  # the outage began a deadline before the fault was declared
            rec += args.deadline
        rec = f"{rec:.3f} s" if rec is not None else "-"
        print(f"{name:<14} {r['frames']:>6} {r['worst_frame_ms']:>9.1f} ms {r['black_frames']:>6} {r['faults']:>7} "
              f"{r['restarts']:>9} {r['degraded']:>9} {rec:>10}  {r['state']}", flush=True)


if __name__ == "__main__":
    main()
