"""Plane geometry for calibration: homographies, Catmull-Rom mesh surfaces, polygon checks.

Pure numpy so that validation, the editor and the GL pass agree on one set of formulas and
the tests can check them without a GL context.  Coordinates are normalised, origin top-left,
y down: (0, 0) is the top-left edge of the first pixel, (1, 1) the bottom-right edge of the last.
"""

from __future__ import annotations

import numpy as np

UNIT_SQUARE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


def homography(src, dst) -> np.ndarray:
    """The 3×3 projective map taking the four ``src`` points onto the four ``dst`` points.

    Solved as the 8×8 linear system of the direct linear transform with ``H[2, 2] = 1``;
    the result is scaled so that ``w > 0`` at the first source point, which for a convex
    target quad keeps ``w`` positive over the whole source quad (needed for clip space).
    """
    src = np.asarray(src, dtype=np.float64).reshape(4, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(4, 2)
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(src, dst)):
        a[2 * i] = (x, y, 1, 0, 0, 0, -u * x, -u * y)
        a[2 * i + 1] = (0, 0, 0, x, y, 1, -v * x, -v * y)
        b[2 * i], b[2 * i + 1] = u, v
    try:
        h = np.linalg.solve(a, b)
    except np.linalg.LinAlgError as exc:
        raise ValueError("the four points are degenerate (three of them lie on one line)") from exc
    m = np.append(h, 1.0).reshape(3, 3)
    w0 = m[2] @ np.array([*src[0], 1.0])
    return m / w0


def apply_homography(h: np.ndarray, points) -> np.ndarray:
    """Map ``[..., 2]`` points through ``h`` (with the perspective divide)."""
    pts = np.asarray(points, dtype=np.float64)
    homog = pts @ h[:, :2].T + h[:, 2]
    return homog[..., :2] / homog[..., 2:3]


def homogeneous(h: np.ndarray, points) -> np.ndarray:
    """Map ``[..., 2]`` points to ``[..., 3]`` homogeneous coordinates (no divide)."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ h[:, :2].T + h[:, 2]


def _cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def quad_problem(points, eps: float = 1e-9) -> str | None:
    """Why four points in order cannot be a corner-pin quad, or ``None`` when they can.

    A homography from the unit square is well behaved only onto a strictly convex quad;
    a bow-tie (self-crossing) or a dent would fold the image.  Both windings are accepted,
    so a mirrored quad for rear projection is fine.
    """
    p = [tuple(map(float, q)) for q in points]
    if len(p) != 4:
        return f"needs 4 points, got {len(p)}"
    turns = [_cross(p[i], p[(i + 1) % 4], p[(i + 2) % 4]) for i in range(4)]
    if any(abs(t) <= eps for t in turns):
        return "three corners lie on one line (degenerate quad)"
    if all(t > 0 for t in turns) or all(t < 0 for t in turns):
        return None
    if _segments_cross(p[0], p[1], p[2], p[3]) or _segments_cross(p[1], p[2], p[3], p[0]):
        return "the quad crosses itself (corners must go top-left, top-right, bottom-right, bottom-left)"
    return "the quad is not convex"


def _segments_cross(a, b, c, d) -> bool:
    """Proper intersection of segments ab and cd (touching at end points does not count)."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    return (d1 * d2 < 0) and (d3 * d4 < 0)


def polygon_self_crosses(points) -> bool:
    """True when two non-adjacent edges of the closed polygon intersect."""
    p = [tuple(map(float, q)) for q in points]
    n = len(p)
    for i in range(n):
        for j in range(i + 1, n):
            if j == i or (j + 1) % n == i or (i + 1) % n == j:
                continue
            if _segments_cross(p[i], p[(i + 1) % n], p[j], p[(j + 1) % n]):
                return True
    return False


def flat_grid(cols: int, rows: int) -> np.ndarray:
    """Control points of an undistorted mesh, ``[rows, cols, 2]``, row-major from the top-left."""
    xs = np.linspace(0.0, 1.0, cols)
    ys = np.linspace(0.0, 1.0, rows)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx, gy], axis=-1)


def _catmull_rom_axis0(g: np.ndarray, sub: int) -> np.ndarray:
    """Uniform Catmull-Rom along axis 0 with ``sub`` steps per span, end spans extrapolated linearly.

    Linear phantom points make the spline reproduce straight lines exactly, so a flat grid
    stays an exact identity.
    """
    n = g.shape[0]
    ext = np.concatenate([2 * g[:1] - g[1:2], g, 2 * g[-1:] - g[-2:-1]], axis=0)
    t = np.arange(sub) / sub
    t2, t3 = t * t, t * t * t
    w = np.stack(
        [
            -0.5 * t3 + t2 - 0.5 * t,
            1.5 * t3 - 2.5 * t2 + 1.0,
            -1.5 * t3 + 2.0 * t2 + 0.5 * t,
            0.5 * t3 - 0.5 * t2,
        ],
        axis=1,
    )  # [sub, 4]
    spans = []
    for i in range(n - 1):
        window = ext[i : i + 4]  # [4, ...]
        spans.append(np.tensordot(w, window, axes=(1, 0)))
    spans.append(g[-1:])
    return np.concatenate(spans, axis=0)


def mesh_surface(points: np.ndarray, sub: int) -> np.ndarray:
    """Evaluate the bicubic Catmull-Rom surface through ``points [rows, cols, 2]``.

    Returns ``[(rows-1)*sub+1, (cols-1)*sub+1, 2]``: the warped position of each vertex of a
    regular tessellation whose parameters are ``flat_grid`` of the same shape.
    """
    pts = np.asarray(points, dtype=np.float64)
    rows_done = _catmull_rom_axis0(pts, sub)
    return np.swapaxes(_catmull_rom_axis0(np.swapaxes(rows_done, 0, 1), sub), 0, 1)


def grid_indices(rows: int, cols: int) -> np.ndarray:
    """Triangle indices (two per cell) of a ``rows × cols`` vertex grid, row-major."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    i0 = (r * cols + c).ravel()
    i1, i2, i3 = i0 + 1, i0 + cols, i0 + cols + 1
    return np.stack([i0, i1, i2, i1, i3, i2], axis=1).astype(np.uint32).ravel()
