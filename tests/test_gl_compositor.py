"""Pixels read back from a real EGL context: crossfade, layer opacity, cover fit, brightness."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from installation.engine.buffer import Keyframe
from installation.render.compositor import Compositor, LayerDraw, cover_scale


def solid(rgb, h=8, w=8) -> Keyframe:
    frame = torch.tensor(rgb, dtype=torch.float32).view(3, 1, 1).expand(3, h, w).clone()
    return Keyframe(0, 0.0, frame, arrival=0.0)


@pytest.fixture
def comp(gl_ctx):
    c = Compositor(gl_ctx, (64, 48))
    yield c


@pytest.mark.gl
def test_crossfade_mixes_keyframes_in_the_shader(comp):
    a, b = solid([1.0, 0.0, 0.0]), solid([0.0, 0.0, 1.0])
    comp.compose([LayerDraw(a, b, 0.25)])
    comp.present()
    px = comp.read_output().astype(int)
    assert px.shape == (48, 64, 3)
    assert np.abs(px - [191, 0, 64]).max() <= 1


@pytest.mark.gl
def test_layer_opacity_blends_scenes(comp):
    red, green = solid([1.0, 0.0, 0.0]), solid([0.0, 1.0, 0.0])
    comp.compose([LayerDraw(red, red, 0.0, 1.0), LayerDraw(green, green, 0.0, 0.6)])
    comp.present()
    px = comp.read_output().astype(int)
    assert np.abs(px - [102, 153, 0]).max() <= 1


@pytest.mark.gl
def test_empty_layers_give_black_and_brightness_scales(comp):
    comp.compose([LayerDraw(None, None, 0.0)])
    comp.present()
    assert comp.read_output().max() == 0
    grey = solid([0.5, 0.5, 0.5])
    comp.brightness = 0.5
    comp.compose([LayerDraw(grey, grey, 0.0)])
    comp.present()
    assert np.abs(comp.read_output().astype(int) - 64).max() <= 1


@pytest.mark.gl
def test_image_is_upright_and_covers_the_canvas(comp):
    # top half white, bottom half black, in a square frame shown on a 4:3 canvas
    frame = torch.zeros(3, 16, 16)
    frame[:, :8] = 1.0
    kf = Keyframe(0, 0.0, frame, arrival=0.0)
    comp.compose([LayerDraw(kf, kf, 0.0)])
    comp.present()
    px = comp.read_output()
    assert px[2].min() == 255 and px[-3].max() == 0  # top row read back first is white
    assert px[:, 0].mean() > 0 and px[:, -1].mean() > 0  # no letterbox bars at the sides


def test_cover_scale_crops_the_longer_axis():
    assert cover_scale((100, 100), (200, 100)) == (1.0, 0.5)
    assert cover_scale((200, 100), (100, 100)) == (0.5, 1.0)


@pytest.mark.gl
def test_textures_are_released(comp, gl_ctx):
    kf = solid([0.2, 0.4, 0.6])
    comp.compose([LayerDraw(kf, kf, 0.0)])
    assert kf.texture is not None
    comp.release(kf)
    assert kf.texture is None


@pytest.mark.gl
def test_reading_the_canvas_gives_the_bytes_the_present_pass_would(gl_ctx):
    """A recording reads the canvas itself when the present pass would only copy it: every byte
    must be the same as after that pass, for noise (every value, every position) at 1080p."""
    comp = Compositor(gl_ctx, (1920, 1080))
    rng = np.random.default_rng(3)
    noise = Keyframe(0, 0.0, torch.from_numpy(rng.random((3, 1080, 1920), dtype=np.float32)), arrival=0.0)
    grey = solid([0.3, 0.6, 0.9])
    comp.compose([LayerDraw(noise, grey, 0.37)])
    fast = comp.read_output().copy()
    comp.present()
    presented = np.frombuffer(comp.output_fbo.read(components=3, alignment=1), np.uint8)
    presented = presented.reshape(1080, 1920, 3)[::-1]
    assert fast.std() > 20 and np.array_equal(fast, presented)
    comp.brightness = 0.5  # the pass changes the picture: it is drawn, not skipped
    comp.compose([LayerDraw(noise, grey, 0.37)])
    assert np.abs(comp.read_output().astype(int) - presented.astype(int) * 0.5).max() <= 1
