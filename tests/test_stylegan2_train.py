"""Training StyleGAN2 through the shared loop on the plugin's own wave data: losses, EMA, resume, export."""
from __future__ import annotations

import pytest
import torch

from installation.train import ImageFolder, TrainConfig, run_training
from plugins.stylegan2.loader import load_stylegan2
from plugins.stylegan2.train import StyleGAN2Task
from plugins.stylegan2.waves import make_waves


TINY = dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16, ema_kimg=0.05, r1_every=4)


@pytest.fixture(scope="module")
def waves32(tmp_path_factory):
    folder = tmp_path_factory.mktemp("waves")
    make_waves(folder, 24, 32, seed=3)
    return ImageFolder(folder, 32)


@pytest.mark.slow
def test_discriminator_learns_in_a_few_steps(waves32):
    torch.manual_seed(0)
    task = StyleGAN2Task(**TINY)
    task.setup(torch.device("cpu"), 32)
    rng = torch.Generator().manual_seed(0)
    g_before = {k: v.clone() for k, v in task.G.state_dict().items()}
    losses = [task.train_step(waves32.batch(4, rng), step) for step in range(10)]
    first, last = losses[0]["loss_d"], sum(l["loss_d"] for l in losses[-4:]) / 4
    assert last < first, (first, last)  # D separates real waves from the untrained G
    assert "r1" in losses[0] and "r1" not in losses[1]  # lazy R1 every r1_every steps
    g_after = task.G.state_dict()
    assert any(not torch.equal(g_before[k], g_after[k]) for k in g_before if "weight" in k)
    assert float(task.G.mapping.w_avg.norm()) > 0  # the mean w is being tracked
    ema, raw = task.G_ema.state_dict(), task.G.state_dict()
    assert not torch.equal(ema["synthesis.const"], raw["synthesis.const"])  # EMA lags the raw G


def test_loop_writes_samples_checkpoint_and_loadable_weights_and_resumes(waves32, tmp_path):
    out = tmp_path / "run"
    cfg = TrainConfig(out_dir=out, steps=4, batch_size=4, resolution=32, checkpoint_every=2, sample_every=2,
                      sample_count=4, progress=False)
    result = run_training(StyleGAN2Task(**TINY), waves32, cfg)
    assert result.steps_done == 4 and (out / "checkpoint.pt").exists()
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == ["step0000002.png", "step0000004.png"]
    net, info = load_stylegan2(result.weights)
    assert info["format"] == "native" and net.cfg.resolution == 32
    cfg.steps = 6
    task = StyleGAN2Task(**TINY)
    again = run_training(task, waves32, cfg)
    assert again.steps_done == 6 and len(again.history) == 2  # resumed at 4, ran 2 more
    assert task.images_seen == 24
    with pytest.raises(ValueError, match="different configuration"):
        run_training(StyleGAN2Task(**{**TINY, "channel_max": 8}), waves32, cfg)


def test_wave_maker_is_deterministic_and_varied(tmp_path):
    a = make_waves(tmp_path / "a", 6, 48, seed=5)
    b = make_waves(tmp_path / "b", 6, 48, seed=5)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    imgs = ImageFolder(tmp_path / "a", 48).images.float() / 255
    assert imgs.shape == (6, 3, 48, 48)
    d = torch.cdist(imgs.flatten(1), imgs.flatten(1))
    assert float(d[~torch.eye(6, dtype=bool)].min()) > 2.0  # no two pictures alike
    # sky above sea: the top rows differ from the bottom rows in every picture
    assert float((imgs[:, :, :8].mean(dim=[2, 3]) - imgs[:, :, -8:].mean(dim=[2, 3])).abs().sum(1).min()) > 0.05
