"""A contact sheet: a grid of samples with each seed's number under its cell."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..progress import Progress
from .latents import frames_of, seed_z

LABEL_H = 16  # pixels of the label strip under each cell
GAP = 2


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """``[N, 3, H, W]`` [0, 1] → ``[N, H, W, 3]`` uint8 (rounded as the renderer rounds)."""
    return (frames.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def render_cells(
    generator: Any,
    seeds: Sequence[int],
    truncation: float | None = None,
    batch: int = 16,
    progress: Progress | None = None,
) -> np.ndarray:
    """``[N, H, W, 3]`` uint8: the frame of each seed, ``batch`` at a time."""
    out = []
    seeds = list(seeds)
    for k in range(0, len(seeds), max(1, batch)):
        chunk = seeds[k : k + max(1, batch)]
        out.append(to_uint8(frames_of(generator, seed_z(chunk, int(generator.latent_dim)), truncation)))
        if progress is not None:
            progress.advance(len(chunk))
    return np.concatenate(out) if out else np.zeros((0, 1, 1, 3), np.uint8)


def cell_size(n_cells: int, h: int, w: int, cell: int | None) -> tuple[int, int]:
    if cell:
        return int(cell), int(round(cell * w / h))
    scale = max(1, math.ceil(96 / max(h, 1)))  # small models are drawn at least ~96 px so labels fit
    return h * scale, w * scale


def layout(n: int, columns: int | None) -> tuple[int, int]:
    cols = int(columns) if columns else max(1, math.ceil(math.sqrt(n)))
    return cols, max(1, math.ceil(n / cols))


def cell_origin(index: int, cols: int, ch: int, cw: int) -> tuple[int, int]:
    """Top-left pixel (y, x) of cell ``index`` in the sheet image."""
    r, c = divmod(index, cols)
    return GAP + r * (ch + LABEL_H + GAP), GAP + c * (cw + GAP)


def compose(
    cells: np.ndarray, labels: Sequence[str], columns: int | None = None, cell: int | None = None
) -> np.ndarray:
    """The sheet ``[H, W, 3]`` uint8: cells scaled (nearest neighbour) to ``cell`` px high, labels below."""
    import cv2

    n, h, w, _ = cells.shape
    ch, cw = cell_size(n, h, w, cell)
    cols, rows = layout(n, columns)
    img = np.full((GAP + rows * (ch + LABEL_H + GAP), GAP + cols * (cw + GAP), 3), 24, np.uint8)
    for i in range(n):
        y, x = cell_origin(i, cols, ch, cw)
        img[y : y + ch, x : x + cw] = cv2.resize(cells[i], (cw, ch), interpolation=cv2.INTER_NEAREST)
        text = labels[i]
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        cv2.putText(
            img,
            text,
            (x + max(0, (cw - tw) // 2), y + ch + (LABEL_H + th) // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            (235, 235, 235),
            1,
            cv2.LINE_AA,
        )
    return img


def write_png(img: np.ndarray, path: Path | str) -> Path:
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(img[..., ::-1])):
        raise OSError(f"cannot write {path}")
    return path


def read_png(path: Path | str) -> np.ndarray:
    """An RGB uint8 image (for tests and tools)."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"cannot read image {path}")
    return np.ascontiguousarray(img[..., ::-1])
