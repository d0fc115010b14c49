"""Fit geometry and the upscale filter, in pixels read back from a real EGL context."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from installation.engine.buffer import Keyframe
from installation.render.compositor import Compositor, LayerDraw
from installation.render.fit import ANCHORS, Fit, place
from installation.show.loader import parse_show
from installation.show.schema import Anchor

RED, GREEN = (255, 0, 0), (0, 255, 0)


def keyframe(frame: torch.Tensor) -> Keyframe:
    return Keyframe(0, 0.0, frame, arrival=0.0)


def solid(rgb, h, w) -> Keyframe:
    return keyframe(torch.tensor(rgb, dtype=torch.float32).view(3, 1, 1).expand(3, h, w).clone())


def draw(ctx, size, kf, fit=None, filter="catmull-rom") -> np.ndarray:
    comp = Compositor(ctx, size, filter=filter)
    comp.compose([LayerDraw(kf, kf, 0.0, 1.0, fit)])
    return comp.read_output().astype(int)


def is_colour(px, rgb):
    return (np.abs(px - np.array(rgb)) <= 1).all(axis=-1)


@pytest.mark.gl
@pytest.mark.parametrize("anchor,first", [("center", 8), ("left", 0), ("right", 16)])
def test_contain_pillarbox_bars_are_the_background_at_exact_columns(gl_ctx, anchor, first):
    # a square frame on a 64x48 canvas: 48 columns of picture, 16 of bars
    px = draw(gl_ctx, (64, 48), solid([1, 0, 0], 16, 16), Fit("contain", anchor, (0.0, 1.0, 0.0)))
    picture = np.zeros(64, bool)
    picture[first:first + 48] = True
    assert is_colour(px[:, picture], RED).all()
    assert is_colour(px[:, ~picture], GREEN).all()


@pytest.mark.gl
@pytest.mark.parametrize("anchor,first", [("center", 12), ("top", 0), ("bottom-right", 24)])
def test_contain_letterbox_bars_are_the_background_at_exact_rows(gl_ctx, anchor, first):
    # a 2:1 frame on a square canvas: 24 rows of picture
    px = draw(gl_ctx, (48, 48), solid([1, 0, 0], 16, 32), Fit("contain", anchor, (0.0, 1.0, 0.0)))
    picture = np.zeros(48, bool)
    picture[first:first + 24] = True
    assert is_colour(px[picture], RED).all()
    assert is_colour(px[~picture], GREEN).all()


def banded(h=16, w=16) -> torch.Tensor:
    """Rows 0-2 white, the rest black: which rows cover keeps shows in the output (row 3 is black
    so the bicubic kernel, reaching 2 texels, adds nothing white below the crop)."""
    frame = torch.zeros(3, h, w)
    frame[:, :3] = 1.0
    return frame


@pytest.mark.gl
def test_cover_crops_to_the_canvas_and_the_anchor_picks_the_part_kept(gl_ctx):
    # 16x16 on 64x32: scale 4, only 8 of the 16 rows are shown
    centre = draw(gl_ctx, (64, 32), keyframe(banded()), Fit("cover", "center"))
    assert centre.max() == 0  # rows 4..11 shown: the white top rows are cropped away
    top = draw(gl_ctx, (64, 32), keyframe(banded()), Fit("cover", "top"))
    # rows 0..7 shown at 4 px each: white texels 0-2 -> canvas rows 0-11, the edge at 12
    assert (top[:10] == 255).all() and (top[14:] == 0).all()
    bottom = draw(gl_ctx, (64, 32), keyframe(banded()), Fit("cover", "bottom"))
    assert bottom.max() == 0
    p = place((16, 16), (64, 32), Fit("cover", "top"))
    assert (p.x, p.y, p.w, p.h) == (0.0, 0.0, 64.0, 64.0) and p.covers((64, 32))


@pytest.mark.gl
def test_stretch_fills_both_axes_ignoring_aspect(gl_ctx):
    frame = torch.zeros(3, 16, 16)
    frame[:, :, :8] = 1.0  # left half white
    px = draw(gl_ctx, (64, 32), keyframe(frame), Fit("stretch"))
    assert (px[:, :30] == 255).all() and (px[:, 34:] == 0).all()


@pytest.mark.gl
def test_trim_keeps_the_border_texels_off_the_canvas(gl_ctx):
    frame = torch.zeros(3, 16, 16)
    frame[2] = 1.0
    frame[:, :, 0] = frame[:, :, -1] = frame[:, 0] = frame[:, -1] = torch.tensor([1.0, 0, 0]).view(3, 1)
    untrimmed = draw(gl_ctx, (64, 36), keyframe(frame), Fit("cover"))
    assert untrimmed[:, :2, 0].min() > 200  # the red border column is on the wall
    # trimming the border texel and one more keeps the kernel's reach off the border too
    trimmed = draw(gl_ctx, (64, 36), keyframe(frame), Fit("cover", trim=2 / 16))
    assert trimmed[..., 0].max() <= 1 and trimmed[..., 2].min() == 255


def catmull_rom_1d(n_src: int, n_dst: int) -> np.ndarray:
    """``[n_dst, n_src]`` weights of Catmull-Rom resampling, pixel centres aligned, edges clamped."""
    m = np.zeros((n_dst, n_src))
    for x in range(n_dst):
        p = (x + 0.5) / n_dst * n_src - 0.5
        i = int(np.floor(p))
        t = p - i
        w = [-0.5 * t**3 + t**2 - 0.5 * t, 1.5 * t**3 - 2.5 * t**2 + 1, -1.5 * t**3 + 2 * t**2 + 0.5 * t,
             0.5 * t**3 - 0.5 * t**2]
        for k in range(4):
            m[x, min(max(i - 1 + k, 0), n_src - 1)] += w[k]
    return m


@pytest.mark.gl
def test_upscale_reproduces_a_numpy_catmull_rom_reference(gl_ctx):
    rng = np.random.default_rng(3)
    src = rng.integers(0, 256, (12, 10, 3)).astype(np.float64) / 255  # H, W, C
    px = draw(gl_ctx, (70, 84), keyframe(torch.from_numpy(src).permute(2, 0, 1).float()), Fit("stretch"))
    mx, my = catmull_rom_1d(10, 70), catmull_rom_1d(12, 84)
    ref = np.clip(np.einsum("yh,xw,hwc->yxc", my, mx, src), 0, 1) * 255
    err = np.abs(px - ref)
    assert err.max() <= 2.0, err.max()
    # and it is not bilinear: that differs from the reference well beyond the tolerance
    bilinear = draw(gl_ctx, (70, 84), keyframe(torch.from_numpy(src).permute(2, 0, 1).float()), Fit("stretch"),
                    filter="bilinear")
    assert np.abs(bilinear - ref).max() > 10


@pytest.mark.gl
def test_bicubic_is_sharper_than_bilinear_on_an_edge(gl_ctx):
    frame = torch.zeros(3, 8, 8)
    frame[:, :, 4:] = 1.0  # a vertical edge
    rows = {f: draw(gl_ctx, (64, 64), keyframe(frame), Fit("stretch"), filter=f)[32, :, 0] for f in ("catmull-rom", "bilinear")}
    # the steepest step across the edge, and the distance from the ideal (a step at column 32)
    steep = {f: np.diff(r).max() for f, r in rows.items()}
    ideal = np.where(np.arange(64) >= 32, 255, 0)
    off = {f: np.abs(r - ideal).mean() for f, r in rows.items()}
    assert steep["catmull-rom"] > 1.2 * steep["bilinear"], steep
    assert off["catmull-rom"] < 0.9 * off["bilinear"], off  # 6.9 vs 8.0 levels


@pytest.mark.gl
def test_a_scene_overrides_the_output_fit(gl_ctx):
    from installation.app import App
    from installation.clock import FixedStepClock
    from installation.plugins import make_plugin_manager

    show = parse_show("""
[output]
width = 64
height = 32
fit = "contain"
background = "#00ff00"
[[scenes]]
name = "a"
fit = "cover"
[scenes.generator]
plugin = "noisefield"
size = 16
""")
    assert Fit.of(show.output) == Fit("contain", "center", (0.0, 1.0, 0.0))
    assert Fit.of(show.output, show.scenes[0]).mode == "cover"
    app = App(show, make_plugin_manager(entry_points_enabled=False), Compositor(gl_ctx, (64, 32)), FixedStepClock(10))
    try:
        for _ in range(3):
            app.frame()
        px = app.compositor.read_output().astype(int)
        assert not is_colour(px[:, :2], GREEN).all()  # cover: no pillarbox bars
        show.scenes[0].fit = None  # the output's contain: green bars of 16 columns each side
        app.frame()
        px = app.compositor.read_output().astype(int)
        assert is_colour(px[:, :16], GREEN).all() and is_colour(px[:, 48:], GREEN).all()
        assert not is_colour(px[:, 16:48], GREEN).all()
    finally:
        app.close()


def test_the_schema_and_the_compositor_know_the_same_anchors():
    assert set(Anchor.__args__) == set(ANCHORS)
