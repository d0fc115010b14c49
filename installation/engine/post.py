"""The post chain: stages applied to generator output on its device, before upload."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

from ..protocols import PostProcessor


class PostChain:
    """Runs stages in order; an empty chain returns frames unchanged.

    Each stage has a mix (the show file's ``mix``, default 1) and ``control`` maps a stage name to
    ``(enabled, mix)`` (live ``/post/NAME/enabled`` and ``/post/NAME/mix``): a disabled stage is
    skipped, and the product of the two mixes, when below 1, blends the stage's output over its
    input when the stage keeps the frame size.  One mechanism serves every stage, so no stage
    needs a strength option of its own.  The app replaces ``control``, never mutates it, since the
    worker thread reads it.
    """

    def __init__(
        self,
        stages: Iterable[PostProcessor] = (),
        names: Iterable[str] | None = None,
        mixes: Iterable[float] | None = None,
    ):
        self.stages = list(stages)
        self.names = list(names) if names is not None else [type(s).__name__ for s in self.stages]
        self.mixes = [float(m) for m in mixes] if mixes is not None else [1.0] * len(self.stages)
        self.control: Mapping[str, tuple[bool, float]] = {}

    @classmethod
    def build(cls, specs: Iterable[Mapping[str, Any]], registry: Mapping[str, Any], device: torch.device) -> PostChain:
        """``specs`` like ``[{"stage": "deblur", "mix": 0.7}, {"stage": "superres", "scale": 2}]``."""
        stages, names, mixes = [], [], []
        for spec in specs:
            spec = dict(spec)
            name = spec.pop("stage")
            mixes.append(spec.pop("mix", 1.0))
            if name not in registry:
                raise KeyError(f"unknown post stage {name!r}; available: {', '.join(sorted(registry))}")
            stages.append(registry[name](device=device, **spec))
            names.append(name)
        return cls(stages, names, mixes)

    def drop_last(self) -> str | None:
        """Remove the last stage (the out-of-memory degrade step); its name, or ``None`` when empty."""
        if not self.stages:
            return None
        self.stages.pop()
        self.mixes = self.mixes[: len(self.stages)]
        return self.names.pop() if len(self.names) > len(self.stages) else "stage"

    @torch.no_grad()
    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        control = self.control
        for name, stage, own in zip(self.names, self.stages, self.mixes):
            enabled, live = control.get(name, (True, 1.0))
            mix = own * live
            if not enabled or mix <= 0.0:
                continue
            out = stage.process(frames)
            if mix < 1.0 and out.shape == frames.shape:
                out = frames + (out - frames) * mix
            frames = out
        return frames
