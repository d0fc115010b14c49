"""Image data for training: a folder of images, cropped square, held in memory as uint8.

The data sets these models train on are small (hundreds to tens of thousands of images at
64–256 px), so decoding once and sampling batches from memory is both simplest and fastest
on a 2-core machine.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def list_images(folder: Path | str) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def load_image(path: Path | str, size: int | None = None) -> np.ndarray:
    """Read an image as RGB uint8 HWC, center-cropped square and resized to ``size``."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot decode image: {path}")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if size is not None:
        h, w = img.shape[:2]
        s = min(h, w)
        y, x = (h - s) // 2, (w - s) // 2
        img = img[y : y + s, x : x + s]
        if s != size:
            interp = cv2.INTER_AREA if s > size else cv2.INTER_CUBIC
            img = cv2.resize(img, (size, size), interpolation=interp)
    return img


class ImageFolder:
    """All images of a folder as one uint8 tensor ``[N, 3, size, size]``; batches come out float [0, 1]."""

    def __init__(self, folder: Path | str, size: int, limit: int | None = None):
        paths = list_images(folder)
        if limit:
            paths = paths[:limit]
        if not paths:
            raise ValueError(f"no images in {folder}")
        arr = np.stack([load_image(p, size) for p in paths])
        self.images = torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()
        self.size = size
        self.paths = paths

    def __len__(self) -> int:
        return self.images.shape[0]

    def split(self, val_fraction: float, seed: int = 0) -> tuple[ImageFolder, ImageFolder]:
        """Deterministic train/validation split (the validation part is at least one image)."""
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(self), generator=g)
        n_val = max(1, int(round(len(self) * val_fraction)))
        return self._subset(order[n_val:]), self._subset(order[:n_val])

    def _subset(self, idx: torch.Tensor) -> ImageFolder:
        sub = object.__new__(ImageFolder)
        sub.images = self.images[idx]
        sub.size = self.size
        sub.paths = [self.paths[i] for i in idx.tolist()]
        return sub

    def batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, len(self), (n,), generator=generator)
        return self.images[idx].float() / 255.0


def make_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """``[N, 3, H, W]`` float [0, 1] → one RGB uint8 image with the samples in a grid."""
    images = images.detach().float().clamp(0, 1).cpu()
    n, c, h, w = images.shape
    nrow = nrow or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / nrow))
    grid = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, 3), np.uint8)
    arr = (images.permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = arr[i][..., :3]
    return grid


def write_image(img: np.ndarray, path: Path | str, quality: int = 95) -> Path:
    """Write an RGB uint8 HWC image (format from the suffix; JPEG at ``quality``); OSError naming a failure.

    One writer for every data set maker, frame extractor and sample grid, so a full disk or a bad
    folder is an error that names the file instead of a silently missing image.
    """
    path = Path(path)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if path.suffix.lower() in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params):
        raise OSError(f"cannot write {path}")
    return path


def save_grid(images: torch.Tensor, path: Path | str, nrow: int | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_image(make_grid(images, nrow), path)
