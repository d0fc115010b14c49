"""The post chain: stages applied to generator output on its device, before upload."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import torch

from ..protocols import PostProcessor


class PostChain:
    """Runs stages in order; an empty chain returns frames unchanged.

    ``control`` maps a stage name to ``(enabled, mix)`` (live ``/post/NAME/enabled`` and
    ``/post/NAME/mix``): a disabled stage is skipped, ``mix < 1`` blends its output over its input
    when the stage keeps the frame size.  The app replaces the dict, never mutates it, since the
    worker thread reads it.
    """

    def __init__(self, stages: Iterable[PostProcessor] = (), names: Iterable[str] | None = None):
        self.stages = list(stages)
        self.names = list(names) if names is not None else [type(s).__name__ for s in self.stages]
        self.control: Mapping[str, tuple[bool, float]] = {}

    @classmethod
    def build(cls, specs: Iterable[Mapping[str, Any]], registry: Mapping[str, Any], device: torch.device) -> "PostChain":
        """``specs`` like ``[{"stage": "deblur"}, {"stage": "superres", "scale": 2}]``."""
        stages, names = [], []
        for spec in specs:
            spec = dict(spec)
            name = spec.pop("stage")
            if name not in registry:
                raise KeyError(f"unknown post stage {name!r}; available: {', '.join(sorted(registry))}")
            stages.append(registry[name](device=device, **spec))
            names.append(name)
        return cls(stages, names)

    @torch.no_grad()
    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        control = self.control
        for name, stage in zip(self.names, self.stages):
            enabled, mix = control.get(name, (True, 1.0))
            if not enabled or mix <= 0.0:
                continue
            out = stage.process(frames)
            if mix < 1.0 and out.shape == frames.shape:
                out = frames + (out - frames) * mix
            frames = out
        return frames
