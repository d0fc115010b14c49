"""The runtime StyleGAN2 generator: shipped wave weights, w-space walks, hooks, options, precision."""
from __future__ import annotations

import pytest
import torch

from installation.plugins import make_plugin_manager
from installation.protocols import Generator, check_frames
from installation.train.metrics import spread
from installation.walks.wspace import DirectionsWalk, WSpaceWalk, has_w_space
from installation.weights import CheckpointError
from plugins.stylegan2.generator import StyleGAN2Generator, make_generator
from plugins.stylegan2.loader import SHIPPED


@pytest.fixture(scope="module")
def shipped():
    return make_generator(None, "cpu")


def test_hooks_register_generator_trainer_and_dataset():
    reg = make_plugin_manager()
    assert "stylegan2" in reg.generators() and "stylegan2" in reg.trainers() and "waves" in reg.datasets()


def test_shipped_weights_are_small_native_and_load(shipped):
    assert SHIPPED.exists() and SHIPPED.stat().st_size < 8 * 2 ** 20
    assert isinstance(shipped, Generator) and has_w_space(shipped)
    assert shipped.info["format"] == "native" and shipped.resolution == (64, 64)
    assert shipped.num_ws == 10 and shipped.mean_w().shape == (shipped.w_dim,)
    assert float(shipped.mean_w().norm()) > 0  # trained: the mean w was tracked


def test_shipped_model_gives_different_waves_for_different_seeds(shipped):
    z = torch.randn(8, shipped.latent_dim, generator=torch.Generator().manual_seed(0))
    frames = check_frames(shipped.generate(z), expected_n=8)
    assert frames.shape == (8, 3, 64, 64) and 0 <= float(frames.min()) and float(frames.max()) <= 1
    assert spread(frames).mean > 0.05  # mean pairwise RMS difference
    assert torch.equal(frames, shipped.generate(z))  # const noise: a latent is always the same frame


def test_w_space_api_and_walks(shipped):
    z = torch.randn(2, shipped.latent_dim)
    ws = shipped.mapping(z, 1.0)
    assert ws.shape == (2, shipped.num_ws, shipped.w_dim)
    assert shipped.psi == 1.0 and torch.allclose(shipped.synthesize(ws), shipped.generate(z))
    assert torch.allclose(shipped.mapping(z, 0.0)[0, 0], shipped.mean_w(), atol=1e-5)
    # a w vector [N, w_dim] is broadcast to all layers
    assert torch.allclose(shipped.synthesize(ws[:, 0]), shipped.synthesize(ws))

    class Line:  # a z walk: straight line between two seeds
        latent_dim = shipped.latent_dim

        def latent(self, t, control=None):
            return torch.lerp(z[0], z[1], float(t))

    walk = WSpaceWalk(Line(), shipped, truncation=0.7)
    a, b = walk.latent(0.0), walk.latent(0.05)
    assert a.shape == (shipped.num_ws, shipped.w_dim)
    fa, fb = shipped.synthesize(a[None]), shipped.synthesize(b[None])
    assert 0 < float((fa - fb).abs().mean()) < 0.1  # a small step in w is a small step in the image
    dirs = DirectionsWalk(shipped.latent_dim, seed=1, generator=shipped, components=3, samples=512)
    assert not torch.equal(dirs.latent(0.0), dirs.latent(5.0))


def test_options_and_errors(tmp_path):
    gen = make_generator(None, "cpu", truncation=0.5, noise_mode="random")
    z = torch.randn(1, gen.latent_dim)
    assert not torch.equal(gen.generate(z), gen.generate(z))
    with pytest.raises(ValueError, match="unknown stylegan2 option"):
        make_generator(None, "cpu", turbo=True)
    with pytest.raises(ValueError, match="fp16 needs a CUDA"):
        make_generator(None, "cpu", precision="fp16")
    with pytest.raises(ValueError, match="unconditional"):
        make_generator(None, "cpu", class_index=2)
    with pytest.raises(CheckpointError, match="nothing-here.pkl"):
        make_generator(str(tmp_path / "nothing-here.pkl"), "cpu")


def test_bf16_autocast_path_stays_close_to_fp32(shipped):
    # the half-precision code path (autocast, fp32 demodulation) exercised on the CPU with bf16
    half = StyleGAN2Generator(shipped.net, "cpu", precision="bf16")
    z = torch.randn(2, shipped.latent_dim, generator=torch.Generator().manual_seed(3))
    a, b = shipped.generate(z), half.generate(z)
    assert b.dtype == torch.float32 and float((a - b).abs().mean()) < 0.05
    assert half.degrade() is None  # nothing cheaper left on the CPU


@pytest.mark.parametrize("show_file", ["gallery-waves.toml", "performance.toml", "curator-timeline.toml"])
def test_show_scenes_with_stylegan2_build_and_make_keyframes(show_file):
    from pathlib import Path

    from installation.app import build_source
    from installation.show.loader import load_show

    show = load_show(Path(__file__).parent.parent / "shows" / show_file)
    scenes = [s for s in show.scenes if s.generator.plugin == "stylegan2"]
    assert scenes
    reg = make_plugin_manager()
    for scene in scenes:
        source = build_source(scene, reg, torch.device("cpu"), show.show.seed)
        a, b = source.make(0), source.make(int(3 * source.rate))  # 0 s and 3 s into the scene
        side = 64 * 4 ** sum(p.stage == "superres" for p in scene.post)  # the wave shows take it to 256²
        assert a.shape == (3, side, side) and float((a - b).abs().mean()) > 1e-4  # the walk moves


def test_shipped_samples_have_the_horizontal_layering_of_seascapes(shipped):
    """Sky above sea, crests parallel to the horizon: brightness and colour change far more from
    row to row than from column to column.  The training pictures score a median ratio of ~28,
    an untrained network of this size ~1."""
    z = torch.randn(32, shipped.latent_dim, generator=torch.Generator().manual_seed(11))
    f = shipped.generate(z)
    ratio = f.mean(3).var(2).mean(1) / f.mean(2).var(2).mean(1)  # row-profile / column-profile variance
    assert float(ratio.median()) > 6.0, ratio
    top, bottom = f[:, :, :8].mean(dim=[2, 3]), f[:, :, -8:].mean(dim=[2, 3])
    assert float((top - bottom).abs().sum(1).median()) > 0.15  # sky and sea differ
