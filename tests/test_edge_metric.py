"""Edge artefacts on 1080p frames of the shipped wave model, measured as a visitor sees them.

The shipped StyleGAN2's outermost texel columns change several times more from column to column
than its interior (its training images do not: the zero-padded convolutions paint them), so the
wave shows trim them; these tests pin the figure with and without the trim."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from installation.engine.buffer import Keyframe
from installation.render.compositor import Compositor, LayerDraw
from installation.render.fit import Fit
from installation.render.metrics import edge_ratio
from installation.show.loader import load_show

SHOWS = Path(__file__).parent.parent / "shows"


def test_edge_ratio_sees_bars_and_passes_a_clean_picture():
    rng = np.random.default_rng(0)
    clean = np.cumsum(rng.normal(size=(60, 200, 3)), axis=1)
    assert max(edge_ratio(clean)) < 1.5
    barred = clean.copy()
    barred[:, :4] += rng.normal(scale=20, size=(60, 4, 3))
    cols, rows = edge_ratio(barred)
    assert cols > 3 and rows < 1.5


@pytest.fixture(scope="module")
def wave_frames():
    from plugins.stylegan2.generator import make_generator

    g = make_generator(None, truncation=0.8)  # the shipped weights
    torch.manual_seed(2)
    with torch.no_grad():
        return g.generate(torch.randn(6, g.latent_dim)).clamp(0, 1)


def render_1080p(ctx, frames, fit: Fit) -> np.ndarray:
    comp = Compositor(ctx, (1920, 1080), fit=fit)
    out = []
    for i, f in enumerate(frames):
        kf = Keyframe(i, 0.0, f, arrival=0.0)
        comp.compose([LayerDraw(kf, kf, 0.0)])
        out.append(comp.read_output().copy())
        comp.release(kf)
    return np.stack(out)


@pytest.mark.gl
@pytest.mark.slow
@pytest.mark.parametrize("show_file", ["gallery-waves.toml", "waves.toml"])
def test_shipped_wave_show_has_no_edge_bars_at_1080p(gl_ctx, wave_frames, show_file):
    show = load_show(SHOWS / show_file)
    for scene in show.scenes:
        fit = Fit.of(show.output, scene)
        cols, rows = edge_ratio(render_1080p(gl_ctx, wave_frames, fit))
        assert cols <= 1.5 and rows <= 1.5, (scene.name, cols, rows)


@pytest.mark.gl
def test_without_the_trim_the_model_border_shows_as_bars(gl_ctx, wave_frames):
    cols, _ = edge_ratio(render_1080p(gl_ctx, wave_frames, Fit("cover")))
    assert cols > 2.5, cols
    raw_cols, _ = edge_ratio(wave_frames.permute(0, 2, 3, 1).numpy())
    assert raw_cols > 2.5  # in the model's own 64x64 output, before any GL sampling
