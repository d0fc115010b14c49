"""Which model a bank belongs to: a content hash of the generator's weights.

The hash covers the tensors of every ``torch.nn.Module`` the generator holds (names, dtypes,
shapes and values), not the file they came from: re-exporting the same weights, or converting
them to another format, keeps the hash; training them further changes it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch


def _modules(generator: Any) -> list[tuple[str, torch.nn.Module]]:
    if isinstance(generator, torch.nn.Module):
        return [("", generator)]
    found = [(k, v) for k, v in sorted(vars(generator).items()) if isinstance(v, torch.nn.Module)]
    return found


def model_hash(generator: Any) -> str:
    """``sha256:<hex>`` of the generator's weights; ``ValueError`` when it holds no torch module."""
    modules = _modules(generator)
    if not modules:
        raise ValueError(f"{type(generator).__name__} holds no torch module whose weights could identify it")
    h = hashlib.sha256()
    for prefix, module in modules:
        for key, tensor in sorted(module.state_dict().items()):
            t = tensor.detach().to("cpu").contiguous()
            h.update(f"{prefix}.{key}|{t.dtype}|{tuple(t.shape)}|".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return "sha256:" + h.hexdigest()
