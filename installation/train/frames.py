"""Training images from video clips and image folders: decode, square-crop, resize, JPEG.

This is how the gallery's wave data was made: frames cut from a clip every N frames, cropped
square from the centre, resized and stored as a numbered JPEG sequence that
:class:`installation.train.data.ImageFolder` reads back.  Decoding uses av (FFmpeg), the same
library the runtime records video with.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .data import list_images, write_image

CROPS = ("center", "none")


def square(img: np.ndarray, size: int, crop: str = "center") -> np.ndarray:
    """RGB HWC uint8 → ``size``×``size``: centre crop (``center``) or squash the whole frame (``none``)."""
    if crop not in CROPS:
        raise ValueError(f"crop must be one of {CROPS}, got {crop!r}")
    h, w = img.shape[:2]
    if crop == "center":
        s = min(h, w)
        y, x = (h - s) // 2, (w - s) // 2
        img = img[y : y + s, x : x + s]
    interp = cv2.INTER_AREA if min(img.shape[:2]) > size else cv2.INTER_CUBIC
    return cv2.resize(img, (size, size), interpolation=interp)


def frames_from_video(
    clip: Path | str,
    out_dir: Path | str,
    size: int = 256,
    every: int = 1,
    crop: str = "center",
    start: float = 0.0,
    limit: int | None = None,
    quality: int = 95,
) -> list[Path]:
    """Write every ``every``-th decoded frame of ``clip`` (from ``start`` seconds) as JPEG; return the paths.

    Raises ``ValueError`` naming the clip when it cannot be opened or holds no video stream.
    """
    import av

    clip, out = Path(clip), Path(out_dir)
    if every < 1 or size < 1:
        raise ValueError("--every and --size must be positive")
    if not clip.exists():
        raise ValueError(f"{clip}: file not found")
    try:
        container = av.open(str(clip))
    except Exception as exc:
        raise ValueError(f"{clip}: cannot open as video ({exc})") from exc
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with container:
        if not container.streams.video:
            raise ValueError(f"{clip}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        index = 0
        try:
            for frame in container.decode(stream):
                if frame.time is not None and frame.time < start:
                    continue
                if index % every == 0:
                    img = square(frame.to_ndarray(format="rgb24"), size, crop)
                    paths.append(write_image(img, out / f"{clip.stem}_{index:06d}.jpg", quality))
                    if limit and len(paths) >= limit:
                        break
                index += 1
        except av.error.FFmpegError as exc:
            raise ValueError(f"{clip}: decoding failed after {index} frames ({exc})") from exc
    if not paths:
        raise ValueError(f"{clip}: no frames decoded")
    return paths


def frames_from_images(
    folder: Path | str, out_dir: Path | str, size: int = 256, crop: str = "center", quality: int = 95
) -> list[Path]:
    """Square-crop and resize every image under ``folder`` into ``out_dir`` as JPEG."""
    folder, out = Path(folder), Path(out_dir)
    sources = list_images(folder)
    if not sources:
        raise ValueError(f"{folder}: no images (jpg, png, bmp, webp)")
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, src in enumerate(sources):
        img = cv2.imread(str(src), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"{src}: cannot decode image")
        img = square(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), size, crop)
        paths.append(write_image(img, out / f"{i:06d}_{src.stem}.jpg", quality))
    return paths
