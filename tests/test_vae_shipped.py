"""The shipped watch VAE and deblur weights: they load, vary across latents, and deblur helps."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from installation.engine.post import PostChain
from installation.plugins import make_plugin_manager
from installation.protocols import Generator, PostProcessor, check_frames
from installation.walks.slerp import seed_latent
from installation.weights import CheckpointError
from installation.train.metrics import psnr, spread
from plugins.vae.deblur import gaussian_blur, sigma_for_blur
from plugins.vae.loader import SHIPPED_DEBLUR, SHIPPED_VAE, load_vae
from plugins.vae.watches import draw_watch

# Mean pairwise RMS distance of 64 real watch faces is ~0.35 (~0.30 once blurred 3 px); a
# collapsed generator gives ~0.  Samples must keep half the blurred spread (shipped: ~0.28).
MEAN_DISTANCE_FLOOR = 0.15
MIN_DISTANCE_FLOOR = 0.05  # no two of the 16 seeds may give (nearly) the same face

@pytest.fixture(scope="module")
def registry():
    return make_plugin_manager()


@pytest.fixture(scope="module")
def vae(registry):
    return registry.generators()["vae"](checkpoint=None, device=torch.device("cpu"))


@pytest.fixture(scope="module")
def heldout():
    """Watch faces from a seed the shipped weights never saw (training used seed 0)."""
    rng = np.random.default_rng(987654)
    arr = np.stack([draw_watch(64, rng) for _ in range(24)])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255


def test_shipped_files_are_small_safetensors():
    for path in (SHIPPED_VAE, SHIPPED_DEBLUR):
        assert path.exists() and path.with_suffix(".json").exists()
        assert path.stat().st_size < 8 * 2 ** 20


def test_vae_is_a_generator_with_a_200d_latent(vae):
    assert isinstance(vae, Generator)
    assert vae.latent_dim == 200 and vae.resolution == (64, 64)


def test_vae_samples_differ_across_latents(vae):
    z = torch.stack([seed_latent(s, vae.latent_dim) for s in range(16)])
    frames = check_frames(vae.generate(z), 16)
    assert frames.shape == (16, 3, 64, 64)
    assert float(frames.min()) >= 0 and float(frames.max()) <= 1
    d = spread(frames)
    assert d.mean > MEAN_DISTANCE_FLOOR, d.mean
    assert d.min > MIN_DISTANCE_FLOOR, d.min


def test_vae_is_deterministic_and_smooth_in_z(vae):
    a, b = seed_latent(1, 200), seed_latent(2, 200)
    z = torch.stack([a, a, a + 0.01 * (b - a), b])
    out = vae.generate(z)
    assert torch.equal(out[0], out[1])
    near = (out[2] - out[0]).pow(2).mean().sqrt()
    far = (out[3] - out[0]).pow(2).mean().sqrt()
    assert float(near) < 0.2 * float(far)


def test_encoder_is_kept_and_reconstructs_photos(vae, heldout):
    z = vae.encode(heldout)
    assert z.shape == (24, 200)
    recon = vae.generate(z)
    own = (recon - heldout).pow(2).flatten(1).mean(1).sqrt()
    other = (recon - heldout.roll(1, 0)).pow(2).flatten(1).mean(1).sqrt()
    assert float(own.mean()) < 0.6 * float(other.mean()), (float(own.mean()), float(other.mean()))
    # any input size is resized to the model's
    assert vae.encode(torch.rand(2, 3, 100, 80)).shape == (2, 200)


def test_deblur_raises_psnr_on_heldout_blurred_watches(registry, heldout):
    stage = registry.post_processors()["deblur"](device=torch.device("cpu"))
    assert isinstance(stage, PostProcessor)
    blurred = gaussian_blur(heldout, sigma_for_blur(3.0))
    restored = stage.process(blurred)
    gain = psnr(restored, heldout) - psnr(blurred, heldout)
    assert gain > 1.0, gain


def test_deblur_works_at_other_sizes_and_keeps_alpha(registry, heldout):
    stage = registry.post_processors()["deblur"](device=torch.device("cpu"))
    big = torch.nn.functional.interpolate(heldout[:4], size=(90, 122), mode="bilinear", align_corners=False)
    blurred = gaussian_blur(big, sigma_for_blur(3.0))
    rgba = torch.cat([blurred, torch.full_like(blurred[:, :1], 0.25)], 1)
    out = stage.process(rgba)
    assert out.shape == rgba.shape and torch.all(out[:, 3] == 0.25)
    assert psnr(out[:, :3], big) > psnr(blurred, big)


def test_deblur_mix_zero_is_identity(registry):
    chain = PostChain.build([{"stage": "deblur", "mix": 0.0}], registry.post_processors(), torch.device("cpu"))
    x = torch.rand(1, 3, 20, 20)
    assert torch.allclose(chain(x), x)
    once = registry.post_processors()["deblur"](device="cpu").process(x)
    twice = registry.post_processors()["deblur"](device="cpu", passes=2).process(x)
    assert twice.shape == x.shape and not torch.equal(once, twice)


def test_bad_checkpoints_are_refused_naming_the_file(tmp_path, registry):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="broken.safetensors"):
        load_vae(bad)
    with pytest.raises(CheckpointError, match="expected 'vae'"):
        registry.generators()["vae"](checkpoint=str(SHIPPED_DEBLUR), device="cpu")
    with pytest.raises(CheckpointError, match="missing.safetensors"):
        registry.post_processors()["deblur"](device="cpu", checkpoint=str(tmp_path / "missing.safetensors"))
