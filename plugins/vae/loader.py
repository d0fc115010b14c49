"""Reading and writing the VAE and deblur weights (safetensors + JSON, never pickle).

Weights are exported as float16 (half the size of the shipped files; the networks are cast
back to float32 on load, so nothing downstream sees half precision on the CPU).  The JSON
metadata (:class:`installation.api.WeightsMeta`) names the model kind, so a deblur file given to
the VAE is refused with a clear error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from installation.api import CheckpointError, WeightsMeta, load_into, load_weights, save_weights

from .deblur import DeblurAE, DeblurConfig
from .model import ConvVAE, VAEConfig

WEIGHTS_DIR = Path(__file__).parent / "weights"
SHIPPED_VAE = WEIGHTS_DIR / "vae-watches.safetensors"
SHIPPED_DEBLUR = WEIGHTS_DIR / "deblur-watches.safetensors"


def _half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}


def _float(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}


def export_vae(model: ConvVAE, path: Path | str, extra: dict[str, Any] | None = None) -> Path:
    meta = WeightsMeta(model="vae", config=model.cfg.to_dict(), provenance=dict(extra or {}))
    return save_weights(path, _half(model.state_dict()), meta)


def export_deblur(model: DeblurAE, path: Path | str, extra: dict[str, Any] | None = None) -> Path:
    meta = WeightsMeta(model="deblur", config=model.cfg.to_dict(), provenance=dict(extra or {}))
    return save_weights(path, _half(model.state_dict()), meta)


def load_vae(path: Path | str | None = None, device: torch.device | str = "cpu") -> ConvVAE:
    """The VAE in ``path`` (default: the shipped watch model), in eval mode on ``device``."""
    path = Path(path) if path else SHIPPED_VAE
    state, meta = load_weights(path, model="vae")
    config = meta.config
    try:
        cfg = VAEConfig(
            resolution=config["resolution"],
            latent_dim=config["latent_dim"],
            channels=config["channels"],
            base=config.get("base", 4),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(path.with_suffix(".json"), f"bad VAE config ({exc})") from exc
    model = ConvVAE(cfg)
    state = _float(state)
    for key in ("prior_mean", "prior_chol"):  # weights exported before the fitted prior: N(0, I)
        state.setdefault(key, getattr(model, key).clone())
    load_into(model, state, path)
    return model.to(device).eval()


def load_deblur(path: Path | str | None = None, device: torch.device | str = "cpu") -> DeblurAE:
    """The deblur AE in ``path`` (default: the shipped one), in eval mode on ``device``."""
    path = Path(path) if path else SHIPPED_DEBLUR
    state, meta = load_weights(path, model="deblur")
    try:
        cfg = DeblurConfig(width=meta.config.get("width", 16))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path.with_suffix(".json"), f"bad deblur config ({exc})") from exc
    model = DeblurAE(cfg)
    load_into(model, _float(state), path)
    return model.to(device).eval()
