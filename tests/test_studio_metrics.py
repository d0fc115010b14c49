"""FID, KID and precision/recall on cases with known answers; the Inception feature network from both layouts."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from installation.cli import build_app
from installation.studio import metrics as m
from installation.studio.inception import InceptionFeatures, load_inception
from installation.studio.sheet import read_png, write_png
from installation.weights import CheckpointError


def test_fid_matches_the_closed_form_for_gaussians():
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    a, b = torch.tensor([1.0, 4.0, 0.25]), torch.tensor([4.0, 1.0, 1.0])
    want = float(((mu1 - mu2) ** 2).sum() + ((a.sqrt() - b.sqrt()) ** 2).sum())  # diagonal covariances
    assert m.frechet_distance(mu1, torch.diag(a), mu2, torch.diag(b)) == pytest.approx(want, abs=1e-9)
    # a rotated, correlated pair: tr sqrt(S1 S2) through eigen-decomposition against scipy-free brute force
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    s1 = q @ torch.diag(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)) @ q.T
    assert m.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)
    # from samples: close to the population figure
    g = torch.Generator().manual_seed(1)
    xa = mu1 + torch.randn(200000, 3, generator=g) * a.sqrt()
    xb = mu2 + torch.randn(200000, 3, generator=g) * b.sqrt()
    assert m.fid(xa, xb) == pytest.approx(want, rel=0.02)
    assert m.fid(xa, xa) == pytest.approx(0.0, abs=1e-9)


def test_kid_is_the_unbiased_estimator():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(40, 5, generator=g), torch.randn(30, 5, generator=g) + 0.5
    k = lambda u, v: (float(u @ v) / 5 + 1) ** 3
    xx = sum(k(x[i], x[j]) for i in range(40) for j in range(40) if i != j) / (40 * 39)
    yy = sum(k(y[i], y[j]) for i in range(30) for j in range(30) if i != j) / (30 * 29)
    xy = sum(k(x[i], y[j]) for i in range(40) for j in range(30)) / (40 * 30)
    assert m.mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-6)  # reference sums float32 dots
    same = torch.randn(2000, 8, generator=g)
    other = torch.randn(2000, 8, generator=g)
    mean, std = m.kid(same, other, subsets=20, subset_size=500)
    assert abs(mean) < 3 * std + 1e-3  # same distribution: zero in expectation (unbiased: may be < 0)
    assert m.kid(same, other + 1.0, subsets=5, subset_size=500)[0] > 0.1


def test_precision_recall_on_known_sets():
    g = torch.Generator().manual_seed(3)
    real = torch.randn(300, 4, generator=g)
    assert m.precision_recall(real, real) == (1.0, 1.0)
    assert m.precision_recall(real, real + 100.0) == (0.0, 0.0)
    # generated points covering only half the real set: high precision, recall about a half
    half = real[real[:, 0] > 0]
    p, r = m.precision_recall(real, half)
    assert p == 1.0 and 0.3 < r < 0.75


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    torch.manual_seed(0)
    net = InceptionFeatures(fid_variant=False)
    for mod in net.modules():  # random but realistic batch-norm statistics
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_var.uniform_(0.5, 1.5)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 2048), torch.zeros(1000)
    state["AuxLogits.fc.weight"] = torch.zeros(1000, 768)
    path = tmp_path_factory.mktemp("inc") / "inception_v3.safetensors"
    save_file(state, str(path))
    return path, net.eval()


def test_inception_layouts_load_and_give_the_built_networks_features(inception_file, tmp_path):
    path, net = inception_file
    loaded = load_inception(path)
    assert not loaded.fid_variant
    x = torch.rand(2, 3, 64, 64)
    assert torch.allclose(loaded(x), net(x), atol=1e-5) and loaded(x).shape == (2, 2048)
    # pytorch-fid's layout: the same names, fc with 1008 classes, saved with torch.save → the FID variant
    state = {k: v for k, v in net.state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)
    torch.save(state, tmp_path / "pt_inception-2015-12-05.pth")
    fid_net = load_inception(tmp_path / "pt_inception-2015-12-05.pth")
    assert fid_net.fid_variant and not torch.allclose(fid_net(x), net(x))  # TF pooling differs
    del state["Mixed_7c.branch_pool.conv.weight"]
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(CheckpointError, match="Mixed_7c.branch_pool.conv.weight"):
        load_inception(tmp_path / "broken.pth")


@pytest.mark.slow
def test_metrics_command_on_folders_and_a_model(inception_file, tmp_path):
    path, _net = inception_file
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        for i in range(6):
            write_png(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), tmp_path / name / f"{i}.png")
    res = CliRunner().invoke(build_app(), ["metrics", str(tmp_path / "a"), str(tmp_path / "a"), "--features", str(path),
                                           "--size", "32", "--kid-subsets", "3", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "\nFID 0\n" in res.output and "precision 1.000  recall 1.000" in res.output
    res = CliRunner().invoke(build_app(), ["metrics", str(tmp_path / "a"), "wgan", "--features", str(path), "--count", "6",
                                           "--size", "32", "--kid-subsets", "3", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    fid_line = next(l for l in res.output.splitlines() if l.startswith("FID "))
    assert float(fid_line.split()[1]) > 0 and "6 samples of wgan (seeds 0..5)" in res.output


@pytest.mark.slow
def test_training_logs_fid_kid_and_ppl_at_checkpoints_and_keeps_them(inception_file, tmp_path):
    from plugins.wgan.bikes import make_bikes

    from installation.train.loop import load_checkpoint

    path, _net = inception_file
    make_bikes(tmp_path / "data", 8, 32, seed=0)
    common = ["--steps", "4", "--checkpoint-every", "2", "--sample-every", "2", "--resolution", "32",
              "--batch", "4", "--device", "cpu", "-O", "z_dim=16", "-O", "width=8"]
    res = CliRunner().invoke(build_app(), ["train", "wgan", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
                                           *common, "--metrics-features", str(path), "--metrics-count", "8",
                                           "--metrics-ppl", "6"])
    assert res.exit_code == 0, res.output
    lines = [l for l in res.output.splitlines() if " fid " in l]
    assert [l.split(":")[1].strip() for l in lines] == ["step 2", "step 4"]
    assert all(float(l.split(" fid ")[1].split()[0]) > 0 and float(l.split(" ppl ")[1].split()[0]) > 0 for l in lines)
    # kept with the checkpoint and in OUT/metrics.jsonl, one row per checkpoint
    kept = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["extra"]["metrics"]
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in kept] == [r["step"] for r in rows] == [2, 4]
    assert set(kept[-1]) == {"step", "kimg", "fid", "kid", "ppl"} and kept[-1]["ppl"] == rows[-1]["ppl"]
    # the last figure is what `installation ppl` measures on the exported weights
    weights = next((tmp_path / "run").glob("*.safetensors"))
    alone = CliRunner().invoke(build_app(), ["ppl", str(weights), "--features", str(path), "--count", "6",
                                             "--device", "cpu"])
    assert alone.exit_code == 0, alone.output
    ppl_line = next(l for l in alone.output.splitlines() if l.startswith("PPL "))
    assert float(ppl_line.split()[1]) == pytest.approx(kept[-1]["ppl"], rel=1e-4)
    # measuring leaves the run untouched: the same run without metrics draws the same samples
    res = CliRunner().invoke(build_app(), ["train", "wgan", str(tmp_path / "data"), "--out", str(tmp_path / "plain"),
                                           *common])
    assert res.exit_code == 0, res.output
    for step in ("step0000002.png", "step0000004.png"):
        assert np.array_equal(read_png(tmp_path / "run" / "samples" / step), read_png(tmp_path / "plain" / "samples" / step))


@pytest.mark.slow
def test_ppl_command_on_shipped_models(inception_file):
    path, _net = inception_file
    figures = {}
    for model, space in (("stylegan2", "w"), ("vae", "z")):
        res = CliRunner().invoke(build_app(), ["ppl", model, "--features", str(path), "--count", "8", "--batch", "4",
                                               "--device", "cpu"])
        assert res.exit_code == 0, res.output
        assert f"8 paths in {space} (full)" in res.output
        figures[model] = float(next(l for l in res.output.splitlines() if l.startswith("PPL ")).split()[1])
        assert figures[model] > 0
    res = CliRunner().invoke(build_app(), ["ppl", "vae", "--features", str(path), "--space", "w", "--device", "cpu"])
    assert res.exit_code != 0 and "no mapping network" in res.output


@pytest.mark.slow
def test_metrics_ppl_of_a_model_alone_and_beside_a_folder(inception_file, tmp_path):
    path, _net = inception_file
    run = lambda *args: CliRunner().invoke(build_app(), ["metrics", *args, "--features", str(path), "--device", "cpu"])
    res = run("wgan", "--ppl", "--count", "6", "--batch", "3")
    assert res.exit_code == 0, res.output
    line = next(l for l in res.output.splitlines() if l.startswith("PPL "))
    assert float(line.split()[1]) > 0 and "wgan: 6 paths in z (full)" in line and "FID" not in res.output
    # the same measurement as `installation ppl` (one implementation): the same figure, whatever the batch
    alone = CliRunner().invoke(build_app(), ["ppl", "wgan", "--features", str(path), "--count", "6", "--batch", "4",
                                             "--device", "cpu"])  # another batch size: the same paths
    assert alone.exit_code == 0 and line.split()[1] == next(l for l in alone.output.splitlines() if l.startswith("PPL ")).split()[1]
    rng = np.random.default_rng(1)
    for i in range(6):
        write_png(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), tmp_path / "real" / f"{i}.png")
    res = run("wgan", str(tmp_path / "real"), "--ppl", "--count", "6", "--size", "32", "--kid-subsets", "2")
    assert res.exit_code == 0, res.output
    assert [l.split()[0] for l in res.output.splitlines() if l.split()[:1] in (["FID"], ["PPL"])] == ["FID", "PPL"]
    flat = lambda r: " ".join(r.output.replace("│", " ").split())
    res = run("wgan", "--ppl", "--ppl-space", "w", "--count", "4")
    assert res.exit_code != 0 and "no mapping network" in flat(res) and "--ppl-space" in flat(res)
    res = run("wgan")
    assert res.exit_code == 2 and "--ppl" in flat(res)
    res = run(str(tmp_path / "real"), "--ppl")
    assert res.exit_code == 2 and "needs a model" in flat(res)


def test_checkpoint_ppl_is_skipped_with_a_reason_for_a_task_no_generator_plays(inception_file):
    from types import SimpleNamespace

    from installation.train.judge import CheckpointMetrics

    path, _net = inception_file
    data = SimpleNamespace(images=torch.randint(0, 255, (4, 3, 32, 32), dtype=torch.uint8))
    deblur = CheckpointMetrics(path, data, 4, torch.device("cpu"), ppl_count=8, task_name="deblur")
    assert deblur.load is None and "no generator plugin plays deblur" in deblur.skipped
    wgan = CheckpointMetrics(path, data, 4, torch.device("cpu"), ppl_count=8, task_name="wgan")
    assert wgan.load is not None and wgan.skipped is None
    off = CheckpointMetrics(path, data, 4, torch.device("cpu"), ppl_count=0, task_name="wgan")
    assert off.load is None and off.skipped is None
