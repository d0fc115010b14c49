"""Real-ESRGAN-family weights (``.pth`` / ``.safetensors``) through spandrel, the optional ``esrgan`` extra.

spandrel recognises the architecture (ESRGAN/RRDB, Real-ESRGAN compact, SwinIR, ...) from the
keys of a state dict.  The file itself is read *here*, never by pickle with code execution: its
content (not its suffix) decides, safetensors with safetensors, a torch checkpoint with
``torch.load(weights_only=True)``, which only rebuilds tensors and plain containers.  A file that
holds anything else is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from installation.api import CheckpointError, detect_format, read_torch_checkpoint

WRAPPER_KEYS = ("params_ema", "params", "state_dict", "model", "net_g")


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a weights file, unwrapped from the ``{"params_ema": ...}`` style of BasicSR."""
    fmt = detect_format(path)  # from the content: a .pth may well be a safetensors file, and back
    if fmt == "safetensors":
        try:
            from safetensors.torch import load_file

            state: Any = load_file(str(path))
        except Exception as exc:
            raise CheckpointError(path, f"not a readable safetensors file: {exc}") from exc
    elif fmt in ("torch-zip", "torch-legacy"):
        state = read_torch_checkpoint(path)
    else:
        raise CheckpointError(
            path, f"not a weights file (its content is {fmt}; expected safetensors or a torch checkpoint)"
        )
    for key in WRAPPER_KEYS:
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(path, "expected a state dict of tensors")
    return state


def load_esrgan(path: Path | str, device: torch.device):
    """Return ``(module, scale)`` for a super-resolution model file; clear errors for all failures."""
    path = Path(path)
    try:
        import spandrel
    except ImportError as exc:
        raise ImportError(
            f"loading {path} needs spandrel: install the optional extra with `pip install 'installation[esrgan]'`"
        ) from exc
    state = read_state_dict(path)
    try:
        desc = spandrel.ModelLoader(device=torch.device("cpu")).load_from_state_dict(state)
    except Exception as exc:
        raise CheckpointError(path, f"spandrel does not recognise this model ({exc})") from exc
    if not isinstance(desc, spandrel.ImageModelDescriptor):
        raise CheckpointError(path, f"not an image-to-image model ({type(desc).__name__})")
    desc.to(device).eval()
    return desc, int(desc.scale)
