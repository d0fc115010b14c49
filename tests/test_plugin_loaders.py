"""The model plugins' loaders read weights through the one metadata shape and tell formats apart by content."""
from __future__ import annotations

import pickle

import pytest
import torch

from installation.weights import CheckpointError, WeightsMeta, save_weights
from plugins.superres.esrgan import read_state_dict
from plugins.superres.stage import SuperRes, _is_native
from plugins.vae.loader import SHIPPED_VAE, load_deblur
from plugins.vae.walk import read_latents
from plugins.wgan.loader import SHIPPED as SHIPPED_WGAN
from plugins.wgan.loader import WGANGenerator


def test_esrgan_reader_goes_by_content_not_suffix(tmp_path):
    st = save_weights(tmp_path / "real", {"w": torch.ones(2)}, WeightsMeta(model="esrgan"))
    named_pth = tmp_path / "model.pth"
    named_pth.write_bytes(st.read_bytes())
    assert list(read_state_dict(named_pth)) == ["w"]
    named_st = tmp_path / "model.safetensors"
    torch.save({"params_ema": {"w": torch.ones(2)}}, named_st)
    assert list(read_state_dict(named_st)) == ["w"]
    pkl = tmp_path / "net.pth"
    pkl.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(CheckpointError, match=r"net\.pth: not a weights file \(its content is pickle"):
        read_state_dict(pkl)
    with pytest.raises(CheckpointError, match=r"nothing\.pth: file not found"):
        read_state_dict(tmp_path / "nothing.pth")


def test_superres_recognises_its_own_exports_by_metadata(tmp_path):
    from plugins.superres.model import ESPCN

    net = ESPCN(2, 8, 4, 2)
    mine = save_weights(tmp_path / "mine", net.state_dict(), WeightsMeta(model="espcn", config=net.config()))
    assert _is_native(mine)
    other = save_weights(tmp_path / "other", net.state_dict(), WeightsMeta(model="vae"))
    assert not _is_native(other)
    stage = SuperRes("cpu", scale=2, method=str(mine))
    assert stage.net is not None and stage.net_scale == 2


def test_a_file_made_for_another_model_is_refused_naming_both(tmp_path):
    with pytest.raises(CheckpointError, match=r"vae-watches\.json: metadata says model 'vae', expected 'wgan-dcgan'"):
        WGANGenerator(SHIPPED_VAE)
    with pytest.raises(CheckpointError, match=r"bikes64\.json: metadata says model 'wgan-dcgan', expected 'deblur'"):
        load_deblur(SHIPPED_WGAN)
    with pytest.raises(CheckpointError, match=r"vae-watches\.safetensors: metadata says model 'vae', expected 'latents'"):
        read_latents(SHIPPED_VAE)


def test_weights_without_metadata_are_refused_by_model_loaders(tmp_path):
    from safetensors.torch import save_file

    bare = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(1)}, str(bare))
    with pytest.raises(CheckpointError, match=r"bare\.json: file not found .*expected model 'wgan-dcgan'"):
        WGANGenerator(bare)
