"""The detail figure of issue 14 and the area degradation the wave super-resolution learns to undo."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from installation.render.metrics import detail_ratio
from plugins.stylegan2.waves import paint_wave
from plugins.superres.model import downscale


def test_a_64_texel_picture_enlarged_carries_no_detail_and_painted_waves_do():
    rng = np.random.default_rng(5)
    wave = paint_wave(rng, 256).astype(np.float32)
    painted = cv2.resize(wave[56:200], (1920, 1080), interpolation=cv2.INTER_CUBIC)  # cover: the middle rows
    small = cv2.resize(wave, (64, 64), interpolation=cv2.INTER_AREA)[14:50]
    enlarged = cv2.resize(small, (1920, 1080), interpolation=cv2.INTER_CUBIC)
    assert detail_ratio(enlarged) < 0.0026 < detail_ratio(painted)  # the floor issue 14 sets for the wave show
    flat = np.full((72, 128, 3), 0.5, np.float32)
    assert detail_ratio(flat) == 0.0  # no variance, no detail (and no division by zero)


def test_area_degradation_is_the_mean_of_each_block():
    x = torch.rand(2, 3, 16, 16)
    low = downscale(x, 4, "area")
    assert low.shape == (2, 3, 4, 4)
    assert torch.allclose(low[0, 1, 2, 3], x[0, 1, 8:12, 12:16].mean())
    with pytest.raises(ValueError, match="degradation must be one of bicubic, area"):
        downscale(x, 4, "nearest")
