"""VAE and deblur training through the shared loop: loss goes down, checkpoints resume, exports load."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from installation.train import ImageFolder, TrainConfig, run_training
from installation.train.metrics import psnr
from plugins.vae.deblur import DeblurAE, gaussian_blur, sigma_for_blur
from plugins.vae.loader import load_deblur, load_vae
from plugins.vae.model import ConvVAE, PriorEstimate, VAEConfig, vae_loss
from plugins.vae.train import DeblurTask, VAETask
from plugins.vae.watches import draw_watch, make_watches

@pytest.fixture(scope="module")
def watches16(tmp_path_factory):
    folder = tmp_path_factory.mktemp("watches16")
    make_watches(folder, 48, 16, seed=5)
    return folder


def _batch(n: int, size: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    arr = np.stack([draw_watch(size, rng) for _ in range(n)])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255


def test_reparameterise_is_differentiable_and_centred():
    mu = torch.zeros(4000, 3, requires_grad=True)
    logvar = torch.full((4000, 3), np.log(4.0), requires_grad=True)
    z = ConvVAE.reparameterise(mu, logvar)
    assert abs(float(z.detach().std()) - 2.0) < 0.1 and abs(float(z.detach().mean())) < 0.1
    z.sum().backward()
    assert mu.grad is not None and logvar.grad is not None and float(logvar.grad.abs().sum()) > 0


def test_kl_is_zero_for_the_prior_and_positive_otherwise():
    x = torch.rand(2, 3, 8, 8)
    _, _, kl0 = vae_loss(x, x, torch.zeros(2, 5), torch.zeros(2, 5), 1.0)
    _, _, kl1 = vae_loss(x, x, torch.ones(2, 5), torch.zeros(2, 5), 1.0)
    assert float(kl0) == pytest.approx(0.0, abs=1e-6)
    assert float(kl1) == pytest.approx(2.5, rel=1e-5)  # 0.5 * mu² summed over 5 dims


def test_prior_estimate_recovers_a_known_gaussian_and_round_trips():
    torch.manual_seed(0)
    true_l = torch.tensor([[2.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, -0.3, 1.0]])
    est = PriorEstimate(3, decay=0.99)
    for _ in range(400):
        mu = torch.tensor([1.0, -2.0, 0.5]) + torch.randn(256, 3) @ true_l.T
        est.update(mu, torch.full((256, 3), float(np.log(0.01))))
    mean, chol = est.fit()
    assert torch.allclose(mean, torch.tensor([1.0, -2.0, 0.5]), atol=0.1)
    cov = chol @ chol.T
    assert torch.allclose(cov, true_l @ true_l.T + 0.01 * torch.eye(3), atol=0.15)
    model = ConvVAE(VAEConfig(resolution=16, latent_dim=3, channels=[4, 8]))
    model.prior_mean.copy_(mean)
    model.prior_chol.copy_(chol)
    e = torch.randn(5, 3)
    assert torch.allclose(model.from_prior(model.to_prior(e)), e, atol=1e-4)


def test_config_rejects_mismatched_resolution():
    with pytest.raises(ValueError, match="resolution"):
        VAEConfig(resolution=48, channels=[8, 16])
    assert VAEConfig.for_resolution(64).channels == [32, 64, 128, 128]


def test_vae_steps_lower_the_loss():
    torch.manual_seed(0)
    task = VAETask(kl_weight=0.05, latent_dim=16, channels=[16, 32])
    task.setup(torch.device("cpu"), 16)
    batch = _batch(16, 16)
    first = task.train_step(batch, 0)["loss"]
    for step in range(1, 40):
        last = task.train_step(batch, step)["loss"]
    assert last < 0.6 * first, (first, last)


def test_deblur_steps_lower_the_loss():
    torch.manual_seed(0)
    task = DeblurTask(width=8, blur_jitter=0.0, lr=3e-3)
    task.setup(torch.device("cpu"), 16)
    batch = _batch(16, 16, seed=1)
    losses = [task.train_step(batch, s)["l1"] for s in range(30)]
    assert np.mean(losses[-3:]) < 0.85 * losses[0], losses


def test_untrained_deblur_is_the_identity():
    x = torch.rand(2, 3, 13, 19)  # not a multiple of 4: padded and cropped back
    assert torch.allclose(DeblurAE()(x), x)


def test_blur_width_is_what_was_asked():
    img = torch.zeros(1, 1, 1, 41)
    img[..., 20] = 1.0
    img = img.expand(1, 1, 41, 41).contiguous()
    row = gaussian_blur(img, sigma_for_blur(3.0))[0, 0, 20]
    assert float(row.sum()) == pytest.approx(1.0, abs=1e-4)  # energy kept
    half = float(row.max()) / 2
    above = (row >= half).nonzero().flatten()
    # sample-counted width at half maximum of a 3 px FWHM Gaussian is 3 samples
    assert int(above.max() - above.min() + 1) == 3
    per_image = gaussian_blur(torch.rand(3, 3, 16, 16), torch.tensor([0.5, 1.0, 2.0]))
    assert per_image.shape == (3, 3, 16, 16)


def test_psnr_of_identical_and_noisy():
    x = torch.rand(2, 3, 8, 8)
    assert psnr(x, x) > 90
    assert psnr(x, (x + 0.1).clamp(0, 1)) < 25


def test_vae_through_shared_loop_resumes_and_exports(watches16, tmp_path):
    data = ImageFolder(watches16, 16)
    cfg = TrainConfig(out_dir=tmp_path / "run", steps=6, batch_size=8, resolution=16, sample_every=3,
                      checkpoint_every=3, progress=False, sample_count=4)
    first = run_training(VAETask(latent_dim=16, channels=[16, 32]), data, cfg)
    assert first.steps_done == 6 and (tmp_path / "run" / "checkpoint.pt").exists()
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == ["step0000003.png", "step0000006.png"]
    cfg.steps = 9
    second = run_training(VAETask(latent_dim=16, channels=[16, 32]), data, cfg)
    assert len(second.history) == 3  # resumed at step 6, not from scratch
    meta = json.loads(second.weights.with_suffix(".json").read_text())
    assert meta["version"] == 1 and meta["model"] == "vae" and meta["config"]["latent_dim"] == 16
    assert meta["provenance"]["steps"] == 9 and meta["provenance"]["prior"] == "fitted"
    model = load_vae(second.weights)
    assert not torch.equal(model.prior_chol, torch.eye(16))  # the fitted prior was exported
    out = model.decoder(model.to_prior(torch.randn(2, 16)))
    assert out.shape == (2, 3, 16, 16)


def test_deblur_early_stopping_keeps_best_and_exports(watches16, tmp_path):
    data = ImageFolder(watches16, 16)
    cfg = TrainConfig(out_dir=tmp_path / "run", steps=40, batch_size=8, resolution=16, val_fraction=0.25,
                      val_every=4, patience=2, sample_every=100, checkpoint_every=100, progress=False, sample_count=9)
    task = DeblurTask(width=8, lr=3e-2)  # a high rate overfits/oscillates quickly: early stopping must act
    result = run_training(task, data, cfg)
    vals = [h["val"] for h in result.history if "val" in h]
    assert vals and result.best_val == pytest.approx(min(vals))
    model = load_deblur(result.weights)
    x = torch.rand(1, 3, 16, 16)
    assert model(x).shape == x.shape


def test_resumed_run_that_never_improves_still_exports_the_best(watches16, tmp_path):
    # a first run finds its best; a resumed run whose validations are all worse must export that best
    data = ImageFolder(watches16, 16)
    kw = dict(out_dir=tmp_path / "run", batch_size=8, resolution=16, val_fraction=0.25, val_every=4, patience=50,
              sample_every=100, checkpoint_every=4, progress=False, sample_count=4)
    first = run_training(DeblurTask(width=8, lr=1e-2), data, TrainConfig(steps=12, **kw))
    best = load_deblur(first.weights).state_dict()

    class Worse(DeblurTask):  # every step pushes the weights away: no later validation can be the best
        def train_step(self, batch, step):
            with torch.no_grad():
                for p in self.model.parameters():
                    p.add_(torch.randn_like(p))
            return {"loss": 0.0}

    second = run_training(Worse(width=8, lr=1e-2), data, TrainConfig(steps=24, **kw))
    assert all(h["val"] > first.best_val for h in second.history if "val" in h)
    again = load_deblur(second.weights).state_dict()
    assert all(torch.equal(best[k], again[k]) for k in best)


def test_a_fresh_run_ignores_a_stale_best_from_an_earlier_run(watches16, tmp_path):
    data = ImageFolder(watches16, 16)
    kw = dict(out_dir=tmp_path / "run", batch_size=8, resolution=16, val_fraction=0.25, val_every=4, patience=50,
              sample_every=100, checkpoint_every=4, progress=False, sample_count=4)
    first = run_training(DeblurTask(width=8, lr=1e-2), data, TrainConfig(steps=8, **kw))
    assert (tmp_path / "run" / "best.pt").exists()
    stale = load_deblur(first.weights).state_dict()
    torch.manual_seed(1)  # a different start from the first run's
    fresh = run_training(DeblurTask(width=8, lr=1e-2), data, TrainConfig(steps=2, resume=False, seed=1, **kw))
    assert fresh.best_val is None  # too short to validate: it must export its own weights, not the stale best
    exported = load_deblur(fresh.weights).state_dict()
    assert not all(torch.equal(stale[k], exported[k]) for k in stale)
