"""Does the NDI output slow the render loop?  The same fixed-step headless run with and without it.

Runs ``installation run SHOW --headless --record FILE`` (a 1280x720 noisefield show, 30 fps) three
ways inside a network namespace made for the purpose (loopback only): without NDI, with an NDI
output nobody receives, and with one a receiver is connected to; prints each run's fps from the
CLI's own summary line.  Needs root (``unshare -n``) and ``pip install 'installation[ndi]'``.
Run: ``python benchmarks/ndi_output.py [--seconds S] [--size WxH]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).parent.parent
NETNS = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"'
RECEIVER = ROOT / "tests" / "ndi" / "receive.py"

SHOW = """
[show]
name = "ndi bench"
seed = 1
[output]
width = {w}
height = {h}
fps = 30
[[scenes]]
name = "one"
duration = 4
keyframe_rate = 4
transition = 0
[scenes.generator]
plugin = "noisefield"
size = 128
[scenes.walk]
type = "slerp"
seeds = [1, 2, 3]
"""


def fps_of(text: str) -> float:
    line = next(line for line in text.splitlines() if " fps)" in line)
    return float(line.rsplit("(", 1)[1].split()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds of show per run")
    ap.add_argument("--size", default="1280x720")
    args = ap.parse_args()
    w, h = map(int, args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shim = tmp / "plugins"
        shim.mkdir()
        (shim / "ndi_out.py").write_text("from plugins.ndi import register_outputs  # noqa: F401\n")
        plain = tmp / "plain.toml"
        plain.write_text(textwrap.dedent(SHOW.format(w=w, h=h)))
        ndi = tmp / "ndi.toml"
        ndi.write_text(plain.read_text() + '\n[[outputs]]\ntype = "ndi"\nname = "bench"\n')
        cli = ["run", "--headless", "--duration", str(args.seconds), "--plugins-dir", str(shim)]
        results = {}
        for label, show in (("without NDI", plain), ("NDI, no receiver", ndi)):
            done = subprocess.run(
                [
                    "unshare",
                    "-n",
                    "sh",
                    "-c",
                    NETNS,
                    "sh",
                    sys.executable,
                    "-m",
                    "installation",
                    *cli[:1],
                    str(show),
                    *cli[1:],
                    "--record",
                    str(tmp / "out.mp4"),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            results[label] = fps_of(done.stdout)
        out = tmp / "rx"
        out.mkdir()
        subprocess.run(
            [
                "unshare",
                "-n",
                "sh",
                "-c",
                NETNS,
                "sh",
                sys.executable,
                str(RECEIVER),
                str(out),
                "bench",
                "--",
                *cli[:1],
                str(ndi),
                *cli[1:],
                "--record",
                str(tmp / "out.mp4"),
            ],
            cwd=ROOT,
            check=True,
        )
        meta = json.loads((out / "meta.json").read_text())
        results["NDI, receiver connected"] = fps_of((out / "cli.log").read_text())
        received = len(meta["frames"])
    print(f"{w}x{h}, {args.seconds:g} s of show at 30 fps, fixed step (render as fast as possible):")
    for label, fps in results.items():
        print(f"  {label:26s} {fps:7.1f} fps")
    print(f"  frames received: {received}")


if __name__ == "__main__":
    main()
