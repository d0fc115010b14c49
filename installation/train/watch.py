"""Warn when a run is going wrong: samples collapsing onto one picture, or losses diverging.

A GAN that collapses keeps training without an error: its losses look busy while every sample
turns into the same noisy shape.  Two figures catch it early enough to act:

* **spread** — the per-pixel standard deviation across the fixed-seed sample grid, averaged
  over pixels, against the same figure of the real images.  Under ``floor`` × the data's
  spread for ``patience`` sample grids in a row means the samples no longer differ.  A fresh
  generator's samples are alike too, so the check starts once the samples have once been
  varied, or after ``warmup`` steps, whichever comes first.
* **divergence** — a loss that is not finite, or whose magnitude over the last ``window``
  steps grew to ``factor`` × the smallest it had over any earlier window (and above 1).

Each warning is given once until the figure recovers, with the cure that worked before on the
bike data: a faster generator learning rate and more critic steps, resumed from the checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

ADVICE = (
    "resume from the checkpoint with a faster generator learning rate or more critic/discriminator "
    "steps per generator step (wgan: -O lr_g=4e-4 -O n_critic=5; stylegan2: -O lr=0.002), "
    "or fewer steps of a smaller model; optimiser options may change on resume"
)


def spread(images: torch.Tensor) -> float:
    """Mean over pixels of the standard deviation across images ``[N, C, H, W]``."""
    if images.shape[0] < 2:
        return float("nan")
    return float(images.float().std(0).mean())


@dataclass
class RunWatch:
    data_spread: float
    floor: float = 0.25
    patience: int = 3
    window: int = 50
    factor: float = 10.0
    warmup: int = 500
    warnings: list[str] = field(default_factory=list)
    _low: int = 0
    _armed: bool = False
    _collapsed: bool = False
    _diverged: set = field(default_factory=set)
    _sums: dict = field(default_factory=dict)
    _best: dict = field(default_factory=dict)

    def _warn(self, text: str) -> str:
        self.warnings.append(text)
        return text

    def samples(self, step: int, images: torch.Tensor) -> str | None:
        """Check a sample grid; a warning to print, or ``None``."""
        s = spread(images)
        if math.isnan(s) or self.data_spread <= 0:
            return None
        low = s < self.floor * self.data_spread
        if not low:
            self._armed = True
        if not (self._armed or step >= self.warmup):
            return None
        if low:
            self._low += 1
            if self._low >= self.patience and not self._collapsed:
                self._collapsed = True
                return self._warn(
                    f"warning: step {step}: the samples are collapsing (spread {s:.4f}, the data's "
                    f"{self.data_spread:.4f}, under {self.floor:g}x for {self._low} sample grids): {ADVICE}"
                )
        else:
            self._low, self._collapsed = 0, False
        return None

    def losses(self, step: int, losses: dict[str, float]) -> str | None:
        """Check one step's losses; a warning to print, or ``None``."""
        for key, value in losses.items():
            if not math.isfinite(value):
                if key not in self._diverged:
                    self._diverged.add(key)
                    return self._warn(f"warning: step {step}: {key} is {value}: the run has diverged: {ADVICE}")
                continue
            total, n = self._sums.get(key, (0.0, 0))
            total, n = total + abs(value), n + 1
            if n < self.window:
                self._sums[key] = (total, n)
                continue
            self._sums[key] = (0.0, 0)
            mean = total / n
            best = self._best.get(key)
            if best is not None and mean > max(1.0, self.factor * best):
                if key not in self._diverged:
                    self._diverged.add(key)
                    return self._warn(
                        f"warning: step {step}: |{key}| averaged {mean:.3g} over the last "
                        f"{n} steps, {mean / max(best, 1e-12):.0f}x its lowest ({best:.3g}): "
                        f"the losses are diverging: {ADVICE}"
                    )
            else:
                self._diverged.discard(key)
            self._best[key] = mean if best is None else min(best, mean)
        return None
