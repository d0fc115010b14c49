"""Procedural ocean-wave pictures: the data set the shipped StyleGAN2 is trained on.

No wave photographs can be downloaded on the machines this project trains on, so the plugin
paints its own: a sky (gradient, clouds, sun or moon with glow), a horizon at a varying height
and tilt, and a sea whose swell is a sum of travelling sinusoids seen in perspective (long,
flat bands near the horizon, big rolling crests in front).  Crests are lit, troughs shaded,
foam gathers on the steepest crests and breaks up with noise; the sun lays a glitter path on
the water.  Palettes (day, dusk, night, storm, tropic) are drawn with jitter, so a generator
trained on it must learn both structure (sky above, sea below, crests parallel to the
horizon) and colour variety.

Each picture is painted at twice the target size and reduced with area averaging, which
anti-aliases crests and foam the way a downscaled video frame would be.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from installation.api import write_image

# (sky top, sky at horizon, sea at horizon, deep sea, crest light, sun colour) per mood, RGB 0..1
PALETTES = {
    "day": (
        [0.25, 0.50, 0.85],
        [0.70, 0.85, 0.95],
        [0.35, 0.60, 0.70],
        [0.03, 0.20, 0.35],
        [0.55, 0.80, 0.85],
        [1.0, 0.98, 0.90],
    ),
    "dusk": (
        [0.20, 0.15, 0.40],
        [0.98, 0.60, 0.35],
        [0.60, 0.40, 0.45],
        [0.10, 0.08, 0.20],
        [0.95, 0.60, 0.40],
        [1.0, 0.75, 0.40],
    ),
    "night": (
        [0.01, 0.02, 0.08],
        [0.10, 0.15, 0.30],
        [0.08, 0.12, 0.22],
        [0.00, 0.02, 0.06],
        [0.35, 0.45, 0.60],
        [0.90, 0.92, 1.00],
    ),
    "storm": (
        [0.30, 0.32, 0.36],
        [0.62, 0.64, 0.66],
        [0.35, 0.40, 0.42],
        [0.08, 0.12, 0.14],
        [0.60, 0.66, 0.68],
        [0.85, 0.85, 0.85],
    ),
    "tropic": (
        [0.15, 0.55, 0.95],
        [0.80, 0.92, 1.00],
        [0.20, 0.75, 0.75],
        [0.00, 0.35, 0.50],
        [0.55, 0.95, 0.90],
        [1.0, 1.0, 0.95],
    ),
}


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Value noise in [-1, 1]: a coarse random grid upsampled bicubically."""
    grid = rng.uniform(-1, 1, (cells + 3, cells + 3)).astype(np.float32)
    big = cv2.resize(grid, (w + w // cells * 3, h + h // cells * 3), interpolation=cv2.INTER_CUBIC)
    return big[:h, :w]


def _jitter(rng: np.random.Generator, colour, amount: float) -> np.ndarray:
    return np.clip(np.asarray(colour, np.float32) + rng.normal(0, amount, 3).astype(np.float32), 0, 1)


def paint_wave(rng: np.random.Generator, size: int) -> np.ndarray:
    """One wave picture, RGB uint8 ``[size, size, 3]``."""
    s = size * 2
    mood = rng.choice(list(PALETTES), p=[0.32, 0.22, 0.12, 0.16, 0.18])
    sky_top, sky_hor, sea_hor, sea_deep, crest, sun_col = (_jitter(rng, c, 0.06) for c in PALETTES[mood])
    ys, xs = np.mgrid[0:s, 0:s].astype(np.float32) / s

    horizon = rng.uniform(0.22, 0.55)
    tilt = rng.normal(0, 0.04)
    hline = horizon + tilt * (xs - 0.5)

    # sky: gradient, soft cloud banks, a sun/moon with glow
    t_sky = np.clip(ys / np.maximum(hline, 1e-3), 0, 1)[..., None]
    img = sky_top * (1 - t_sky**0.8) + sky_hor * t_sky**0.8
    cloud_amt = {"storm": 0.8, "day": 0.35, "dusk": 0.4, "night": 0.2, "tropic": 0.2}[mood] * rng.uniform(0.3, 1.2)
    clouds = np.clip(
        _smooth_noise(rng, s, s, 3) * 0.7 + _smooth_noise(rng, s, s, 7) * 0.3 + rng.uniform(-0.5, 0.3), 0, 1
    )
    clouds = clouds * np.clip(1.2 - ys / np.maximum(hline, 1e-3), 0, 1)  # banks thin out toward the horizon
    cloud_col = np.clip(sky_hor * 0.6 + np.float32(0.4) * (0.95 if mood != "night" else 0.3), 0, 1)
    img = img * (1 - cloud_amt * clouds[..., None]) + cloud_col * cloud_amt * clouds[..., None]
    sun_x, sun_y = rng.uniform(0.15, 0.85), horizon * rng.uniform(0.3, 0.95)
    sun_r = rng.uniform(0.03, 0.07)
    show_sun = mood != "storm" and rng.random() < 0.75
    if show_sun:
        d = np.sqrt((xs - sun_x) ** 2 + (ys - sun_y) ** 2)
        glow = np.exp(-d / (sun_r * 3)) * 0.6 + (d < sun_r) * 1.0
        img = img + sun_col * np.clip(glow, 0, 1)[..., None] * (1 - 0.7 * cloud_amt * clouds[..., None])

    # sea: perspective depth below the horizon line
    below = ys > hline
    depth = np.maximum(ys - hline, 1e-3) / np.maximum(1 - hline, 1e-3)  # 0 at horizon, 1 at bottom
    z = 1.0 / (depth + 0.04)  # distance along the water
    swell = np.zeros_like(xs)
    slope = np.zeros_like(xs)
    n_waves = rng.integers(3, 6)
    main_dir = rng.normal(0, 0.25)
    for k in range(n_waves):
        freq = rng.uniform(0.7, 1.4) * (1.6**k) * 1.3
        ang = main_dir + rng.normal(0, 0.25)
        amp = rng.uniform(0.6, 1.0) / (1.5**k)
        phase = rng.uniform(0, 2 * np.pi)
        # waves travel across the water plane: x spreads with distance, z is the range
        arg = freq * (np.cos(ang) * z + np.sin(ang) * (xs - 0.5) * z * 2.0) + phase
        swell += amp * np.sin(arg)
        slope += amp * np.cos(arg)
    swell += 0.25 * _smooth_noise(rng, s, s, 6)
    sharp = rng.uniform(1.0, 3.0)
    crest_f = np.clip((swell - 0.2) / 1.2, 0, 1) ** sharp
    trough_f = np.clip(-swell / 1.5, 0, 1)

    sea_t = np.clip(depth, 0, 1)[..., None] ** 0.6
    sea = sea_hor * (1 - sea_t) + sea_deep * sea_t
    # light from behind the viewer: faces turned toward us (positive slope) are brighter
    facing = np.clip(0.5 + 0.5 * slope / 1.5, 0, 1)[..., None]
    sea = sea * (0.55 + 0.7 * facing) * (1 - 0.45 * trough_f[..., None])
    sea = sea + crest * (0.8 * crest_f[..., None]) * (0.3 + 0.7 * sea_t)
    # sky reflection near the horizon (Fresnel): distant water mirrors the sky
    fres = np.exp(-depth * rng.uniform(4, 9))[..., None]
    sea = sea * (1 - 0.5 * fres) + sky_hor * 0.5 * fres
    # foam on the steepest, highest crests, broken up by noise; more in the foreground
    foam_amt = {"storm": 1.0, "day": 0.6, "dusk": 0.45, "night": 0.3, "tropic": 0.7}[mood] * rng.uniform(0.4, 1.3)
    foam_noise = np.clip(_smooth_noise(rng, s, s, 24) * 0.8 + _smooth_noise(rng, s, s, 48) * 0.5 + 0.4, 0, 1)
    foam = np.clip((swell - rng.uniform(0.45, 0.9)) * 3.5, 0, 1) * foam_noise * np.clip(depth * 1.6, 0, 1) * foam_amt
    foam_col = np.clip(np.float32(0.92) * (0.6 + 0.4 * sky_hor), 0, 1)
    sea = sea * (1 - foam[..., None]) + foam_col * foam[..., None]
    # glitter path of the sun on the water
    if show_sun:
        path = np.exp(-(((xs - sun_x) / (0.04 + 0.2 * depth)) ** 2)) * np.clip(slope * 0.5 + 0.5, 0, 1) ** 4
        sea = sea + sun_col * (0.7 * path * np.exp(-depth * 1.5))[..., None]

    img = np.where(below[..., None], sea, img)
    # soft horizon haze line
    haze = np.exp(-(((ys - hline) * s / 3.0) ** 2))[..., None] * 0.25
    img = img * (1 - haze) + sky_hor * haze
    img = np.clip(img, 0, 1)
    small = cv2.resize(img.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return (small * 255 + 0.5).astype(np.uint8)


def make_waves(out_dir: Path | str, count: int, size: int, seed: int) -> list[Path]:
    """``register_datasets`` maker: ``count`` wave JPEGs of ``size``² in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(int(count)):
        img = paint_wave(rng, int(size))
        paths.append(write_image(img, out / f"wave_{i:06d}.jpg"))
    return paths
