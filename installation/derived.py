"""Values derived from a module's parameters, kept until a parameter changes.

Inference paths precompute things from weights (scaled affine maps, channels-last copies,
demodulation sums, interpolation matrices): rebuilding them every call costs more than the
small ops they feed.  The key is each source tensor's storage and in-place version counter, so
loading new weights or an optimiser step rebuilds the value and nothing stale is ever used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def cached(module: nn.Module, name: str, sources: tuple[torch.Tensor, ...], extra: Any, build: Callable[[], Any]):
    """``build()`` once per (sources' storage and version, ``extra``); kept on ``module``."""
    key = (tuple((t.data_ptr(), t._version, t.device) for t in sources), extra)
    store = module.__dict__.setdefault("_derived_cache", {})
    hit = store.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = build()
    store[name] = (key, value)
    return value
