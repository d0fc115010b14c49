"""Procedural training images for super-resolution: the "srmix" data set.

A super-resolution network learns edges, lines, text and texture, not a subject, so its data
should contain plenty of all of them.  The mix is a third each of:

* shapes: polygons, circles, lines, stripes and printed text on flat or gradient grounds,
  drawn at 4× with anti-aliasing and area-reduced (so edges look like a camera's, not aliased);
* bikes from the ``bikes`` data set (thin spokes and tubes on white, what the bikes scene shows),
  when the wgan plugin is installed;
* colour fields from the built-in ``noisefield`` generator (smooth gradients: the network must
  not invent detail where there is none).

Everything comes through the plugin registry, so this module imports only installation's API.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from installation.api import write_image

FONTS = [
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
]
WORDS = ["BIKE", "watch", "wave", "Gallery", "2026", "no. 862", "SALE", "open", "kinetic", "Lumen", "A-Z", "0123"]


def _colour(rng) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in rng.integers(0, 256, 3))
    return r, g, b


def draw_shapes(rng: np.random.Generator, size: int) -> np.ndarray:
    """Shapes, lines, stripes and text; RGB uint8 ``[size, size, 3]``."""
    big = size * 4
    if rng.random() < 0.5:
        img = np.empty((big, big, 3), np.uint8)
        img[:] = _colour(rng)
    else:
        a, b = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
        t = np.linspace(0, 1, big, dtype=np.float32)[:, None, None]
        img = (a * (1 - t) + b * t).repeat(big, 1).astype(np.uint8)
    for _ in range(int(rng.integers(3, 10))):
        kind = rng.integers(5)
        col = _colour(rng)
        if kind == 0:
            pts = rng.integers(0, big, (int(rng.integers(3, 7)), 2)).astype(np.int32)
            cv2.fillPoly(img, [pts], col, cv2.LINE_AA)
        elif kind == 1:
            c = tuple(int(v) for v in rng.integers(0, big, 2))
            cv2.circle(img, c, int(rng.integers(big // 20, big // 3)), col, int(rng.choice([-1, 2, 4, 8])), cv2.LINE_AA)
        elif kind == 2:
            for _ in range(int(rng.integers(1, 6))):
                p, q = rng.integers(0, big, 2), rng.integers(0, big, 2)
                cv2.line(
                    img, tuple(int(v) for v in p), tuple(int(v) for v in q), col, int(rng.integers(1, 8)), cv2.LINE_AA
                )
        elif kind == 3:  # stripes: fine periodic texture
            x0, y0 = (int(v) for v in rng.integers(0, big // 2, 2))
            w, h = (int(v) for v in rng.integers(big // 6, big // 2, 2))
            period = int(rng.integers(4, 24))
            for k in range(0, w, period):
                cv2.rectangle(img, (x0 + k, y0), (x0 + k + period // 2, y0 + h), col, -1)
        else:
            text = str(rng.choice(WORDS))
            org = (int(rng.integers(0, big // 2)), int(rng.integers(big // 6, big)))
            cv2.putText(
                img,
                text,
                org,
                FONTS[int(rng.integers(len(FONTS)))],
                float(rng.uniform(0.8, 3.5)),
                col,
                int(rng.integers(1, 7)),
                cv2.LINE_AA,
            )
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def make_srmix(out_dir: Path | str, count: int, size: int = 128, seed: int = 0) -> list[Path]:
    """Write ``count`` PNGs (shapes, bikes, noise fields) of ``size``² into ``out_dir``."""
    from installation.api import make_plugin_manager

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reg = make_plugin_manager()
    bikes = reg.datasets().get("bikes")
    kinds = ["shapes", "bikes", "noise"] if bikes else ["shapes", "noise"]
    per = {k: count // len(kinds) + (1 if i < count % len(kinds) else 0) for i, k in enumerate(kinds)}
    paths: list[Path] = []
    for i in range(per["shapes"]):
        img = draw_shapes(np.random.default_rng([seed, 1, i]), size)
        paths.append(write_image(img, out / f"shapes_{seed:04d}_{i:06d}.png"))
    if bikes and per.get("bikes"):
        paths += bikes(out, per["bikes"], size, seed)
    if per["noise"]:
        field = reg.generators()["noisefield"](device="cpu", size=size)
        z = torch.randn(per["noise"], field.latent_dim, generator=torch.Generator().manual_seed(seed)) * 1.5
        for i, chunk in enumerate(z.split(64)):
            imgs = (field.generate(chunk).permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
            for j, img in enumerate(imgs):
                paths.append(write_image(img, out / f"noise_{seed:04d}_{i * 64 + j:06d}.png"))
    return paths
