"""A procedural watch-face data set: the images the shipped VAE and deblur weights learn from.

Real watch photographs cannot be downloaded here, so the plugin draws its own: a strap, a
round or square case with a bezel and crown, a dial, hour markers (ticks, dots or bars), and
hour/minute (and sometimes seconds) hands at a random time, in varied colours.  Everything is
drawn with OpenCV's anti-aliased primitives at 4× the target size and area-downsampled, so the
edges are clean and the models learn shapes rather than aliasing.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from installation.api import write_image

SUPERSAMPLE = 4

# (B, G, R) palettes, because cv2 draws in BGR
METALS = [(200, 200, 205), (70, 170, 215), (120, 140, 190), (40, 40, 45), (150, 150, 150), (90, 120, 160)]
DIALS = [
    (245, 245, 245),
    (25, 25, 30),
    (120, 60, 20),
    (60, 90, 30),
    (200, 225, 235),
    (40, 40, 110),
    (160, 160, 165),
    (30, 70, 120),
    (230, 200, 150),
]
STRAPS = [(30, 50, 90), (20, 20, 20), (60, 60, 60), (40, 80, 140), (90, 60, 30), (180, 180, 185), (50, 30, 110)]
BACKGROUNDS = [
    (235, 235, 235),
    (200, 215, 225),
    (60, 60, 60),
    (180, 190, 160),
    (150, 170, 200),
    (210, 200, 190),
    (90, 100, 110),
]


def _jitter(rng: np.random.Generator, colour: tuple[int, ...], amount: int = 18) -> tuple[int, int, int]:
    r, g, b = (int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)
    return r, g, b


def _pick(rng: np.random.Generator, palette: list) -> tuple[int, int, int]:
    return _jitter(rng, palette[int(rng.integers(len(palette)))])


def _contrast(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """A marker/hand colour that reads against ``colour`` (dark on light, light on dark)."""
    return (25, 25, 25) if sum(colour) / 3 > 120 else (235, 235, 235)


def _pt(cx: float, cy: float, r: float, angle: float) -> tuple[int, int]:
    """Point at radius ``r`` and clock angle ``angle`` (radians, 0 = 12 o'clock, clockwise), in 1/16 px."""
    return (int(round((cx + r * math.sin(angle)) * 16)), int(round((cy - r * math.cos(angle)) * 16)))


def _line(img, p, q, colour, width):
    cv2.line(img, p, q, colour, max(1, int(round(width))), cv2.LINE_AA, shift=4)


def _circle(img, cx, cy, r, colour, thickness=-1):
    cv2.circle(img, (int(cx * 16), int(cy * 16)), int(r * 16), colour, thickness, cv2.LINE_AA, shift=4)


def _rounded_rect(img, cx, cy, half, radius, colour):
    x0, y0, x1, y1 = cx - half, cy - half, cx + half, cy + half
    radius = min(radius, half)
    cv2.rectangle(img, (int(x0 + radius), int(y0)), (int(x1 - radius), int(y1)), colour, -1, cv2.LINE_AA)
    cv2.rectangle(img, (int(x0), int(y0 + radius)), (int(x1), int(y1 - radius)), colour, -1, cv2.LINE_AA)
    for x, y in (
        (x0 + radius, y0 + radius),
        (x1 - radius, y0 + radius),
        (x0 + radius, y1 - radius),
        (x1 - radius, y1 - radius),
    ):
        _circle(img, x, y, radius, colour)


def draw_watch(size: int, rng: np.random.Generator) -> np.ndarray:
    """One watch face, RGB uint8 ``[size, size, 3]``."""
    s = size * SUPERSAMPLE
    img = np.empty((s, s, 3), np.uint8)
    bg = _pick(rng, BACKGROUNDS)
    img[:] = bg
    cx = s / 2 + rng.uniform(-0.04, 0.04) * s
    cy = s / 2 + rng.uniform(-0.04, 0.04) * s
    radius = rng.uniform(0.27, 0.36) * s
    square = rng.random() < 0.35
    metal = _pick(rng, METALS)

    # strap behind the case, top and bottom, slightly narrower than the case
    strap = _pick(rng, STRAPS)
    half_w = radius * rng.uniform(0.55, 0.7)
    cv2.rectangle(img, (int(cx - half_w), 0), (int(cx + half_w), s), strap, -1, cv2.LINE_AA)
    if rng.random() < 0.5:  # stitching or link lines give the strap texture
        edge = _contrast(strap) if rng.random() < 0.5 else _jitter(rng, strap, 40)
        for y in np.arange(0, s, s / rng.uniform(10, 16)):
            if abs(y - cy) > radius:
                _line(
                    img, (int((cx - half_w) * 16), int(y * 16)), (int((cx + half_w) * 16), int(y * 16)), edge, s / 150
                )

    # crown at 3 o'clock, then case, bezel and dial
    crown_r = radius * 0.12
    cv2.rectangle(
        img,
        (int(cx + radius * 0.95), int(cy - crown_r)),
        (int(cx + radius + crown_r * 1.4), int(cy + crown_r)),
        _jitter(rng, metal, 10),
        -1,
        cv2.LINE_AA,
    )
    dial = _pick(rng, DIALS)
    bezel = rng.uniform(0.08, 0.16)
    if square:
        _rounded_rect(img, cx, cy, radius, radius * rng.uniform(0.15, 0.35), metal)
        _rounded_rect(img, cx, cy, radius * (1 - bezel), radius * 0.12, dial)
    else:
        _circle(img, cx, cy, radius, metal)
        if rng.random() < 0.4:  # a darker ring on the bezel
            _circle(
                img,
                cx,
                cy,
                radius * (1 - bezel / 2),
                _jitter(rng, tuple(int(c * 0.6) for c in metal)),
                max(1, int(s / 90)),
            )
        _circle(img, cx, cy, radius * (1 - bezel), dial)

    ink = _contrast(dial)
    accent = _jitter(rng, (40, 40, 200)) if rng.random() < 0.5 else _jitter(rng, metal)
    r_dial = radius * (1 - bezel)
    style = int(rng.integers(3))  # 0 ticks, 1 dots, 2 bars at the quarters
    for h in range(12):
        a = h * math.pi / 6
        quarter = h % 3 == 0
        if style == 0:
            inner = r_dial * (0.74 if quarter else 0.82)
            _line(img, _pt(cx, cy, inner, a), _pt(cx, cy, r_dial * 0.92, a), ink, s / (45 if quarter else 80))
        elif style == 1:
            px, py = _pt(cx, cy, r_dial * 0.84, a)
            _circle(img, px / 16, py / 16, s / (40 if quarter else 70), ink)
        else:
            if quarter:
                _line(img, _pt(cx, cy, r_dial * 0.66, a), _pt(cx, cy, r_dial * 0.9, a), ink, s / 30)
            else:
                px, py = _pt(cx, cy, r_dial * 0.85, a)
                _circle(img, px / 16, py / 16, s / 90, ink)

    # hands at a random time
    hours, minutes = rng.uniform(0, 12), rng.uniform(0, 60)
    hand = ink if rng.random() < 0.6 else _jitter(rng, metal)
    a_min = minutes / 60 * 2 * math.pi
    a_hour = (hours + minutes / 60) / 12 * 2 * math.pi
    _line(img, _pt(cx, cy, -r_dial * 0.12, a_hour), _pt(cx, cy, r_dial * 0.5, a_hour), hand, s / 28)
    _line(img, _pt(cx, cy, -r_dial * 0.15, a_min), _pt(cx, cy, r_dial * 0.8, a_min), hand, s / 45)
    if rng.random() < 0.5:
        a_sec = rng.uniform(0, 2 * math.pi)
        _line(img, _pt(cx, cy, -r_dial * 0.2, a_sec), _pt(cx, cy, r_dial * 0.85, a_sec), accent, s / 110)
    _circle(img, cx, cy, s / 45, hand)

    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)


def make_watches(out_dir: Path | str, count: int, size: int = 64, seed: int = 0) -> list[Path]:
    """Write ``count`` watch faces (``size``² PNG) into ``out_dir``; return the paths.

    The ``register_datasets`` maker signature: same seed → same images on every machine.
    """
    if count < 0 or size < 8:
        raise ValueError(f"count must be >= 0 and size >= 8, got count={count}, size={size}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(int(seed))
    paths = []
    for i in range(int(count)):
        paths.append(write_image(draw_watch(int(size), rng), out / f"watch_{i:06d}.png"))
    return paths
