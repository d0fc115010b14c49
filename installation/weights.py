"""Native weights format: ``NAME.safetensors`` plus ``NAME.json`` (the model's config).

safetensors holds only tensors and cannot execute code when read, which is why shipped and
exported weights use it.  Errors name the file, so a corrupt checkpoint is refused clearly.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file


class CheckpointError(ValueError):
    """A weights file that cannot be read or does not match the model; names the path."""

    def __init__(self, path: Path | str, reason: str):
        self.path = Path(path)
        super().__init__(f"{path}: {reason}")


def save_weights(path: Path | str, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Path:
    """Write ``path`` (.safetensors) and its sibling ``.json`` config; return the weights path."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(path))
    path.with_suffix(".json").write_text(json.dumps(config, indent=2, sort_keys=True))
    return path


def load_weights(path: Path | str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read weights and config; raise :class:`CheckpointError` naming the file on any problem."""
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    if not path.exists():
        raise CheckpointError(path, "file not found")
    try:
        state = load_file(str(path))
    except Exception as exc:
        raise CheckpointError(path, f"not a readable safetensors file ({exc})") from exc
    cfg_path = path.with_suffix(".json")
    config: dict[str, Any] = {}
    if cfg_path.exists():
        try:
            config = json.loads(cfg_path.read_text())
        except json.JSONDecodeError as exc:
            raise CheckpointError(cfg_path, f"invalid JSON config ({exc})") from exc
    return state, config


def load_into(module: torch.nn.Module, state: dict[str, torch.Tensor], path: Path | str) -> None:
    """``load_state_dict(strict=True)`` with an error that names the checkpoint path."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(path, f"weights do not match the model: {str(exc).splitlines()[0]}") from exc
