"""Render the example show to its track with the real CLI and draw docs/audio-strip.png:
a row of stills over the track's waveform, beats, percussive/harmonic energy and sections.

    python3 scripts/audio_strip.py        (needs GL, like any render)

No plotting library: the curves are rasterised with numpy and the PNG written by av.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from installation.audio.decode import load  # noqa: E402
from installation.audio.track import analyse  # noqa: E402

SHOW, TRACK = ROOT / "shows" / "soundtrack.toml", ROOT / "shows" / "audio" / "track.wav"
W, STILLS, STILL_H = 1280, 8, 90


def curve(img, y0, h, v, colour):
    """Draw v (0..1, any length) as a line across the image's width in rows y0..y0+h."""
    xs = np.linspace(0, len(v) - 1, W)
    vals = np.interp(xs, np.arange(len(v)), v)
    ys = (y0 + h - 1 - np.clip(vals, 0, 1) * (h - 1)).astype(int)
    for x in range(W):
        a, b = sorted((ys[x], ys[x - 1] if x else ys[x]))
        img[a : b + 1, x] = colour


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        video = Path(d) / "soundtrack.mp4"
        subprocess.run(
            [sys.executable, "-m", "installation", "render", str(SHOW), str(video), "--audio", str(TRACK)],
            check=True,
            cwd=ROOT,
        )
        with av.open(str(video)) as c:
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    x = load(TRACK)
    tr = analyse(x)
    dur = len(x) / 22050
    rows = [("waveform", 60), ("beats", 20), ("percussive", 50), ("harmonic", 50), ("sections", 20)]
    height = STILL_H + sum(h for _, h in rows) + 6 * len(rows)
    img = np.full((height, W, 3), 24, np.uint8)
    sw = W // STILLS
    for i in range(STILLS):  # stills at evenly spaced show times, each above its stretch of the track
        f = frames[int((i + 0.5) * len(frames) / STILLS)]
        ys = np.linspace(0, f.shape[0] - 1, STILL_H).astype(int)
        xs = np.linspace(0, f.shape[1] - 1, sw - 4).astype(int)
        img[:STILL_H, i * sw + 2 : (i + 1) * sw - 2] = f[ys][:, xs]
    y = STILL_H + 6
    env = np.abs(x[: len(x) // W * W]).reshape(W, -1).max(axis=1)
    for k in range(W):
        h = int(env[k] * 29)
        img[y + 30 - h : y + 30 + h + 1, k] = (120, 170, 230)
    y += 66
    for b in tr.beats.times:
        img[y : y + 20, min(W - 1, int(b / dur * W))] = (250, 200, 80)
    y += 26
    curve(img, y, 50, tr.curves["/audio/percussive"], (240, 110, 90))
    y += 56
    curve(img, y, 50, tr.curves["/audio/harmonic"], (120, 220, 140))
    y += 56
    for i, s in enumerate(tr.sections):
        end = tr.sections[i + 1] if i + 1 < len(tr.sections) else dur
        img[y : y + 20, int(s / dur * W) : int(end / dur * W)] = (90, 90, 160) if i % 2 == 0 else (160, 90, 140)
    out = ROOT / "docs" / "audio-strip.png"
    with av.open(str(out), "w", format="image2") as c:
        s = c.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = W, height, "rgb24"
        for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    print(f"wrote {out} ({W}x{height}): tempo {tr.tempo:.1f} BPM, {len(tr.beats.times)} beats, sections {tr.sections}")


main()
