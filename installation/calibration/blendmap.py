"""Soft-edge ramps baked on the CPU into two 1-D lookup tables per output.

Bourke's blend ``f(t) = ½(2t)^p`` below ½ and ``1 − ½(2(1 − t))^p`` above, encoded for the
projector's gamma as ``f^(1/γ)``, so the light of two facing ramps adds to one.  The blend is
separable (horizontal × vertical), so two small float textures replace a dozen ``pow`` calls
per fragment; sampled at pixel centres they reproduce the formula exactly.
"""

from __future__ import annotations

import numpy as np

from .profile import BlendEdge, Output


def bourke(t: np.ndarray, p: float) -> np.ndarray:
    """Bourke's blend curve on ``t`` in [0, 1]; ``bourke(t) + bourke(1 - t) == 1``."""
    t = np.clip(t, 0.0, 1.0)
    low = 0.5 * np.power(2.0 * t, p)
    high = 1.0 - 0.5 * np.power(2.0 * (1.0 - t), p)
    return np.where(t < 0.5, low, high)


def edge_ramp(distance: np.ndarray, edge: BlendEdge) -> np.ndarray:
    """Encoded blend factor at ``distance`` canvas pixels from the region edge."""
    out = np.ones_like(distance, dtype=np.float64)
    if edge.width <= 0:
        return out
    inside = distance < edge.width
    out[inside] = np.power(bourke(distance[inside] / edge.width, edge.curve), 1.0 / edge.gamma)
    return out


def blend_tables(output: Output) -> tuple[np.ndarray, np.ndarray]:
    """``(horizontal [w], vertical [h])`` float32 factors at the region's pixel centres."""
    _, _, w, h = output.region
    xs = np.arange(w) + 0.5
    ys = np.arange(h) + 0.5
    b = output.blend
    horizontal = edge_ramp(xs, b.left) * edge_ramp(w - xs, b.right)
    vertical = edge_ramp(ys, b.top) * edge_ramp(h - ys, b.bottom)
    return horizontal.astype(np.float32), vertical.astype(np.float32)
