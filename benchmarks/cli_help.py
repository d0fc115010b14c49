"""How long ``installation --help`` takes to answer, against a bare interpreter start.

Runs ``python -m installation --help`` (and ``python -c pass`` as the floor) N times in fresh
processes from the repository root and prints the median and best wall time and the child CPU
time, so a loaded machine (where wall time swings) can be read too.  Target: under 0.5 s,
with neither torch nor any plugin imported (tests/test_cli_lazy.py checks the imports).
Run: ``python benchmarks/cli_help.py [--runs N]``.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def measure(args: list[str], runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, COLUMNS="100"))
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs
    for label, args in (("python -c pass", ["-c", "pass"]), ("installation --help", ["-m", "installation", "--help"])):
        walls, cpus = measure(args, runs)
        print(f"{label:22s} wall median {statistics.median(walls) * 1000:6.0f} ms  best {min(walls) * 1000:6.0f} ms  "
              f"cpu median {statistics.median(cpus) * 1000:6.0f} ms  ({runs} runs)")


if __name__ == "__main__":
    main()
