"""The pictures in docs/models/: what a visitor sees of each shipped model, beside its data.

For each shipped model this renders its show at 1920×1080 through the real ``installation render``
(the generator, the post chain and the compositor, exactly as a gallery plays it), keeps one
decoded frame as a JPEG and a 480×320 crop of it at 1:1 (where it has most detail) as a PNG, and writes a grid of
the training pictures its data maker paints and a contact sheet of the model's own samples, so
the doc pages show the frame, the detail at projector size, the model and its data side by side.

    python scripts/model_pictures.py                 # all models
    python scripts/model_pictures.py --only watches  # one

Re-run it whenever shipped weights, the post chain or a show changes (a few minutes on a 2-core
CPU: each show is rendered for one second from the time its scene is on the wall).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "models"
CROP = (480, 320)


@dataclass(frozen=True)
class Picture:
    name: str  # file prefix in docs/models/
    show: str  # shipped show that plays the model
    at: float  # show time (s) at which the model's scene is on the wall
    model: str  # generator plugin (its shipped weights) for the sample sheet
    data: str  # data set maker for the training-picture grid
    size: int  # training picture size


PICTURES = (
    Picture("stylegan2-waves", "shows/gallery-waves.toml", 2.0, "stylegan2", "waves", 64),
    Picture("vae-watches", "shows/curator-timeline.toml", 100.0, "vae", "watches", 64),
    Picture("wgan-bikes", "shows/curator-timeline.toml", 135.0, "wgan", "bikes", 64),
)


def cli(*args: str) -> None:
    cmd = [sys.executable, "-m", "installation", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def middle_frame(video: Path) -> np.ndarray:
    with av.open(str(video)) as box:
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    if not frames:
        raise SystemExit(f"{video}: no frames decoded")
    return frames[len(frames) // 2]


def save(path: Path, rgb: np.ndarray) -> None:
    flags = [cv2.IMWRITE_JPEG_QUALITY, 85] if path.suffix == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]), flags):
        raise SystemExit(f"{path}: could not be written")


def grid(folder: Path, count: int = 32, columns: int = 8) -> np.ndarray:
    files = (sorted(folder.glob("*.jpg")) or sorted(folder.glob("*.png")))[:count]
    if not files:
        raise SystemExit(f"{folder}: no pictures")
    tiles = [cv2.imread(str(f), cv2.IMREAD_COLOR)[..., ::-1] for f in files]
    h, w = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.zeros((rows * (h + 2) - 2, columns * (w + 2) - 2, 3), np.uint8)
    for i, tile in enumerate(tiles):
        y, x = (i // columns) * (h + 2), (i % columns) * (w + 2)
        sheet[y : y + h, x : x + w] = tile
    return sheet


def busiest(frame: np.ndarray) -> tuple[int, int]:
    """Top-left of the CROP window with the most detail (gradient energy), on a 1/8 grid.

    A crop of the middle often shows only sky; the 1:1 crop is there to show how much detail a
    projector-size frame carries where it has any."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    energy = cv2.Sobel(grey, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(grey, cv2.CV_32F, 0, 1) ** 2
    h, w = grey.shape
    step_x, step_y = (w - CROP[0]) // 8, (h - CROP[1]) // 8
    spots = [(x, y) for x in range(0, w - CROP[0] + 1, step_x) for y in range(0, h - CROP[1] + 1, step_y)]
    return max(spots, key=lambda xy: float(energy[xy[1] : xy[1] + CROP[1], xy[0] : xy[0] + CROP[0]].mean()))


def make(p: Picture, tmp: Path) -> list[Path]:
    video = tmp / f"{p.name}.mp4"
    cli("render", p.show, str(video), "--from", f"{p.at:g}", "--duration", "1", "--size", "1920x1080")
    frame = middle_frame(video)
    x0, y0 = busiest(frame)
    full, crop = DOCS / f"{p.name}-1080p.jpg", DOCS / f"{p.name}-1080p-crop.png"
    save(full, frame)
    save(crop, frame[y0 : y0 + CROP[1], x0 : x0 + CROP[0]])
    data = tmp / p.data
    cli("dataset", "procedural", p.data, "--count", "32", "--size", str(p.size), "--seed", "0", "--out", str(data))
    data_png = DOCS / f"{p.name}-data.png"
    save(data_png, grid(data))
    samples = DOCS / f"{p.name}-samples.png"
    cli("seeds", "sheet", p.model, "--out", str(samples), "--count", "32", "--columns", "8", "--cell", str(p.size))
    return [full, crop, data_png, samples]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=[p.name.split("-", 1)[1] for p in PICTURES], action="append")
    args = ap.parse_args()
    chosen = [p for p in PICTURES if not args.only or p.name.split("-", 1)[1] in args.only]
    with tempfile.TemporaryDirectory() as tmp:
        for p in chosen:
            for path in make(p, Path(tmp)):
                print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
