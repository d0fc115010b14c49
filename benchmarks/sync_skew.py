"""Show-time skew between three synchronised hosts, and how soon a killed host plays again.

Three ``installation run --headless`` processes play one ``[sync] link = true`` show, each in a
network namespace joined by veth pairs to a bridge (:class:`installation.sync.lab.Lab`; needs
root).  Every frame is logged (``--log-frames``); frames of host 1 are matched with the other
hosts' by ``monotonic_s`` (one clock in every namespace) and the skew is the difference of their
show times less the difference of the moments they were read.  Halfway, host 3 is killed with
SIGKILL and started again: the figure is the time from the kill to its first frame (Python and
plugin start-up included) and its skew afterwards.

Run: ``sudo python benchmarks/sync_skew.py [--seconds 20] [--fps 30] [--size 64x36]``.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installation.sync.lab import Lab, percentile, read_records, skews, unavailable

SHOW = """
[show]
name = "sync benchmark"
[output]
width = {w}
height = {h}
fps = {fps}
[sync]
link = true
join_wait = 1.0
[web]
oscquery = false
[[scenes]]
name = "a"
duration = 3600
[scenes.generator]
plugin = "noisefield"
"""


def _wait(log: Path, n: int, proc: subprocess.Popen, limit: float = 300) -> float:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        frames = read_records(log) if log.exists() else []
        if len(frames) >= n:
            return frames[n - 1]["monotonic_s"]
        if proc.poll() is not None:
            raise SystemExit(f"{log.name} exited with {proc.returncode}: {log.with_suffix('.err').read_text()[-800:]}")
        time.sleep(0.05)
    raise SystemExit(f"{log.name}: no {n} frames in {limit} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="show seconds host 1 plays")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--size", default="64x36")
    args = ap.parse_args()
    reason = unavailable()
    if reason:
        raise SystemExit(f"sync_skew: {reason}")
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp, Lab(3, tag="bench") as lab:
        out = Path(tmp)
        show = out / "show.toml"
        show.write_text(SHOW.format(w=w, h=h, fps=args.fps))

        def host(i: int, name: str, seconds: float) -> subprocess.Popen:
            argv = [sys.executable, "-m", "installation", "run", str(show), "--headless", "--no-isolation"]
            argv += ["--duration", str(seconds), "--log-file", str(out / f"{name}.jl"), "--log-frames"]
            err = open(out / f"{name}.err", "w")  # noqa: SIM115 - the child writes it until it exits
            return lab.popen(i, argv, stdout=subprocess.DEVNULL, stderr=err)

        h1 = host(0, "h1", args.seconds)
        _wait(out / "h1.jl", 1, h1)
        h2, h3 = host(1, "h2", args.seconds - 2), host(2, "h3", 3600)
        _wait(out / "h3.jl", int(args.fps * args.seconds / 3), h3)
        killed = time.monotonic()
        h3.send_signal(signal.SIGKILL)
        h3.wait()
        h3b = host(2, "h3b", args.seconds / 4)
        back = _wait(out / "h3b.jl", 1, h3b)
        for p in (h1, h2, h3b):
            p.wait(timeout=600)
        frames = {n: read_records(out / f"{n}.jl") for n in ("h1", "h2", "h3", "h3b")}
    print(f"three hosts in network namespaces, {args.fps:g} fps, {w}x{h}, noisefield; skew against host 1:")
    everything: list[float] = []
    for name in ("h2", "h3", "h3b"):
        s = [abs(v) for v in skews(frames["h1"], frames[name])]
        everything += s
        print(
            f"  {name:4s} {len(s):5d} frames  p50 {percentile(s, 50) * 1e3:7.3f} ms  p99 {percentile(s, 99) * 1e3:7.3f} ms"
            f"  max {max(s) * 1e3:7.3f} ms"
        )
    print(
        f"  all  {len(everything):5d} frames  p50 {percentile(everything, 50) * 1e3:7.3f} ms  "
        f"p99 {percentile(everything, 99) * 1e3:7.3f} ms  (one frame: {1e3 / args.fps:.1f} ms)"
    )
    print(
        f"kill -9 to the restarted host's first frame: {back - killed:.2f} s "
        f"(it joined at show time {frames['h3b'][0]['show_time_s']:.2f} s)"
    )


if __name__ == "__main__":
    main()
