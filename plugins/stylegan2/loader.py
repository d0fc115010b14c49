"""One entry point for every StyleGAN2 file a user brings: :func:`load_stylegan2`.

Formats, detected from the file's content, never its suffix:

* **native** — ``NAME.safetensors`` + ``NAME.json`` (weights metadata with ``"model":
  "stylegan2"`` and the network's ``config``), what ``installation train stylegan2`` exports and
  what ships in ``weights/``.  A ``.json`` path or a folder holding one ``.safetensors`` works too.
* **NVIDIA** — stylegan2-ada-pytorch / stylegan3 ``.pkl`` network pickles, read by the restricted
  unpickler in :mod:`.nvidia` (the embedded source code is never executed).
* **rosinality** — stylegan2-pytorch ``.pt`` checkpoints (``{'g_ema': state_dict, ...}``), read
  with ``torch.load(weights_only=True)``; size, channels and mapping depth come from the weights.

NVIDIA and rosinality files are converted by tables (:data:`ROSINALITY_RULES`,
:data:`.nvidia.NVIDIA_RULES`): every key is mapped to ours, checked and dropped (resampling
filters, which must be the standard [1,3,3,1]), or the file is refused naming the key; a SWAGAN
or another blur kernel is refused rather than loaded as the wrong network.

Every failure raises :class:`installation.weights.CheckpointError` naming the file.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import torch

from installation.api import CheckpointError, load_into, load_weights, read_torch_checkpoint
from installation.api import detect_format as detect_content

from .network import G2Config, StyleGAN2
from .nvidia import load_nvidia_pickle
from .ops import make_filter
from .table import Rule, convert
from .train import MODEL

WEIGHTS_DIR = Path(__file__).parent / "weights"
SHIPPED = WEIGHTS_DIR / "waves64.safetensors"


def detect_format(path: Path) -> str:
    """``native`` | ``nvidia`` | ``rosinality`` from the file's content.

    (safetensors/JSON, a pickle, a torch checkpoint): never from the suffix."""
    kind = detect_content(path)
    if kind in ("safetensors", "json"):
        return "native"
    if kind == "pickle":
        return "nvidia"
    if kind in ("torch-zip", "torch-legacy"):
        return "rosinality"
    raise CheckpointError(path, "unrecognised file: not safetensors, a torch checkpoint or a network pickle")


def _native(path: Path) -> tuple[G2Config, dict[str, torch.Tensor], dict[str, Any]]:
    if detect_content(path) == "json":
        path = path.with_suffix(".safetensors")
    state, meta = load_weights(path, model=MODEL)
    try:
        cfg = G2Config.from_dict(dict(meta.config))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path.with_suffix(".json"), f"bad StyleGAN2 config: {exc}") from exc
    return cfg, state, dict(meta.provenance)


def _upsampling_filter(key: str, t: torch.Tensor) -> str | None:
    """rosinality stores its blur kernel pre-scaled by the up-sampling factor squared (×4)."""
    if tuple(t.shape) == (4, 4) and torch.allclose(t.float() / 4, make_filter(), atol=1e-6):
        return None
    taps = ""
    if t.dim() == 2 and t.shape[0] == t.shape[1] and float(t.sum(1).min()) > 0:
        row = t.float().sum(1)
        taps = f" (blur_kernel {[round(float(x), 3) for x in row / row.min()]})"
    return (
        f"a {'x'.join(map(str, t.shape))} blur kernel{taps}, not the default [1, 3, 3, 1]; "
        "a generator trained with another kernel would render differently here, so the file is refused"
    )


def _conv(m: re.Match[str], leaf: str) -> str:
    """rosinality's ``convs.{2j}`` is our block j+1's up-sampling conv, ``convs.{2j+1}`` its second conv."""
    i = int(m["i"])
    return f"synthesis.blocks.{i // 2 + 1}.{'conv' if i % 2 else 'conv_up'}.{leaf.format(**m.groupdict())}"


def _noise(m: re.Match[str]) -> str:
    """``noises.noise_0`` is the 4×4 conv's; then two per block, up-sampling conv first."""
    n = int(m["n"])
    return (
        "synthesis.blocks.0.conv.noise_const"
        if n == 0
        else f"synthesis.blocks.{(n + 1) // 2}.{'conv_up' if n % 2 else 'conv'}.noise_const"
    )


def _rgb(m: re.Match[str], leaf: str) -> str:
    return f"synthesis.blocks.{int(m['j']) + 1}.to_rgb.{leaf.format(**m.groupdict())}"


def _first(t: torch.Tensor, _m) -> torch.Tensor:  # [1, out, in, k, k] → [out, in, k, k]; [1, C, 4, 4] → [C, 4, 4]
    return t[0] if t.dim() >= 1 and t.shape[0] == 1 else t


def _scalar(t: torch.Tensor, _m) -> torch.Tensor:
    return t.reshape(()) if t.numel() == 1 else t


def _flat(t: torch.Tensor, _m) -> torch.Tensor:
    return t.reshape(-1)


def _plane(t: torch.Tensor, _m) -> torch.Tensor:  # [1, 1, H, W] → [H, W]
    return t.reshape(t.shape[-2:]) if t.dim() >= 2 and t.numel() == t.shape[-2] * t.shape[-1] else t


_MOD = r"(?P<leaf>weight|bias)"

#: every key of a rosinality stylegan2-pytorch ``g_ema`` state dict: where it goes, or why the file is refused
ROSINALITY_RULES = (
    Rule(
        r"(.+\.)?(iwt|dwt)\.(ll|lh|hl|hh)",
        refuse="this is a SWAGAN (wavelet) generator (rosinality's swagan.py); only StyleGAN2 generators are supported",
    ),
    Rule(r"input\.input", "synthesis.const", _first),
    Rule(r"conv1\.conv\.weight", "synthesis.blocks.0.conv.weight", _first),
    Rule(r"conv1\.conv\.modulation\." + _MOD, "synthesis.blocks.0.conv.affine.{leaf}"),
    Rule(r"conv1\.noise\.weight", "synthesis.blocks.0.conv.noise_strength", _scalar),
    Rule(r"conv1\.activate\.bias", "synthesis.blocks.0.conv.bias"),
    Rule(r"to_rgb1\.conv\.weight", "synthesis.blocks.0.to_rgb.weight", _first),
    Rule(r"to_rgb1\.conv\.modulation\." + _MOD, "synthesis.blocks.0.to_rgb.affine.{leaf}"),
    Rule(r"to_rgb1\.bias", "synthesis.blocks.0.to_rgb.bias", _flat),
    Rule(r"convs\.(?P<i>\d+)\.conv\.weight", lambda m: _conv(m, "weight"), _first),
    Rule(r"convs\.(?P<i>\d+)\.conv\.modulation\." + _MOD, lambda m: _conv(m, "affine.{leaf}")),
    Rule(r"convs\.(?P<i>\d+)\.noise\.weight", lambda m: _conv(m, "noise_strength"), _scalar),
    Rule(r"convs\.(?P<i>\d+)\.activate\.bias", lambda m: _conv(m, "bias")),
    Rule(r"convs\.(?P<i>\d+)\.conv\.blur\.kernel", check=_upsampling_filter),
    Rule(r"to_rgbs\.(?P<j>\d+)\.conv\.weight", lambda m: _rgb(m, "weight"), _first),
    Rule(r"to_rgbs\.(?P<j>\d+)\.conv\.modulation\." + _MOD, lambda m: _rgb(m, "affine.{leaf}")),
    Rule(r"to_rgbs\.(?P<j>\d+)\.bias", lambda m: _rgb(m, "bias"), _flat),
    Rule(r"to_rgbs\.(?P<j>\d+)\.upsample\.kernel", check=_upsampling_filter),
    Rule(r"noises\.noise_(?P<n>\d+)", _noise, _plane),
    Rule(r"style\.(?P<i>[1-9]\d*)\." + _MOD, lambda m: f"mapping.net.{int(m['i']) - 1}.{m['leaf']}"),
)


def rosinality_to_native(
    sd: dict[str, torch.Tensor], path: Path, mapping_lr: float = 0.01
) -> tuple[G2Config, dict[str, torch.Tensor]]:
    """Map a rosinality ``g_ema`` state dict to ours through :data:`ROSINALITY_RULES`.

    Size and channels are inferred from the tensors' shapes."""
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(path, "'g_ema' is not a state dict of tensors")
    if "input.input" not in sd or "to_rgb1.bias" not in sd:
        raise CheckpointError(path, "not a rosinality StyleGAN2 generator (input.input / to_rgb1 missing)")
    out = convert(sd, ROSINALITY_RULES, path, "rosinality generator")
    n_blocks = 1 + sum(
        1
        for k in out
        if re.fullmatch(r"synthesis\.blocks\.\d+\.to_rgb\.bias", k) and k != "synthesis.blocks.0.to_rgb.bias"
    )
    resolution = 2 ** (n_blocks + 1)
    channels = {4: int(out["synthesis.const"].shape[0])}
    for j in range(1, n_blocks):
        key = f"synthesis.blocks.{j}.conv.weight"
        if key not in out:
            raise CheckpointError(path, f"rosinality checkpoint is missing convs.{2 * j - 1}.conv.weight")
        channels[2 ** (j + 2)] = int(out[key].shape[0])
    n_mlp = sum(1 for k in out if re.fullmatch(r"mapping\.net\.\d+\.weight", k))
    if n_mlp == 0 or f"mapping.net.{n_mlp - 1}.weight" not in out:
        raise CheckpointError(
            path, f"rosinality checkpoint has no style.1 .. style.{max(n_mlp, 1)} mapping layers in order"
        )
    w_dim = int(out["mapping.net.0.weight"].shape[0])
    out["mapping.w_avg"] = torch.zeros(w_dim)
    rgb = out.get("synthesis.blocks.0.to_rgb.weight")
    if rgb is None:
        raise CheckpointError(path, "rosinality checkpoint is missing to_rgb1.conv.weight")
    try:
        cfg = G2Config(
            resolution=resolution,
            z_dim=int(out["mapping.net.0.weight"].shape[1]),
            w_dim=w_dim,
            mapping_layers=n_mlp,
            mapping_lr=mapping_lr,
            channels=channels,
            img_channels=int(rgb.shape[0]),
        )
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path, f"not a StyleGAN2 generator this loader builds ({exc})") from exc
    return cfg, {k: v.float() for k, v in out.items()}


def _rosinality(path: Path, mapping_lr: float) -> tuple[G2Config, dict[str, torch.Tensor], dict[str, Any]]:
    # rosinality's train.py stores its argparse.Namespace beside the weights: a plain attribute bag
    data = read_torch_checkpoint(path, safe_globals=[argparse.Namespace])
    if not isinstance(data, dict) or "g_ema" not in data:
        have = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(path, f"no 'g_ema' generator in this checkpoint (found: {have})")
    args = data.get("args")
    arch = getattr(args, "arch", None) if args is not None else None
    if arch not in (None, "stylegan2"):
        raise CheckpointError(path, f"args.arch is {arch!r}: only StyleGAN2 generators are supported (not SWAGAN)")
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
