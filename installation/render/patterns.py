"""Test patterns for lining projectors up, drawn in numpy/OpenCV at canvas size.

Each pattern is an ``[H, W, 4] uint8`` RGBA image, row 0 at the top.  Patterns that depend on
the outputs (crosshairs, projector ids) take the calibration profile so they land on each
output's region of the canvas; overlaps then show where the regions meet.
"""

from __future__ import annotations

import numpy as np

PATTERNS = ("grid", "crosshair", "bars", "ramps", "ids", "white", "black")

_ID_COLOURS = [(230, 60, 60), (60, 200, 80), (70, 110, 240), (230, 200, 40), (200, 70, 220), (40, 210, 220)]


def _blank(w: int, h: int, value=0) -> np.ndarray:
    img = np.zeros((h, w, 4), np.uint8)
    img[..., :3] = value
    img[..., 3] = 255
    return img


def _regions(profile, w: int, h: int):
    if profile is None:
        return [("", (0, 0, w, h))]
    return [(o.name or f"output {i + 1}", tuple(o.region)) for i, o in enumerate(profile.outputs)]


def grid(w: int, h: int, spacing: int | None = None) -> np.ndarray:
    """White lines every ``spacing`` pixels (thicker every fourth), centre circle: straightness and keystone."""
    import cv2

    img = _blank(w, h)
    s = spacing or max(8, h // 18)
    for i, x in enumerate(range(0, w, s)):
        img[:, x : x + (3 if i % 4 == 0 else 1), :3] = 255
    for i, y in enumerate(range(0, h, s)):
        img[y : y + (3 if i % 4 == 0 else 1), :, :3] = 255
    img[:, w - 1, :3] = 255
    img[h - 1, :, :3] = 255
    cv2.circle(img, (w // 2, h // 2), min(w, h) // 3, (255, 255, 255, 255), 2, cv2.LINE_AA)
    return img


def crosshair(w: int, h: int, profile=None) -> np.ndarray:
    """A crosshair, diagonals and border per output region: centres and corners of each projector."""
    import cv2

    img = _blank(w, h)
    for n, (_, (x, y, rw, rh)) in enumerate(_regions(profile, w, h)):
        colour = (*_ID_COLOURS[n % len(_ID_COLOURS)], 255)
        cx, cy = x + rw // 2, y + rh // 2
        cv2.rectangle(img, (x, y), (x + rw - 1, y + rh - 1), colour, 2)
        cv2.line(img, (x, cy), (x + rw - 1, cy), (255, 255, 255, 255), 1)
        cv2.line(img, (cx, y), (cx, y + rh - 1), (255, 255, 255, 255), 1)
        cv2.line(img, (x, y), (x + rw - 1, y + rh - 1), colour, 1, cv2.LINE_AA)
        cv2.line(img, (x + rw - 1, y), (x, y + rh - 1), colour, 1, cv2.LINE_AA)
        cv2.circle(img, (cx, cy), max(4, min(rw, rh) // 20), (255, 255, 255, 255), 1, cv2.LINE_AA)
    return img


def bars(w: int, h: int) -> np.ndarray:
    """75 % colour bars over a greyscale step strip: colour balance and per-channel gamma."""
    img = _blank(w, h)
    colours = [(191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0), (191, 0, 191), (191, 0, 0), (0, 0, 191)]
    top = int(h * 0.7)
    edges = np.linspace(0, w, len(colours) + 1).astype(int)
    for c, (a, b) in zip(colours, zip(edges[:-1], edges[1:])):
        img[:top, a:b, :3] = c
    steps = 11
    edges = np.linspace(0, w, steps + 1).astype(int)
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        img[top:, a:b, :3] = round(255 * i / (steps - 1))
    return img


def ramps(w: int, h: int) -> np.ndarray:
    """Flat white, 50 % and 10 % grey bands and a horizontal ramp: blend evenness and black level."""
    img = _blank(w, h)
    bands = np.linspace(0, h, 5).astype(int)
    img[bands[0] : bands[1], :, :3] = 255
    img[bands[1] : bands[2], :, :3] = 128
    img[bands[2] : bands[3], :, :3] = 26
    ramp = np.round(np.linspace(0, 255, w)).astype(np.uint8)
    img[bands[3] : bands[4], :, :3] = ramp[None, :, None]
    return img


def ids(w: int, h: int, profile=None) -> np.ndarray:
    """Each output's region tinted in its own colour with its number and name: which projector is which."""
    import cv2

    img = _blank(w, h)
    for n, (name, (x, y, rw, rh)) in enumerate(_regions(profile, w, h)):
        colour = np.array(_ID_COLOURS[n % len(_ID_COLOURS)])
        region = img[y : y + rh, x : x + rw, :3]
        region[:] = np.maximum(region, (colour * 0.35).astype(np.uint8))
        scale = max(1.0, rh / 90.0)
        text = str(n + 1)
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, max(2, int(scale * 2)))
        cv2.putText(
            img,
            text,
            (x + (rw - tw) // 2, y + (rh + th) // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (*map(int, colour), 255),
            max(2, int(scale * 2)),
            cv2.LINE_AA,
        )
        if name:
            small = max(0.5, scale / 4)
            cv2.putText(
                img,
                name,
                (x + 10, y + rh - 12),
                cv2.FONT_HERSHEY_SIMPLEX,
                small,
                (255, 255, 255, 255),
                max(1, int(small * 2)),
                cv2.LINE_AA,
            )
        cv2.rectangle(img, (x, y), (x + rw - 1, y + rh - 1), (*map(int, colour), 255), 3)
    return img


def make_pattern(name: str, width: int, height: int, profile=None) -> np.ndarray:
    """The pattern ``name`` (one of :data:`PATTERNS`) at ``width × height``, fully opaque."""
    img = _draw(name, width, height, profile)
    img[..., 3] = 255  # anti-aliased drawing also blends alpha
    return img


def _draw(name: str, width: int, height: int, profile) -> np.ndarray:
    if name == "grid":
        return grid(width, height)
    if name == "crosshair":
        return crosshair(width, height, profile)
    if name == "bars":
        return bars(width, height)
    if name == "ramps":
        return ramps(width, height)
    if name == "ids":
        return ids(width, height, profile)
    if name == "white":
        return _blank(width, height, 255)
    if name == "black":
        return _blank(width, height, 0)
    raise ValueError(f"unknown test pattern {name!r}; choose one of {', '.join(PATTERNS)}")


def to_texture(ctx, img: np.ndarray, texture=None):
    """Upload a top-down RGBA image as a GL-convention texture (row 0 at the bottom), reusing ``texture``."""
    data = np.ascontiguousarray(img[::-1]).tobytes()
    h, w = img.shape[:2]
    if texture is not None and texture.size == (w, h):
        texture.write(data)
        return texture
    return ctx.texture((w, h), 4, data)
