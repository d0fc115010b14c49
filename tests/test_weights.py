"""One weights metadata shape (WeightsMeta), its reader's errors, older layouts, content-based format detection."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from installation.weights import (CheckpointError, WeightsMeta, detect_format, load_into, load_weights, read_meta,
                                  read_torch_checkpoint, save_weights)

SHIPPED = sorted((Path(__file__).parent.parent / "plugins").glob("*/weights/*.json"))


def test_round_trip(tmp_path):
    meta = WeightsMeta(model="toy", config={"width": 4}, provenance={"steps": 3})
    path = save_weights(tmp_path / "toy", {"w": torch.arange(4.0)}, meta)
    assert path.name == "toy.safetensors"
    assert json.loads(path.with_suffix(".json").read_text()) == {"version": 1, "model": "toy", "config": {"width": 4},
                                                                   "provenance": {"steps": 3}}
    state, back = load_weights(path, model="toy")
    assert torch.equal(state["w"], torch.arange(4.0)) and back == meta
    with pytest.raises(TypeError, match="WeightsMeta"):
        save_weights(tmp_path / "old", {"w": torch.zeros(1)}, {"model": "toy"})


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_metadata_file_is_version_1(path):
    data = json.loads(path.read_text())
    assert data["version"] == 1 and set(data) == {"version", "model", "config", "provenance"}
    assert read_meta(path).model == data["model"]


@pytest.mark.parametrize("text, match", [
    ('{"version": 1, "model": "toy", "confg": {}}', r"bad\.json: bad weights metadata: confg: Extra inputs"),
    ('{"version": 1, "model": "", "config": {}}', r"bad\.json: bad weights metadata: model:"),
    ('{"version": 1, "model": "toy", "config": [1]}', r"bad\.json: bad weights metadata: config:"),
    ('{"version": 2, "model": "toy"}', r"bad\.json: weights metadata version 2 is not one this installation reads"),
    ('{"hello": 1}', r"bad\.json: weights metadata has no 'version'"),
    ('[1, 2]', r"bad\.json: weights metadata must be a JSON object"),
    ('{"version": 1,\n "model": }', r"bad\.json: invalid JSON at line 2"),
])
def test_bad_metadata_names_file_and_field(tmp_path, text, match):
    save_weights(tmp_path / "bad", {"w": torch.zeros(1)}, WeightsMeta(model="toy"))
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(CheckpointError, match=match):
        load_weights(tmp_path / "bad.safetensors")


def test_model_is_checked_and_metadata_required_when_asked(tmp_path):
    path = save_weights(tmp_path / "d", {"w": torch.zeros(1)}, WeightsMeta(model="deblur"))
    with pytest.raises(CheckpointError, match=r"d\.json: metadata says model 'deblur', expected 'vae'"):
        load_weights(path, model="vae")
    path.with_suffix(".json").unlink()
    assert load_weights(path)[1] is None
    with pytest.raises(CheckpointError, match=r"d\.json: file not found .*expected model 'vae'"):
        load_weights(path, model="vae")


@pytest.mark.parametrize("legacy, model, config, provenance", [
    ({"format": "installation-stylegan2", "config": {"resolution": 64}, "step": 5}, "stylegan2", {"resolution": 64}, {"step": 5}),
    ({"model": "espcn", "scale": 2, "features": 64, "mid": 32, "layers": 3, "degradation": "bicubic"}, "espcn",
     {"scale": 2, "features": 64, "mid": 32, "layers": 3}, {"degradation": "bicubic"}),
    ({"model": "wgan-dcgan", "z_dim": 100, "width": 32, "resolution": 64, "gp": 0.0}, "wgan-dcgan",
     {"z_dim": 100, "width": 32, "resolution": 64}, {"gp": 0.0}),
    ({"model": "deblur", "width": 16, "steps": 9}, "deblur", {"width": 16}, {"steps": 9}),
    ({"latent_dim": 8, "photos": ["a.png"]}, "latents", {"latent_dim": 8}, {"photos": ["a.png"]}),
])
def test_older_layouts_are_read_as_version_1(tmp_path, legacy, model, config, provenance):
    (tmp_path / "old.json").write_text(json.dumps(legacy))
    meta = read_meta(tmp_path / "old.safetensors")
    assert (meta.version, meta.model, meta.config, meta.provenance) == (1, model, config, provenance)


def test_format_detection_reads_content_not_suffix(tmp_path):
    st = save_weights(tmp_path / "a", {"w": torch.zeros(2)}, WeightsMeta(model="toy"))
    disguised = tmp_path / "weights.pth"
    disguised.write_bytes(st.read_bytes())
    assert detect_format(disguised) == "safetensors"
    zipped = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(2)}, zipped)
    assert detect_format(zipped) == "torch-zip"
    legacy = tmp_path / "legacy.pkl"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    assert detect_format(legacy) == "torch-legacy"
    assert torch.equal(read_torch_checkpoint(legacy)["w"], torch.zeros(2))
    plain = tmp_path / "net.pt"
    plain.write_bytes(pickle.dumps({"G_ema": 1}))
    assert detect_format(plain) == "pickle"
    (tmp_path / "a.txt").write_text('{"version": 1}')
    assert detect_format(tmp_path / "a.txt") == "json"
    (tmp_path / "noise.bin").write_bytes(b"\x00" * 3)
    assert detect_format(tmp_path / "noise.bin") == "unknown"
    with pytest.raises(CheckpointError, match=r"missing\.bin: file not found"):
        detect_format(tmp_path / "missing.bin")
    with pytest.raises(CheckpointError, match=r"model\.safetensors: not a safetensors file"):
        load_weights(zipped)
    with pytest.raises(CheckpointError, match=r"net\.pt: not a torch checkpoint \(the file is pickle\)"):
        read_torch_checkpoint(plain)


def test_load_into_names_missing_unused_and_misshapen_keys(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    state = {k: v.clone() for k, v in net.state_dict().items()}
    state["extra.weight"] = torch.zeros(1)
    del state["1.bias"]
    state["0.weight"] = torch.zeros(5, 5)
    with pytest.raises(CheckpointError) as err:
        load_into(net, state, tmp_path / "x.safetensors")
    msg = str(err.value)
    assert "x.safetensors" in msg and "missing 1.bias" in msg and "unused extra.weight" in msg
    assert "0.weight is (5, 5), the model wants (3, 2)" in msg
