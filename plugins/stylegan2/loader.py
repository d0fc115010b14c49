"""One entry point for every StyleGAN2 file a user brings: :func:`load_stylegan2`.

Formats, detected from the file's content (the suffix only breaks ties):

* **native** — ``NAME.safetensors`` + ``NAME.json`` (``{"format": "installation-stylegan2",
  "config": {...}}``), what ``installation train stylegan2`` exports and what ships in
  ``weights/``.  A ``.json`` path or a folder holding one ``.safetensors`` works too.
* **NVIDIA** — stylegan2-ada-pytorch / stylegan3 ``.pkl`` network pickles, read by the restricted
  unpickler in :mod:`.nvidia` (the embedded source code is never executed).
* **rosinality** — stylegan2-pytorch ``.pt`` checkpoints (``{'g_ema': state_dict, ...}``), read
  with ``torch.load(weights_only=True)``; size, channels and mapping depth come from the weights.

Every failure raises :class:`installation.weights.CheckpointError` naming the file.
"""
from __future__ import annotations

import argparse
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from installation.api import CheckpointError, load_into, load_weights

from .network import G2Config, StyleGAN2
from .nvidia import load_nvidia_pickle
from .train import MODEL

WEIGHTS_DIR = Path(__file__).parent / "weights"
SHIPPED = WEIGHTS_DIR / "waves64.safetensors"


def detect_format(path: Path) -> str:
    """``native`` | ``nvidia`` | ``rosinality`` from the first bytes (zip = torch.save, 0x80 = pickle)."""
    if path.suffix in (".safetensors", ".json"):
        return "native"
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:2] == b"PK" or zipfile.is_zipfile(path):
        return "rosinality"  # torch.save's zip container
    if head[:1] == b"\x80":
        # a legacy (pre-1.6) torch.save file is also a pickle; its suffix tells them apart
        return "rosinality" if path.suffix in (".pt", ".pth", ".ckpt") else "nvidia"
    if len(head) >= 8 and int.from_bytes(head, "little") < 2 ** 40:  # safetensors header length
        return "native"
    raise CheckpointError(path, "unrecognised file: not safetensors, a torch checkpoint or a network pickle")


def _native(path: Path) -> tuple[G2Config, dict[str, torch.Tensor], dict[str, Any]]:
    if path.suffix == ".json":
        path = path.with_suffix(".safetensors")
    state, meta = load_weights(path, model=MODEL)
    try:
        cfg = G2Config.from_dict(dict(meta.config))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path.with_suffix(".json"), f"bad StyleGAN2 config: {exc}") from exc
    return cfg, state, dict(meta.provenance)


def _torch_load(path: Path) -> Any:
    # rosinality's train.py stores its argparse.Namespace beside the weights: a plain attribute bag
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(path, f"cannot read as a weights-only torch checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc


def rosinality_to_native(sd: dict[str, torch.Tensor], path: Path, mapping_lr: float = 0.01) -> tuple[G2Config, dict[str, torch.Tensor]]:
    """Rename a rosinality ``g_ema`` state dict to ours; infer size and channels from shapes."""
    out: dict[str, torch.Tensor] = {}
    n_rgbs = 1 + sum(1 for k in sd if re.match(r"^to_rgbs\.\d+\.bias$", k))
    if "input.input" not in sd or "to_rgb1.bias" not in sd:
        raise CheckpointError(path, "not a rosinality StyleGAN2 generator (input.input / to_rgb1 missing)")
    log2 = n_rgbs + 1
    resolution = 2 ** log2

    def styled(src: str, dst: str, noise_key: str) -> None:
        out[f"{dst}.weight"] = sd[f"{src}.conv.weight"][0]
        out[f"{dst}.affine.weight"] = sd[f"{src}.conv.modulation.weight"]
        out[f"{dst}.affine.bias"] = sd[f"{src}.conv.modulation.bias"]
        out[f"{dst}.noise_strength"] = sd[f"{src}.noise.weight"].reshape(())
        out[f"{dst}.bias"] = sd[f"{src}.activate.bias"]
        out[f"{dst}.noise_const"] = sd[noise_key].reshape(sd[noise_key].shape[-2:])

    def to_rgb(src: str, dst: str) -> None:
        out[f"{dst}.weight"] = sd[f"{src}.conv.weight"][0]
        out[f"{dst}.affine.weight"] = sd[f"{src}.conv.modulation.weight"]
        out[f"{dst}.affine.bias"] = sd[f"{src}.conv.modulation.bias"]
        out[f"{dst}.bias"] = sd[f"{src}.bias"].reshape(-1)

    try:
        out["synthesis.const"] = sd["input.input"][0]
        styled("conv1", "synthesis.blocks.0.conv", "noises.noise_0")
        to_rgb("to_rgb1", "synthesis.blocks.0.to_rgb")
        for j in range(n_rgbs - 1):
            styled(f"convs.{2 * j}", f"synthesis.blocks.{j + 1}.conv_up", f"noises.noise_{2 * j + 1}")
            styled(f"convs.{2 * j + 1}", f"synthesis.blocks.{j + 1}.conv", f"noises.noise_{2 * j + 2}")
            to_rgb(f"to_rgbs.{j}", f"synthesis.blocks.{j + 1}.to_rgb")
        n_mlp = sum(1 for k in sd if re.match(r"^style\.\d+\.weight$", k))
        for i in range(n_mlp):
            out[f"mapping.net.{i}.weight"] = sd[f"style.{i + 1}.weight"]
            out[f"mapping.net.{i}.bias"] = sd[f"style.{i + 1}.bias"]
    except KeyError as exc:
        raise CheckpointError(path, f"rosinality checkpoint is missing {exc.args[0]}") from exc
    channels = {4: out["synthesis.const"].shape[0]}
    for j in range(1, n_rgbs):
        channels[2 ** (j + 2)] = out[f"synthesis.blocks.{j}.conv.weight"].shape[0]
    w_dim = out["mapping.net.0.weight"].shape[0]
    out["mapping.w_avg"] = torch.zeros(w_dim)
    cfg = G2Config(resolution=resolution, z_dim=int(out["mapping.net.0.weight"].shape[1]), w_dim=int(w_dim),
                   mapping_layers=n_mlp, mapping_lr=mapping_lr, channels=channels,
                   img_channels=int(out["synthesis.blocks.0.to_rgb.weight"].shape[0]))
    return cfg, {k: v.float() for k, v in out.items()}


def _rosinality(path: Path, mapping_lr: float) -> tuple[G2Config, dict[str, torch.Tensor], dict[str, Any]]:
    data = _torch_load(path)
    if not isinstance(data, dict) or "g_ema" not in data:
        have = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(path, f"no 'g_ema' generator in this checkpoint (found: {have})")
    cfg, state = rosinality_to_native(data["g_ema"], path, mapping_lr)
    meta: dict[str, Any] = {"w_avg_known": False}
    if isinstance(data.get("latent_avg"), torch.Tensor):  # written by rosinality's weight converter
        state["mapping.w_avg"] = data["latent_avg"].reshape(-1).float()
        meta["w_avg_known"] = True
    return cfg, state, meta


@torch.no_grad()
def estimate_w_avg(net: StyleGAN2, samples: int = 4096, seed: int = 0) -> torch.Tensor:
    """Mean of mapped Gaussian z (rosinality files may not store the running mean)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, net.cfg.z_dim, generator=g)
    return net.mapping(z.to(net.mapping.w_avg.device))[:, 0].mean(0)


def load_stylegan2(path: Path | str | None = None, mapping_lr: float = 0.01) -> tuple[StyleGAN2, dict[str, Any]]:
    """Build our network from any supported file (``None`` → the shipped wave weights).

    Returns ``(network in eval mode on the CPU, info)`` with ``info["format"]`` and ``info["path"]``.
    """
    path = Path(path) if path is not None else SHIPPED
    if path.is_dir():
        found = sorted(path.glob("*.safetensors"))
        if len(found) != 1:
            raise CheckpointError(path, f"expected one .safetensors in the folder, found {len(found)}")
        path = found[0]
    if not path.exists() and not (path.suffix == ".json" and path.with_suffix(".safetensors").exists()):
        raise CheckpointError(path, "file not found")
    fmt = detect_format(path)
    meta: dict[str, Any] = {}
    if fmt == "native":
        cfg, state, meta = _native(path)
    elif fmt == "nvidia":
        cfg, state = load_nvidia_pickle(path)
    else:
        cfg, state, meta = _rosinality(path, mapping_lr)
    net = StyleGAN2(cfg)
    load_into(net, state, path)
    if fmt == "rosinality" and not meta.get("w_avg_known"):
        net.mapping.w_avg.copy_(estimate_w_avg(net))
    info = {"format": fmt, "path": str(path), "config": cfg.to_dict(), "images_seen": meta.get("images_seen")}
    return net.eval().requires_grad_(False), info
