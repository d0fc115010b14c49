"""Super-resolution: ESPCN model and task, Lanczos fallback, the post stage, shipped weights, spandrel path."""
from __future__ import annotations


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from installation.engine.post import PostChain
from installation.protocols import PostProcessor
from installation.weights import CheckpointError
from plugins.superres.data import draw_shapes, make_srmix
from plugins.superres.model import ESPCN, downscale, lanczos_resize
from plugins.superres.stage import SuperRes, make_superres
from installation.train.metrics import psnr
from plugins.superres.train import SuperResTask


def _shapes(n, size, seed):
    arr = np.stack([draw_shapes(np.random.default_rng([seed, 1, i]), size) for i in range(n)])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255


def test_espcn_starts_as_bicubic_and_validates_scale():
    x = torch.rand(2, 3, 12, 16)
    for s in (2, 4):
        net = ESPCN(s)
        out = net(x)
        assert out.shape == (2, 3, 12 * s, 16 * s)
        assert torch.allclose(out, F.interpolate(x, scale_factor=s, mode="bicubic", align_corners=False))
    with pytest.raises(ValueError, match="scale"):
        ESPCN(3)
    with pytest.raises(ValueError, match="divisible"):
        downscale(torch.rand(1, 3, 10, 10), 4)


def test_lanczos_matches_cv2_reference_and_keeps_constants():
    import cv2

    x = torch.rand(1, 3, 20, 24)
    up = lanczos_resize(x, (40, 48))
    assert up.shape == (1, 3, 40, 48)
    flat = torch.full((1, 3, 9, 9), 0.3)
    assert torch.allclose(lanczos_resize(flat, (36, 36)), torch.full((1, 3, 36, 36), 0.3), atol=1e-6)
    # a smooth image: Lanczos-3 here and cv2's Lanczos-4 agree closely away from the border
    yy, xx = torch.meshgrid(torch.linspace(0, 3, 20), torch.linspace(0, 3, 24), indexing="ij")
    smooth = (0.5 + 0.4 * torch.sin(yy + 2 * xx))[None, None].repeat(1, 3, 1, 1)
    ours = lanczos_resize(smooth, (40, 48))[0, 0, 6:-6, 6:-6].numpy()
    ref = cv2.resize(smooth[0, 0].numpy(), (48, 40), interpolation=cv2.INTER_LANCZOS4)[6:-6, 6:-6]
    assert np.abs(ours - ref).max() < 0.01


def test_training_steps_lower_the_loss():
    torch.manual_seed(0)
    task = SuperResTask(scale=2, features=16, mid=8, lr=3e-3)
    task.setup(torch.device("cpu"), 32)
    batch = _shapes(8, 32, 0)
    first = task.train_step(batch, 0)
    for step in range(1, 25):
        last = task.train_step(batch, step)
    assert last["loss"] < first["loss"]
    assert last["psnr"] > last["psnr_bicubic"]  # already beats interpolation on what it saw
    grid = task.sample(16, 0)
    assert grid.shape == (9, 3, 32, 32)
    with pytest.raises(ValueError, match="divisible"):
        SuperResTask(scale=4).setup(torch.device("cpu"), 30)


def test_export_roundtrip_as_stage_method(tmp_path):
    task = SuperResTask(scale=4, features=8, mid=8)
    task.setup(torch.device("cpu"), 32)
    with torch.no_grad():
        task.net.body[-1].weight.normal_(0, 0.01)
    path = task.export(tmp_path)
    assert path.name == "espcn_x4.safetensors"
    stage = make_superres(device="cpu", scale=4, method=str(path))
    x = torch.rand(2, 3, 8, 8)
    assert torch.allclose(stage.process(x), task.net.eval()(x).clamp(0, 1), atol=1e-6)
    # a native x4 network asked for x2 resamples its output to the requested size
    assert make_superres(device="cpu", scale=2, method=str(path)).process(x).shape == (2, 3, 16, 16)


def test_stage_methods_shapes_alpha_and_errors(tmp_path):
    x = torch.rand(1, 4, 16, 16)
    out = SuperRes("cpu", scale=2, method="lanczos").process(x)
    assert out.shape == (1, 4, 32, 32) and float(out.min()) >= 0 and float(out.max()) <= 1
    with pytest.raises(ValueError, match="scale"):
        SuperRes("cpu", scale=3)
    with pytest.raises(CheckpointError, match="nope.pth"):
        SuperRes("cpu", method=str(tmp_path / "nope.pth"))
    with pytest.raises(ValueError, match="unknown"):
        make_superres(device="cpu", scale=2, sharpen=1)
    chain = PostChain.build([{"stage": "superres", "scale": 2, "method": "lanczos"}], {"superres": make_superres}, torch.device("cpu"))
    assert chain(torch.rand(2, 3, 8, 8)).shape == (2, 3, 16, 16)


@pytest.mark.parametrize("scale", [2, 4])
def test_shipped_weights_beat_bicubic_on_held_out_images(scale):
    stage = make_superres(device="cpu", scale=scale)
    assert isinstance(stage, PostProcessor)
    from plugins.wgan.bikes import draw_bike

    bikes = np.stack([draw_bike(np.random.default_rng([4242, i]), 64) for i in range(6)])
    images = torch.cat([_shapes(6, 64, seed=4242),  # seeds never used for training data
                        torch.from_numpy(bikes).permute(0, 3, 1, 2).float() / 255])
    low = downscale(images, scale)
    ours = psnr(stage.process(low), images)
    bicubic = psnr(F.interpolate(low, scale_factor=scale, mode="bicubic", align_corners=False), images)
    assert ours > bicubic + 0.4, (ours, bicubic)


def test_spandrel_missing_gives_clear_error(tmp_path, monkeypatch):
    import builtins

    pth = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save({"params_ema": {"conv_first.weight": torch.zeros(4, 3, 3, 3)}}, pth)
    real_import = builtins.__import__

    def no_spandrel(name, *args, **kwargs):
        if name == "spandrel":
            raise ImportError("No module named 'spandrel'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_spandrel)
    with pytest.raises(ImportError, match=r"installation\[esrgan\]"):
        SuperRes("cpu", scale=4, method=str(pth))


def test_pth_with_code_is_refused(tmp_path):
    from plugins.superres.esrgan import read_state_dict

    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    bad = tmp_path / "evil.pth"
    torch.save({"params": Evil()}, bad)
    with pytest.raises(CheckpointError, match="evil.pth"):
        read_state_dict(bad)
    good = tmp_path / "ok.pth"
    torch.save({"params_ema": {"w": torch.ones(2)}}, good)
    assert list(read_state_dict(good)) == ["w"]


def test_spandrel_loads_a_real_esrgan_compact_state_dict(tmp_path):
    pytest.importorskip("spandrel")
    # Real-ESRGAN "compact" (SRVGGNetCompact) layout: body.N conv / prelu, pixel shuffle x2
    nf, convs, scale = 8, 2, 2
    state = {"body.0.weight": torch.randn(nf, 3, 3, 3) * 0.1, "body.0.bias": torch.zeros(nf), "body.1.weight": torch.full((nf,), 0.25)}
    i = 2
    for _ in range(convs):
        state[f"body.{i}.weight"] = torch.randn(nf, nf, 3, 3) * 0.1
        state[f"body.{i}.bias"] = torch.zeros(nf)
        state[f"body.{i + 1}.weight"] = torch.full((nf,), 0.25)
        i += 2
    state[f"body.{i}.weight"] = torch.randn(3 * scale * scale, nf, 3, 3) * 0.01
    state[f"body.{i}.bias"] = torch.zeros(3 * scale * scale)
    pth = tmp_path / "realesr-compact-x2.pth"
    torch.save({"params": state}, pth)
    stage = SuperRes("cpu", scale=2, method=str(pth))
    out = stage.process(torch.rand(1, 3, 16, 16))
    assert out.shape == (1, 3, 32, 32)


def test_make_srmix_writes_all_kinds(tmp_path):
    paths = make_srmix(tmp_path, 6, 32, seed=1)
    names = {p.name.split("_")[0] for p in paths}
    assert len(paths) == 6 and {"shapes", "noise"} <= names
    from installation.train.data import ImageFolder

    assert ImageFolder(tmp_path, 32).images.shape == (6, 3, 32, 32)


def test_train_command_exports_weights_the_stage_loads(tmp_path):
    from typer.testing import CliRunner

    from installation.cli import build_app

    import cv2

    (tmp_path / "data").mkdir()
    for i in range(6):
        cv2.imwrite(str(tmp_path / "data" / f"{i}.png"), draw_shapes(np.random.default_rng([0, 1, i]), 32))
    result = CliRunner().invoke(build_app(), [
        "train", "superres", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--resolution", "32",
        "--batch", "4", "--steps", "3", "--device", "cpu", "--val-fraction", "0.3",
        "-O", "scale=4", "-O", "features=8", "-O", "mid=8"])
    assert result.exit_code == 0, result.output
    weights = tmp_path / "run" / "espcn_x4.safetensors"
    assert weights.exists() and (tmp_path / "run" / "samples").is_dir()
    stage = make_superres(device="cpu", scale=4, method=str(weights))
    assert stage.process(torch.rand(1, 3, 8, 8)).shape == (1, 3, 32, 32)


def test_inference_path_is_the_training_forward_on_the_shipped_wave_weights():
    """plugins/superres/infer.py (matrix bicubic, folded input scaling) gives what ESPCN.forward gives."""
    from plugins.superres.infer import bicubic_matrix, espcn_upscale

    stage = make_superres(scale=4, method="espcn-waves")
    x = torch.rand(2, 3, 24, 40, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        want = stage.net(x).clamp(0, 1)
    torch.testing.assert_close(espcn_upscale(stage.net, x), want, atol=1e-5, rtol=0)
    torch.testing.assert_close(stage.process(x), want, atol=1e-5, rtol=0)
    m = bicubic_matrix(24, 4, torch.device("cpu"), torch.float64)
    img = torch.rand(1, 1, 24, 1, dtype=torch.float64)
    bic = torch.nn.functional.interpolate(img, size=(96, 1), mode="bicubic", align_corners=False)
    torch.testing.assert_close(m @ img[0, 0], bic[0, 0])
