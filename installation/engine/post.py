"""The post chain: stages applied to generator output on its device, before upload."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import torch

from ..protocols import PostProcessor


class PostChain:
    """Runs stages in order; an empty chain returns frames unchanged."""

    def __init__(self, stages: Iterable[PostProcessor] = ()):
        self.stages = list(stages)

    @classmethod
    def build(cls, specs: Iterable[Mapping[str, Any]], registry: Mapping[str, Any], device: torch.device) -> "PostChain":
        """``specs`` like ``[{"stage": "deblur"}, {"stage": "superres", "scale": 2}]``."""
        stages = []
        for spec in specs:
            spec = dict(spec)
            name = spec.pop("stage")
            if name not in registry:
                raise KeyError(f"unknown post stage {name!r}; available: {', '.join(sorted(registry))}")
            stages.append(registry[name](device=device, **spec))
        return cls(stages)

    @torch.no_grad()
    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        for stage in self.stages:
            frames = stage.process(frames)
        return frames
