"""Rasterise an output's masks into one greyscale image (row 0 at the top, 255 shows).

Masks are baked once per profile change rather than tested per fragment, so any number of
polygons and images costs the pass one texture fetch.
"""

from __future__ import annotations

import numpy as np

from .profile import CalibrationProfile, Output

_SHIFT = 4  # sub-pixel bits for cv2.fillPoly


class MaskImageError(ValueError):
    """A mask image that cannot be read."""


def rasterize_masks(output: Output, profile: CalibrationProfile | None = None) -> np.ndarray | None:
    """``[H, W] uint8`` coverage for ``output`` (output resolution) or ``None`` when it has no masks."""
    import cv2

    if not output.masks:
        return None
    w, h = output.resolution
    total = np.ones((h, w), dtype=np.float32)
    for mask in output.masks:
        shown: np.ndarray
        if mask.polygon is not None:
            layer = np.zeros((h, w), dtype=np.uint8)
            pts = np.asarray(mask.polygon, dtype=np.float64) * (w, h) - 0.5  # edge coords → pixel centres
            cv2.fillPoly(layer, [np.round(pts * (1 << _SHIFT)).astype(np.int32)], 255, cv2.LINE_8, _SHIFT)
            shown = layer.astype(np.float32) / 255.0
            if mask.mode == "hide":
                shown = 1.0 - shown
        else:
            assert mask.image is not None  # Mask's validator requires exactly one of polygon, image
            path = profile.resolve(mask.image) if profile is not None else mask.image
            img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise MaskImageError(f"{path}: cannot read mask image (PNG/JPEG, greyscale, white marks the area)")
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
            shown = img.astype(np.float32) / 255.0
            if mask.mode == "hide":
                shown = 1.0 - shown
        if mask.feather > 0:
            shown = cv2.GaussianBlur(shown, (0, 0), sigmaX=mask.feather / 2.0)
        total *= shown
    return np.clip(np.round(total * 255.0), 0, 255).astype(np.uint8)
