"""StyleGAN2 loaders: NVIDIA pickles (safely), rosinality checkpoints, our native format, refusals.

The NVIDIA pickles here are built in the real format — persistent-object records of
``torch_utils.persistence._reconstruct_persistent_obj`` with meta ``type``/``version``/
``module_src``/``class_name``/``state`` (an nn.Module ``__dict__``: ``_parameters``, ``_buffers``,
``_modules``, ``_init_kwargs`` ...) — from stand-in modules, without any NVIDIA code.  The
"original" network is ours with its weights renamed to NVIDIA's names by the independent table
in this file, so a wrong name or shape in the loader's mapping fails the image comparison.
"""
from __future__ import annotations

import argparse
import collections
import pickle
import sys
import types

import pytest
import torch

from installation.weights import CheckpointError, WeightsMeta, save_weights
from plugins.stylegan2.loader import detect_format, load_stylegan2
from plugins.stylegan2.network import G2Config, StyleGAN2
from plugins.stylegan2.nvidia import UnsafePickleError
from plugins.stylegan2.ops import make_filter


def tiny_net(c_dim: int = 0, seed: int = 0, clamp=None) -> StyleGAN2:
    torch.manual_seed(seed)
    cfg = G2Config(resolution=32, z_dim=12, w_dim=16, c_dim=c_dim, mapping_layers=3, channel_base=256, channel_max=32,
                   conv_clamp=clamp)
    net = StyleGAN2(cfg).eval()
    with torch.no_grad():  # make every tensor matter: noise strengths, biases and the mean w non-zero
        for name, p in net.named_parameters():
            if name.endswith("noise_strength") or name.endswith(".bias"):
                p.add_(torch.randn_like(p) * 0.3)
        net.mapping.w_avg.copy_(torch.randn(cfg.w_dim) * 0.5)
    return net


def images(net: StyleGAN2, z: torch.Tensor, c=None, psi: float = 1.0) -> torch.Tensor:
    with torch.no_grad():
        return net(z, c, psi=psi, noise_mode="const")


# -- NVIDIA pickle construction -----------------------------------------------------------------

MARKER_SRC = "import pathlib\npathlib.Path({marker!r}).write_text('module_src ran')\n"


@pytest.fixture
def nvidia_modules(monkeypatch):
    """Stand-ins for ``torch_utils.persistence`` and ``dnnlib.util`` so pickle records their names."""
    persistence = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # only its name is pickled
        raise AssertionError("never called")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    torch_utils = types.ModuleType("torch_utils")
    torch_utils.persistence = persistence
    util = types.ModuleType("dnnlib.util")

    class EasyDict(dict):
        pass

    EasyDict.__module__ = "dnnlib.util"
    EasyDict.__qualname__ = "EasyDict"
    util.EasyDict = EasyDict
    dnnlib = types.ModuleType("dnnlib")
    dnnlib.util = util
    for name, mod in {"torch_utils": torch_utils, "torch_utils.persistence": persistence, "dnnlib": dnnlib, "dnnlib.util": util}.items():
        monkeypatch.setitem(sys.modules, name, mod)
    return types.SimpleNamespace(reconstruct=_reconstruct_persistent_obj, EasyDict=EasyDict)


class Record:
    """Pickles exactly like a persistent class instance of NVIDIA's code."""

    def __init__(self, mods, class_name, module_src, params=(), buffers=(), children=(), init_kwargs=None, **attrs):
        state = {
            "training": False,
            "_parameters": collections.OrderedDict((k, torch.nn.Parameter(v.clone(), requires_grad=True)) for k, v in params),
            "_buffers": collections.OrderedDict((k, v.clone()) for k, v in buffers),
            "_non_persistent_buffers_set": set(),
            "_backward_hooks": collections.OrderedDict(),
            "_forward_hooks": collections.OrderedDict(),
            "_forward_pre_hooks": collections.OrderedDict(),
            "_state_dict_hooks": collections.OrderedDict(),
            "_load_state_dict_pre_hooks": collections.OrderedDict(),
            "_modules": collections.OrderedDict(children),
            "_init_args": (),
            "_init_kwargs": mods.EasyDict(init_kwargs or {}),
            **attrs,
        }
        self.mods = mods
        self.meta = dict(type="class", version=6, module_src=module_src, class_name=class_name, state=state)

    def __reduce__(self):
        return (self.mods.reconstruct, (self.meta,))


def nvidia_pickle(net: StyleGAN2, mods, src: str, lr_multiplier=0.01):
    """``{'G', 'D', 'G_ema', ...}`` in NVIDIA's layout, G_ema holding ``net``'s weights under NVIDIA's names."""
    cfg = net.cfg
    sd = net.state_dict()
    fir = make_filter()

    def R(cls, **kw):
        return Record(mods, cls, src, **kw)

    def fc(prefix):
        return R("FullyConnectedLayer", params=[("weight", sd[prefix + ".weight"]), ("bias", sd[prefix + ".bias"])])

    def layer(prefix, res):
        return R("SynthesisLayer", params=[("weight", sd[prefix + ".weight"]), ("noise_strength", sd[prefix + ".noise_strength"]),
                                          ("bias", sd[prefix + ".bias"])],
                 buffers=[("resample_filter", fir), ("noise_const", sd[prefix + ".noise_const"])],
                 children=[("affine", fc(prefix + ".affine"))], resolution=res)

    def torgb(prefix):
        return R("ToRGBLayer", params=[("weight", sd[prefix + ".weight"]), ("bias", sd[prefix + ".bias"])],
                 children=[("affine", fc(prefix + ".affine"))])

    blocks = []
    for k, res in enumerate(cfg.resolutions):
        p = f"synthesis.blocks.{k}"
        children, params = [], []
        if res == 4:
            params.append(("const", sd["synthesis.const"]))
        else:
            children.append(("conv0", layer(p + ".conv_up", res)))
        children += [("conv1", layer(p + ".conv", res)), ("torgb", torgb(p + ".to_rgb"))]
        blocks.append((f"b{res}", R("SynthesisBlock", params=params, buffers=[("resample_filter", fir)], children=children)))
    synthesis = R("SynthesisNetwork", children=blocks, num_ws=cfg.num_ws)
    fcs = [(f"fc{i}", fc(f"mapping.net.{i}")) for i in range(cfg.mapping_layers)]
    if cfg.c_dim:
        fcs.insert(0, ("embed", fc("mapping.embed")))
    mapping = R("MappingNetwork", buffers=[("w_avg", sd["mapping.w_avg"])], children=fcs)
    kwargs = dict(z_dim=cfg.z_dim, c_dim=cfg.c_dim, w_dim=cfg.w_dim, img_resolution=cfg.resolution, img_channels=3,
                  mapping_kwargs=mods.EasyDict(num_layers=cfg.mapping_layers, lr_multiplier=lr_multiplier),
                  synthesis_kwargs=mods.EasyDict(channel_base=cfg.channel_base, channel_max=cfg.channel_max,
                                                 num_fp16_res=4, conv_clamp=cfg.conv_clamp, architecture="skip"))
    G = R("Generator", children=[("synthesis", synthesis), ("mapping", mapping)], init_kwargs=kwargs, z_dim=cfg.z_dim)
    D = R("Discriminator", params=[("b32.fromrgb.weight", torch.randn(4, 3, 1, 1))])
    return {"G": G, "D": D, "G_ema": G, "augment_pipe": None, "training_set_kwargs": mods.EasyDict(resolution=cfg.resolution)}


@pytest.mark.parametrize("c_dim", [0, 3])
def test_nvidia_pickle_reproduces_original_images(tmp_path, nvidia_modules, c_dim):
    marker = tmp_path / "module_src_ran"
    net = tiny_net(c_dim, clamp=256.0)
    path = tmp_path / "network-snapshot-000100.pkl"
    path.write_bytes(pickle.dumps(nvidia_pickle(net, nvidia_modules, MARKER_SRC.format(marker=str(marker)))))
    for mod in ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util"):
        del sys.modules[mod]  # loading must not need (or import) NVIDIA's modules

    loaded, info = load_stylegan2(path)
    assert info["format"] == "nvidia" and detect_format(path) == "nvidia"
    assert loaded.cfg.resolution == 32 and loaded.cfg.c_dim == c_dim and loaded.cfg.conv_clamp == 256.0
    assert loaded.cfg.mapping_layers == 3 and loaded.num_ws == 8
    z = torch.randn(4, 12, generator=torch.Generator().manual_seed(1))
    c = torch.eye(3)[[0, 1, 2, 0]] if c_dim else None
    for psi in (1.0, 0.6):
        want, got = images(net, z, c, psi), images(loaded, z, c, psi)
        assert torch.allclose(want, got, atol=1e-5), float((want - got).abs().max())
    assert not marker.exists(), "the module source embedded in the pickle was executed"


def test_nvidia_pickle_with_a_wrong_shape_is_refused_naming_the_file(tmp_path, nvidia_modules):
    net = tiny_net()
    data = nvidia_pickle(net, nvidia_modules, "pass")
    data["G_ema"].meta["state"]["_modules"]["mapping"].meta["state"]["_modules"]["fc1"].meta["state"]["_parameters"]["weight"] = torch.zeros(5, 5)
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(CheckpointError, match="bad.pkl"):
        load_stylegan2(path)


def test_pickle_without_g_ema_is_refused(tmp_path):
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match=r"other\.pkl.*G_ema"):
        load_stylegan2(path)


class _Payload:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


@pytest.mark.parametrize("kind", ["os.system", "eval", "exec", "import", "numpy-object", "torch.load", "plain-class"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, kind):
    import builtins
    import importlib
    import os

    import numpy as np

    marker = tmp_path / "pwned"
    code = f"open({str(marker)!r}, 'w').write('x')"
    payload = {
        "os.system": _Payload(os.system, f"touch {marker}"),
        "eval": _Payload(builtins.eval, code),
        "exec": _Payload(builtins.exec, code),
        "import": _Payload(importlib.import_module, "antigravity"),
        "numpy-object": np.array([_Payload(os.system, f"touch {marker}")], dtype=object),  # arrays of objects
        "torch.load": _Payload(torch.load, str(marker)),  # a full unpickler behind a tensor-ish name
        "plain-class": _Custom(),  # copyreg._reconstructor
    }[kind]
    path = tmp_path / f"evil-{kind}.pkl"
    path.write_bytes(pickle.dumps({"G_ema": payload, "G": None}))
    with pytest.raises(UnsafePickleError) as err:
        load_stylegan2(path)
    assert str(path) in str(err.value)
    assert "refused" in str(err.value)
    assert not marker.exists()


# -- rosinality ----------------------------------------------------------------------------------

def rosinality_state(net: StyleGAN2) -> dict[str, torch.Tensor]:
    """``net``'s weights under rosinality's stylegan2-pytorch Generator names and shapes."""
    sd = net.state_dict()
    out = {"input.input": sd["synthesis.const"][None]}

    def styled(dst, src, noise_idx):
        out[f"{dst}.conv.weight"] = sd[f"{src}.weight"][None]
        out[f"{dst}.conv.modulation.weight"] = sd[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = sd[f"{src}.affine.bias"]
        out[f"{dst}.noise.weight"] = sd[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = sd[f"{src}.bias"]
        out[f"noises.noise_{noise_idx}"] = sd[f"{src}.noise_const"][None, None]

    def rgb(dst, src, upsample=True):
        out[f"{dst}.conv.weight"] = sd[f"{src}.weight"][None]
        out[f"{dst}.conv.modulation.weight"] = sd[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = sd[f"{src}.affine.bias"]
        out[f"{dst}.bias"] = sd[f"{src}.bias"].reshape(1, -1, 1, 1)
        if upsample:  # rosinality's to_rgb1 does not up-sample, so it has no kernel buffer
            out[f"{dst}.upsample.kernel"] = make_filter() * 4

    styled("conv1", "synthesis.blocks.0.conv", 0)
    rgb("to_rgb1", "synthesis.blocks.0.to_rgb", upsample=False)
    for j in range(len(net.cfg.resolutions) - 1):
        styled(f"convs.{2 * j}", f"synthesis.blocks.{j + 1}.conv_up", 2 * j + 1)
        out[f"convs.{2 * j}.conv.blur.kernel"] = make_filter() * 4
        styled(f"convs.{2 * j + 1}", f"synthesis.blocks.{j + 1}.conv", 2 * j + 2)
        rgb(f"to_rgbs.{j}", f"synthesis.blocks.{j + 1}.to_rgb")
    for i in range(net.cfg.mapping_layers):
        out[f"style.{i + 1}.weight"] = sd[f"mapping.net.{i}.weight"]
        out[f"style.{i + 1}.bias"] = sd[f"mapping.net.{i}.bias"]
    return out


def test_rosinality_checkpoint_reproduces_images(tmp_path):
    net = tiny_net()
    path = tmp_path / "550000.pt"
    torch.save({"g_ema": rosinality_state(net), "args": argparse.Namespace(size=32, channel_multiplier=2),
                "latent_avg": net.mapping.w_avg.clone()}, path)
    loaded, info = load_stylegan2(path)
    assert info["format"] == "rosinality" and loaded.cfg.resolution == 32 and loaded.cfg.mapping_layers == 3
    z = torch.randn(3, 12)
    assert torch.allclose(images(net, z, psi=0.7), images(loaded, z, psi=0.7), atol=1e-5)


def test_rosinality_without_latent_avg_estimates_the_mean_w(tmp_path):
    net = tiny_net()
    path = tmp_path / "g.pt"
    torch.save({"g_ema": rosinality_state(net)}, path)
    loaded, _ = load_stylegan2(path)
    z = torch.randn(3, 12)
    assert torch.allclose(images(net, z), images(loaded, z), atol=1e-5)
    with torch.no_grad():
        mean = net.mapping(torch.randn(4096, 12))[:, 0].mean(0)
    assert float((loaded.mapping.w_avg - mean).norm()) < 0.1 * float(mean.norm()) + 0.05


class _Custom:  # weights_only refuses arbitrary classes
    pass


def test_torch_checkpoint_that_needs_code_is_refused(tmp_path):
    path = tmp_path / "custom.pt"
    torch.save({"g_ema": {}, "x": _Custom()}, path)
    with pytest.raises(CheckpointError, match="custom.pt"):
        load_stylegan2(path)


# -- native ---------------------------------------------------------------------------------------

def test_native_round_trip_and_errors(tmp_path):
    net = tiny_net()
    path = save_weights(tmp_path / "mine", net.state_dict(), WeightsMeta(model="stylegan2", config=net.cfg.to_dict()))
    for p in (path, path.with_suffix(".json"), tmp_path):
        loaded, info = load_stylegan2(p)
        assert info["format"] == "native"
        z = torch.randn(2, 12)
        assert torch.allclose(images(net, z), images(loaded, z))
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with pytest.raises(CheckpointError, match="broken.safetensors"):
        load_stylegan2(broken)
    path.with_suffix(".json").write_text('{"version": 1, "model": "something-else"}')
    with pytest.raises(CheckpointError, match=r"mine\.json"):
        load_stylegan2(path)
    with pytest.raises(CheckpointError, match="missing.safetensors"):
        load_stylegan2(tmp_path / "missing.safetensors")


def test_unrecognised_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "notes.bin"
    path.write_text("just some text, not a model at all")
    with pytest.raises(CheckpointError, match="notes.bin"):
        load_stylegan2(path)


# -- tables: every key mapped, or the file refused naming it --------------------------------------

def save_rosinality(path, g_ema, **extra):
    torch.save({"g_ema": g_ema, **extra}, path)
    return path


def test_rosinality_with_an_extra_key_is_refused_naming_it(tmp_path):
    sd = rosinality_state(tiny_net())
    sd["convs.0.conv.scale_boost"] = torch.ones(1)
    path = save_rosinality(tmp_path / "extra.pt", sd)
    with pytest.raises(CheckpointError, match=r"extra\.pt: unmapped key\(s\) in this rosinality generator: convs\.0\.conv\.scale_boost"):
        load_stylegan2(path)


def test_rosinality_missing_a_key_is_refused_naming_it(tmp_path):
    sd = rosinality_state(tiny_net())
    del sd["convs.1.noise.weight"]
    path = save_rosinality(tmp_path / "short.pt", sd)
    with pytest.raises(CheckpointError, match=r"short\.pt: weights do not match the model: missing synthesis\.blocks\.1\.conv\.noise_strength"):
        load_stylegan2(path)


def swagan_state(net: StyleGAN2) -> dict[str, torch.Tensor]:
    """``net``'s shapes in the layout of rosinality's swagan.py Generator: 12-channel wavelet toRGBs, Haar buffers."""
    sd = rosinality_state(net)
    haar = {"ll": torch.full((2, 2), 0.5), "lh": torch.tensor([[-0.5, -0.5], [0.5, 0.5]]),
            "hl": torch.tensor([[-0.5, 0.5], [-0.5, 0.5]]), "hh": torch.tensor([[0.5, -0.5], [-0.5, 0.5]])}
    out = {}
    for key, value in sd.items():
        if key.startswith("to_rgb") and key.endswith(".conv.weight"):
            value = value.repeat(1, 4, 1, 1, 1)  # 3 × 4 wavelet sub-bands
        elif key.startswith("to_rgb") and key.endswith(".bias"):
            value = value.repeat(1, 4, 1, 1)
        out[key] = value
        m = key.startswith("to_rgbs.") and key.endswith(".upsample.kernel")
        if m:
            j = key.split(".")[1]
            for band, t in haar.items():
                out[f"to_rgbs.{j}.iwt.{band}"] = t
                out[f"to_rgbs.{j}.dwt.{band}"] = t
    for band, t in haar.items():
        out[f"iwt.{band}"] = t
    return out


def test_a_swagan_checkpoint_is_refused_not_loaded_as_stylegan2(tmp_path):
    path = save_rosinality(tmp_path / "swagan-550000.pt", swagan_state(tiny_net()),
                           args=argparse.Namespace(arch="swagan", size=32))
    with pytest.raises(CheckpointError, match=r"swagan-550000\.pt: args\.arch is 'swagan'"):
        load_stylegan2(path)
    # without the training arguments the Haar buffers give it away
    bare = save_rosinality(tmp_path / "swagan-g.pt", swagan_state(tiny_net()))
    with pytest.raises(CheckpointError, match=r"swagan-g\.pt: to_rgbs\.0\.iwt\.ll: this is a SWAGAN \(wavelet\) generator"):
        load_stylegan2(bare)


def _kernel(taps):
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[None, :] * k[:, None]
    return k / k.sum()


def test_a_non_default_blur_kernel_is_refused(tmp_path):
    sd = rosinality_state(tiny_net())
    for key in sd:
        if key.endswith("blur.kernel") or key.endswith("upsample.kernel"):
            sd[key] = _kernel([1, 2, 1]) * 4  # rosinality stores kernel × factor²
    path = save_rosinality(tmp_path / "blur121.pt", sd)
    with pytest.raises(CheckpointError) as err:
        load_stylegan2(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and "kernel" in msg.split(":")[1]
    assert "a 3x3 blur kernel (blur_kernel [1.0, 2.0, 1.0]), not the default [1, 3, 3, 1]" in msg
    # the default kernel, present in every real file, is checked and accepted
    ok = save_rosinality(tmp_path / "default.pt", rosinality_state(tiny_net()))
    assert load_stylegan2(ok)[1]["format"] == "rosinality"


def test_format_comes_from_content_not_suffix(tmp_path, nvidia_modules):
    net = tiny_net()
    sd = rosinality_state(net)
    legacy = tmp_path / "generator.pkl"  # a pre-1.6 torch.save stream with a pickle's suffix
    torch.save({"g_ema": sd, "latent_avg": net.mapping.w_avg.clone()}, legacy, _use_new_zipfile_serialization=False)
    assert detect_format(legacy) == "rosinality"
    z = torch.randn(2, 12)
    assert torch.allclose(images(net, z), images(load_stylegan2(legacy)[0], z), atol=1e-5)
    disguised = tmp_path / "network.pt"  # an NVIDIA pickle named like a torch checkpoint
    disguised.write_bytes(pickle.dumps(nvidia_pickle(net, nvidia_modules, "pass")))
    assert detect_format(disguised) == "nvidia"
    assert load_stylegan2(disguised)[1]["format"] == "nvidia"
    zipped = tmp_path / "weights.safetensors"  # a torch.save zip named like safetensors
    torch.save({"g_ema": sd, "latent_avg": net.mapping.w_avg.clone()}, zipped)
    assert detect_format(zipped) == "rosinality"
    assert torch.allclose(images(net, z), images(load_stylegan2(zipped)[0], z), atol=1e-5)


def _child(record, *names):
    for name in names:
        record = record.meta["state"]["_modules"][name]
    return record


def test_nvidia_pickle_with_an_unknown_tensor_is_refused_naming_it(tmp_path, nvidia_modules):
    data = nvidia_pickle(tiny_net(), nvidia_modules, "pass")
    _child(data["G_ema"], "synthesis", "b8", "conv0").meta["state"]["_buffers"]["magnitude_ema"] = torch.ones(())
    path = tmp_path / "extra.pkl"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(CheckpointError, match=r"extra\.pkl: unmapped key\(s\) in this NVIDIA generator: synthesis\.b8\.conv0\.magnitude_ema"):
        load_stylegan2(path)


def test_nvidia_pickle_with_another_resample_filter_is_refused(tmp_path, nvidia_modules):
    data = nvidia_pickle(tiny_net(), nvidia_modules, "pass")
    _child(data["G_ema"], "synthesis", "b16", "conv0").meta["state"]["_buffers"]["resample_filter"] = _kernel([1, 2, 2, 1])
    path = tmp_path / "filter.pkl"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(CheckpointError, match=r"filter\.pkl: synthesis\.b16\.conv0\.resample_filter: a 4x4 resampling filter that is not the standard"):
        load_stylegan2(path)


@pytest.mark.parametrize("where, key, value, match", [
    ("synthesis_kwargs", "architecture", "resnet", r"synthesis argument architecture='resnet': only 'skip' is supported"),
    ("synthesis_kwargs", "activation", "relu", r"synthesis argument activation='relu': only 'lrelu' is supported"),
    ("synthesis_kwargs", "magic", 3, r"unknown synthesis argument magic=3"),
    ("mapping_kwargs", "activation", "linear", r"mapping argument activation='linear'"),
    (None, "img_aspect", 2.0, r"unknown generator argument img_aspect=2\.0"),
])
def test_nvidia_constructor_arguments_are_a_table_too(tmp_path, nvidia_modules, where, key, value, match):
    data = nvidia_pickle(tiny_net(), nvidia_modules, "pass")
    kwargs = data["G_ema"].meta["state"]["_init_kwargs"]
    (kwargs[where] if where else kwargs)[key] = value
    path = tmp_path / "kwargs.pkl"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(CheckpointError, match=r"kwargs\.pkl: " + match):
        load_stylegan2(path)


@pytest.mark.parametrize("parent, child, cls, param, match", [
    (("synthesis",), "input", "SynthesisInput", ("affine.weight", torch.zeros(4, 16)),
     r"sg\.pkl: synthesis\.input\.affine\.weight: this is a StyleGAN3"),
    (("synthesis", "b8"), "skip", "Conv2dLayer", ("weight", torch.zeros(32, 32, 1, 1)),
     r"sg\.pkl: synthesis\.b8\.skip\.weight: a 'resnet' generator block"),
])
def test_nvidia_stylegan3_and_resnet_records_are_refused(tmp_path, nvidia_modules, parent, child, cls, param, match):
    data = nvidia_pickle(tiny_net(), nvidia_modules, "pass")
    _child(data["G_ema"], *parent).meta["state"]["_modules"][child] = Record(nvidia_modules, cls, "pass", params=[param])
    path = tmp_path / "sg.pkl"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(CheckpointError, match=match):
        load_stylegan2(path)


def test_nvidia_record_with_a_plain_object_child_is_refused(tmp_path, nvidia_modules):
    data = nvidia_pickle(tiny_net(), nvidia_modules, "pass")
    _child(data["G_ema"], "synthesis").meta["state"]["_modules"]["extra"] = collections.OrderedDict(w=torch.ones(2))
    path = tmp_path / "opaque.pkl"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(CheckpointError, match=r"opaque\.pkl: synthesis\.extra is a OrderedDict, not a network record"):
        load_stylegan2(path)
