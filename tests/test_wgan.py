"""WGAN bikes: model shapes, the training task (clip and gp), export/load, shipped weights, bikes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from installation.protocols import Generator as GeneratorProtocol, check_frames
from installation.train.metrics import spread
from installation.weights import CheckpointError
from plugins.wgan.bikes import draw_bike, make_bikes
from plugins.wgan.loader import WGANGenerator, make_wgan
from plugins.wgan.model import Critic, Generator, recalibrate_batchnorm
from plugins.wgan.train import WGANTask


def test_shapes_and_bad_resolution():
    g, d = Generator(16, 8, 32), Critic(8, 32)
    x = g(torch.randn(3, 16))
    assert x.shape == (3, 3, 32, 32) and float(x.detach().abs().max()) <= 1
    assert d(x).shape == (3,)
    with pytest.raises(ValueError, match="power of two"):
        Generator(16, 8, 48)
    with pytest.raises(ValueError, match="norm"):
        Critic(8, 32, norm="spectral")


def test_task_options_validated():
    with pytest.raises(ValueError, match="n_critic"):
        WGANTask(n_critic=0)
    with pytest.raises(ValueError, match="clip > 0 or gp > 0"):
        WGANTask(clip=0)
    t = WGANTask(gp=10)
    assert t.clip == 0 and t.critic_norm == "layer"
    t = WGANTask()
    assert t.clip == 0.01 and t.critic_norm == "batch" and t.lr_g > t.lr_d


_REAL: dict = {}


def _real(n=16, size=32, seed=0):
    """Procedural bikes as a batch in [0, 1] (drawn once per test session)."""
    key = (n, size, seed)
    if key not in _REAL:
        arr = np.stack([draw_bike(np.random.default_rng([seed, i]), size) for i in range(n)])
        _REAL[key] = torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255
    return _REAL[key]


@pytest.mark.parametrize("mode", [{"clip": 0.01, "lr_d": 5e-4}, {"gp": 10.0, "lr_d": 1e-3}])
def test_critic_steps_lower_critic_loss(mode):
    torch.manual_seed(0)
    t = WGANTask(z_dim=16, width=8, n_critic=1000, **mode)
    t.setup(torch.device("cpu"), 32)
    real = _real()
    first = t.critic_step(real * 2 - 1)["loss_d"]
    for _ in range(8):
        last = t.critic_step(real * 2 - 1)["loss_d"]
    assert last < first - 1e-4  # the critic learns to separate bikes from the untrained generator
    if "clip" in mode:
        assert max(float(p.detach().abs().max()) for p in t.D.parameters()) <= 0.01 + 1e-7


def test_generator_steps_lower_generator_loss():
    torch.manual_seed(0)
    t = WGANTask(z_dim=16, width=8, lr_d=5e-4, lr_g=2e-3, n_critic=1000)
    t.setup(torch.device("cpu"), 32)
    real = _real()
    for _ in range(10):
        t.critic_step(real * 2 - 1)
    torch.manual_seed(1)
    before = t.generator_step(16)
    for _ in range(10):
        after = t.generator_step(16)
    assert after < before  # with the critic fixed, the generator moves towards what it scores high


def test_train_step_counts_generator_steps_and_resume_roundtrip(tmp_path):
    t = WGANTask(z_dim=16, width=8, n_critic=3)
    t.setup(torch.device("cpu"), 32)
    real = _real()[:8]
    for step in range(6):
        losses = t.train_step(real, step)
    assert t.g_steps == 2 and set(losses) >= {"loss_d", "wdist", "loss_g"}
    torch.save(t.state_dict(), tmp_path / "ck.pt")
    t2 = WGANTask(z_dim=16, width=8, n_critic=3)
    t2.setup(torch.device("cpu"), 32)
    t2.load_state_dict(torch.load(tmp_path / "ck.pt", weights_only=True))
    assert t2.g_steps == 2
    faster = WGANTask(z_dim=16, width=8, n_critic=3, lr_g=1e-3)  # resumed with a new rate: it applies
    faster.setup(torch.device("cpu"), 32)
    faster.load_state_dict(torch.load(tmp_path / "ck.pt", weights_only=True))
    assert faster.opt_g.param_groups[0]["lr"] == 1e-3 and faster.opt_d.param_groups[0]["lr"] == t.lr_d
    assert torch.equal(t2.sample(4, 3), t.sample(4, 3))


def test_export_and_load_roundtrip(tmp_path):
    t = WGANTask(z_dim=16, width=8)
    t.setup(torch.device("cpu"), 32)
    path = t.export(tmp_path)
    assert path.exists() and path.with_suffix(".json").exists()
    gen = make_wgan(str(path), device="cpu")
    assert isinstance(gen, GeneratorProtocol)
    assert gen.latent_dim == 16 and gen.resolution == (32, 32)
    z = torch.randn(2, 16)
    out = check_frames(gen.generate(z), 2)
    t.G.eval()
    assert torch.allclose(out, ((t.G(z) + 1) / 2).clamp(0, 1), atol=1e-5)


def test_bad_checkpoint_names_file(tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="broken.safetensors"):
        WGANGenerator(bad)
    t = WGANTask(z_dim=16, width=8)
    t.setup(torch.device("cpu"), 32)
    path = t.export(tmp_path)
    other = WGANTask(z_dim=16, width=16)  # same config name, different tensors
    other.setup(torch.device("cpu"), 32)
    from installation.weights import WeightsMeta, save_weights

    meta = WeightsMeta(model="wgan-dcgan", config={"z_dim": 16, "width": 8, "resolution": 32})
    save_weights(tmp_path / "mismatch", other.G.state_dict(), meta)
    with pytest.raises(CheckpointError, match="mismatch.safetensors"):
        WGANGenerator(tmp_path / "mismatch.safetensors")
    with pytest.raises(ValueError, match="latents"):
        WGANGenerator(path).generate(torch.randn(2, 5))


@torch.no_grad()
def test_batchnorm_recalibration_matches_batch_statistics():
    torch.manual_seed(0)
    g = Generator(16, 8, 32)
    for m in g.modules():  # make running stats stale, as after training
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.fill_(3.0)
    recalibrate_batchnorm(g, 16, samples=1024, batch=256)
    g.eval()
    z = torch.randn(256, 16)
    single = g(z)
    g.train()
    batch = g(z)
    assert float((single - batch).abs().mean()) < 0.02


def test_shipped_weights_give_varied_bikes():
    gen = make_wgan(None, device="cpu")
    assert gen.resolution == (64, 64)
    z = torch.randn(16, gen.latent_dim, generator=torch.Generator().manual_seed(0))
    imgs = check_frames(gen.generate(z), 16)
    # mode-collapse check: images differ across latents.  Procedural bikes score ~0.21 RMS,
    # the shipped generator ~0.2; one repeated image scores 0, two alternating images ~0.1
    d = spread(imgs)
    assert d.mean > 0.12
    assert d.min > 0.04  # and no two latents give (near) the same bike (measured ~0.1)
    # bikes on white: the border of the image is bright on average
    border = torch.cat([imgs[..., :4, :].flatten(1), imgs[..., -4:, :].flatten(1)], 1)
    assert float(border.mean()) > 0.8
    # and single-image inference equals the batch (eval mode, no batch coupling)
    assert torch.allclose(gen.generate(z[:1]), imgs[:1], atol=1e-5)


def test_make_bikes_writes_readable_varied_images(tmp_path):
    from installation.train.data import ImageFolder

    paths = make_bikes(tmp_path / "bikes", 6, 48, seed=3)
    assert len(paths) == 6 and all(p.exists() for p in paths)
    data = ImageFolder(tmp_path / "bikes", 48)
    imgs = data.images.float() / 255
    assert imgs.shape == (6, 3, 48, 48)
    assert float(imgs[..., :3, :].mean()) > 0.95  # white background at the top
    assert float(imgs.mean()) < 0.97  # and a bike in it
    assert spread(imgs).mean > 0.05
    again = make_bikes(tmp_path / "again", 2, 48, seed=3)
    assert again[0].read_bytes() == paths[0].read_bytes()  # deterministic per seed and index


def test_train_command_runs_resumes_and_exports(tmp_path):
    """`installation train wgan DATA` through the shared loop: grids, checkpoint, resume, export."""
    from typer.testing import CliRunner

    from installation.cli import build_app

    make_bikes(tmp_path / "data", 8, 32, seed=0)
    args = ["train", "wgan", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--resolution", "32",
            "--batch", "4", "--sample-every", "2", "--checkpoint-every", "2", "--device", "cpu",
            "-O", "z_dim=16", "-O", "width=8", "-O", "n_critic=2"]
    first = CliRunner().invoke(build_app(), args + ["--steps", "4"])
    assert first.exit_code == 0, first.output
    ck = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 4 and ck["task"]["g_steps"] == 2
    again = CliRunner().invoke(build_app(), args + ["--steps", "6"])
    assert again.exit_code == 0, again.output
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["task"]["g_steps"] == 3
    assert (tmp_path / "run" / "samples" / "step0000006.png").exists()
    gen = make_wgan(str(tmp_path / "run" / "wgan.safetensors"))
    assert gen.generate(torch.randn(2, 16)).shape == (2, 3, 32, 32)
