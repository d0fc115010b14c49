"""The watches data set, the plugin's registrations, `installation vae encode|decode` and the latents walk."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from installation.cli import build_app
from installation.plugins import make_plugin_manager
from installation.walks.factory import make_walk
from installation.weights import CheckpointError, WeightsMeta, save_weights
from plugins.vae.walk import read_latents
from plugins.vae.watches import make_watches

runner = CliRunner()

def test_plugin_registers_everything():
    reg = make_plugin_manager()
    assert "vae" in reg.generators() and "deblur" in reg.post_processors()
    assert {"vae", "deblur"} <= set(reg.trainers())
    assert "watches" in reg.datasets() and "latents" in reg.walks()


def test_watches_maker_writes_distinct_reproducible_images(tmp_path):
    maker = make_plugin_manager().datasets()["watches"]
    paths = maker(tmp_path / "a", 6, 32, 1)
    again = make_watches(tmp_path / "b", 6, 32, 1)
    assert len(paths) == 6 and all(p.exists() for p in paths)
    imgs = [cv2.imread(str(p)) for p in paths]
    assert all(i.shape == (32, 32, 3) for i in imgs)
    assert all(np.array_equal(i, cv2.imread(str(q))) for i, q in zip(imgs, again))
    assert not np.array_equal(imgs[0], imgs[1])
    with pytest.raises(ValueError):
        make_watches(tmp_path / "c", 2, 4, 0)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    paths = make_watches(folder, 3, 80, seed=42)  # not the model's size: encode resizes
    return paths


def test_encode_then_decode_then_walk(photos, tmp_path):
    out = tmp_path / "mine.safetensors"
    result = runner.invoke(build_app(), ["vae", "encode", *map(str, photos), "--out", str(out)])
    assert result.exit_code == 0, result.output
    z = read_latents(out)
    assert z.shape == (3, 200) and bool(torch.isfinite(z).all())
    grid = tmp_path / "decoded.png"
    result = runner.invoke(build_app(), ["vae", "decode", str(out), "--out", str(grid), "--deblur"])
    assert result.exit_code == 0, result.output
    assert cv2.imread(str(grid)) is not None

    reg = make_plugin_manager()
    gen = reg.generators()["vae"](checkpoint=None, device="cpu")
    walk = make_walk(reg.walks()["latents"], gen, seed=0, options={"file": str(out), "hold": 1.0, "transition": 2.0})
    assert torch.equal(walk.latent(0.5), z[0]) and torch.equal(walk.latent(3.5), z[1])
    assert torch.equal(walk.latent(walk.period + 0.5), z[0])  # loops back to the first photo
    mid = walk.latent(2.0)
    assert not torch.equal(mid, z[0]) and not torch.equal(mid, z[1])


def test_encode_refuses_unreadable_photo(tmp_path):
    bad = tmp_path / "notaphoto.png"
    bad.write_text("hello")
    result = runner.invoke(build_app(), ["vae", "encode", str(bad), "--out", str(tmp_path / "z.safetensors")])
    assert result.exit_code != 0 and "notaphoto.png" in result.output


def test_latents_walk_refuses_wrong_files(tmp_path):
    walk = make_plugin_manager().walks()["latents"]
    latents = WeightsMeta(model="latents")
    wrong = save_weights(tmp_path / "wrong", {"latents": torch.zeros(2, 8)}, latents)
    with pytest.raises(CheckpointError, match="wrong.safetensors"):
        walk(latent_dim=200, seed=0, file=str(wrong))
    other = save_weights(tmp_path / "other", {"z": torch.zeros(2, 200)}, latents)
    with pytest.raises(CheckpointError, match="no 'latents'"):
        walk(latent_dim=200, seed=0, file=str(other))
    with pytest.raises(ValueError, match="file"):
        walk(latent_dim=200, seed=0)
