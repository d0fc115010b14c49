"""Procedural bicycle side views on a white background: the data set the shipped WGAN learns.

No bike photos can be downloaded here, so the plugin draws its own.  Each image is one bicycle
seen from the side, like a catalogue shot on white: two spoked wheels with tyres and rims, a
diamond (or step-through) frame of tubes, fork, chainring, saddle on a seat post and a handlebar
(drop, flat or riser).  Geometry, colours, size, position and facing are drawn at random from a
seeded generator, so a given ``seed`` always gives the same folder.

Drawing happens at 4× (at least 256 px) with anti-aliased lines and is reduced with area
averaging, which gives clean thin lines at 64 px.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from installation.api import write_image

WHITE = (255, 255, 255)

# frame paints: saturated classics plus black, silver and pastels (RGB)
FRAME_COLOURS = [
    (200, 30, 30),
    (20, 60, 170),
    (30, 130, 60),
    (240, 190, 20),
    (240, 110, 20),
    (20, 20, 20),
    (150, 150, 160),
    (120, 40, 150),
    (0, 150, 170),
    (230, 90, 140),
    (90, 60, 40),
    (170, 210, 230),
]


def _jitter(rng: np.random.Generator, rgb, amount: int = 25) -> tuple[int, int, int]:
    r, g, b = (int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in rgb)
    return r, g, b


def _pt(p) -> tuple[int, int]:
    return int(round(p[0] * 16)), int(round(p[1] * 16))  # 4 fractional bits for cv2 shift=4


def _line(img, a, b, colour, width):
    cv2.line(img, _pt(a), _pt(b), colour, max(1, int(round(width))), cv2.LINE_AA, shift=4)


def _circle(img, c, r, colour, width):
    cv2.circle(
        img, _pt(c), int(round(r * 16)), colour, -1 if width < 0 else max(1, int(round(width))), cv2.LINE_AA, shift=4
    )


def _wheel(img, rng, centre, r, s, tyre, rim, spokes, hub):
    """Tyre, rim, spokes and hub of one wheel of radius ``r`` (s: pixels per unit line width)."""
    tyre_w = r * rng.uniform(0.07, 0.14)
    _circle(img, centre, r - tyre_w / 2, tyre, tyre_w)
    rim_r = r - tyre_w
    _circle(img, centre, rim_r, rim, max(1.0, 0.9 * s))
    if rng.random() < 0.15:  # disc / deep-section wheel
        _circle(img, centre, rim_r * rng.uniform(0.55, 0.9), rim, rim_r * 0.25)
    n = int(rng.choice([16, 20, 24, 28, 32, 36]))
    phase = rng.uniform(0, 2 * math.pi)
    for k in range(n):
        a = phase + 2 * math.pi * k / n
        hub_side = 0.06 * r * (1 if k % 2 else -1)  # crossed lacing: spokes leave the hub off-centre
        start = (centre[0] + hub_side * math.cos(a + math.pi / 2), centre[1] + hub_side * math.sin(a + math.pi / 2))
        end = (centre[0] + rim_r * math.cos(a), centre[1] + rim_r * math.sin(a))
        _line(img, start, end, spokes, max(1.0, 0.35 * s))
    _circle(img, centre, 0.07 * r, hub, -1)


def draw_bike(rng: np.random.Generator, size: int) -> np.ndarray:
    """One bicycle on white, RGB uint8 ``[size, size, 3]``."""
    scale = 4 if size >= 64 else max(4, 256 // size)
    big = max(256, size * scale)
    img = np.full((big, big, 3), 255, np.uint8)
    u = big / 100.0  # drawing units: 100 across the canvas

    r = rng.uniform(14.5, 19.0)  # wheel radius
    wheelbase = rng.uniform(2.25, 2.75) * r
    total_w = wheelbase + 2 * r
    cx = 50 + rng.uniform(-4, 4)
    axle_y = 50 + rng.uniform(-2, 8) + 0.35 * r
    rear = np.array([cx - wheelbase / 2, axle_y])
    front = np.array([cx + wheelbase / 2, axle_y])
    if total_w > 96:  # keep the whole bike in frame
        k = 96 / total_w
        r, wheelbase = r * k, wheelbase * k
        rear = np.array([cx - wheelbase / 2, axle_y])
        front = np.array([cx + wheelbase / 2, axle_y])

    frame = _jitter(rng, FRAME_COLOURS[rng.integers(len(FRAME_COLOURS))])
    dark = _jitter(rng, (30, 30, 30), 20)
    tyre = (int(rng.integers(15, 60)),) * 3 if rng.random() < 0.85 else _jitter(rng, (150, 110, 70), 20)
    rim = (int(rng.integers(120, 200)),) * 3 if rng.random() < 0.6 else dark
    spoke = (int(rng.integers(110, 190)),) * 3
    tube = rng.uniform(1.0, 2.0)  # tube thickness in units

    # frame key points (y grows downward)
    bb = np.array([rear[0] + rng.uniform(0.42, 0.5) * wheelbase, axle_y + rng.uniform(0.05, 0.18) * r])
    seat_angle = math.radians(rng.uniform(70, 76))
    seat_len = rng.uniform(0.95, 1.25) * r
    seat_top = bb + seat_len * np.array([-math.cos(seat_angle), -math.sin(seat_angle)])
    head_angle = math.radians(rng.uniform(68, 74))
    head_len = rng.uniform(0.25, 0.4) * r
    fork_len = rng.uniform(0.95, 1.1) * r
    head_bottom = front + fork_len * np.array([-math.cos(head_angle), -math.sin(head_angle)])
    head_top = head_bottom + head_len * np.array([-math.cos(head_angle), -math.sin(head_angle)])
    step_through = rng.random() < 0.2

    su = u  # pixels per unit
    w = tube * su
    _wheel(img, rng, rear * u, r * u, su, tyre, rim, spoke, dark)
    _wheel(img, rng, front * u, r * u, su, tyre, rim, spoke, dark)

    # chainring and chain
    ring_r = rng.uniform(0.18, 0.26) * r
    _circle(img, bb * u, ring_r * u, dark, 0.9 * su)
    _circle(img, rear * u, ring_r * 0.45 * u, dark, 0.8 * su)
    for sign in (-1, 1):
        _line(img, (bb + [0, sign * ring_r]) * u, (rear + [0, sign * ring_r * 0.45]) * u, dark, 0.5 * su)

    # tubes: chain stays, seat stays, seat tube, down tube, top tube, head tube, fork
    _line(img, bb * u, rear * u, frame, w * 0.8)
    _line(img, seat_top * u, rear * u, frame, w * 0.75)
    _line(img, bb * u, seat_top * u, frame, w)
    _line(img, bb * u, head_bottom * u, frame, w * 1.15)
    if step_through:
        mid = bb + 0.45 * (seat_top - bb)
        _line(img, mid * u, (head_bottom + 0.5 * (head_top - head_bottom)) * u, frame, w)
    else:
        top_end = head_top + rng.uniform(-0.15, 0.15) * head_len * np.array(
            [math.cos(head_angle), math.sin(head_angle)]
        )
        _line(img, seat_top * u, top_end * u, frame, w)
    _line(img, head_bottom * u, head_top * u, frame, w * 1.3)
    fork_colour = frame if rng.random() < 0.7 else dark
    _line(img, head_bottom * u, front * u, fork_colour, w * 0.8)

    # crank arm and pedal
    crank_a = rng.uniform(0, 2 * math.pi)
    pedal = bb + 0.17 * r * np.array([math.cos(crank_a), math.sin(crank_a)])
    _line(img, bb * u, pedal * u, dark, 0.8 * su)
    _line(img, (pedal - [1.3, 0]) * u, (pedal + [1.3, 0]) * u, dark, 1.0 * su)

    # seat post and saddle
    post_len = rng.uniform(0.12, 0.35) * r
    saddle_base = seat_top + post_len * np.array([-math.cos(seat_angle), -math.sin(seat_angle)])
    _line(img, seat_top * u, saddle_base * u, (150, 150, 150), 0.8 * su)
    saddle_len = rng.uniform(0.38, 0.5) * r
    saddle_col = dark if rng.random() < 0.75 else _jitter(rng, (140, 90, 50), 25)
    nose = saddle_base + [saddle_len * 0.6, 0.2]
    tail = saddle_base - [saddle_len * 0.4, 0.3]
    _line(img, tail * u, nose * u, saddle_col, 1.6 * su)

    # stem and handlebar: drop, flat or riser
    stem_top = head_top + rng.uniform(0.05, 0.2) * r * np.array([-math.cos(head_angle), -math.sin(head_angle)])
    bar = stem_top + [rng.uniform(0.12, 0.25) * r, rng.uniform(-0.05, 0.05) * r]
    _line(img, head_top * u, stem_top * u, dark, 0.9 * su)
    _line(img, stem_top * u, bar * u, dark, 0.9 * su)
    kind = rng.integers(3)
    bw = 0.8 * su
    if kind == 0:  # drop bar: forward reach then a hook down and back
        reach = bar + [0.12 * r, 0.02 * r]
        drop = reach + [0.02 * r, 0.22 * r]
        end = drop - [0.12 * r, -0.02 * r]
        for a, b in ((bar, reach), (reach, drop), (drop, end)):
            _line(img, a * u, b * u, dark, bw)
    elif kind == 1:  # flat bar with grip
        grip = bar - [0.1 * r, 0.0]
        _line(img, bar * u, grip * u, dark, bw * 1.4)
    else:  # riser / city bar sweeping back
        up = bar + [-0.02 * r, -0.16 * r]
        back = up - [0.2 * r, 0.0]
        _line(img, bar * u, up * u, dark, bw)
        _line(img, up * u, back * u, dark, bw * 1.3)

    if rng.random() < 0.5:
        img = img[:, ::-1]  # facing left or right
    out = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out)


def make_bikes(out_dir: Path | str, count: int, size: int = 64, seed: int = 0) -> list[Path]:
    """Write ``count`` PNG bikes of ``size``² into ``out_dir``; the ``register_datasets`` maker."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if count < 0 or size < 8:
        raise ValueError(f"need count >= 0 and size >= 8, got count={count} size={size}")
    paths = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])  # image i is the same whatever the count
        img = draw_bike(rng, size)
        paths.append(write_image(img, out / f"bike_{seed:04d}_{i:06d}.png"))
    return paths
