"""What ``view`` reads: one frame as update planned it.

Update fills a :class:`FrameSnapshot` (the layers with the mixer each shows, their local times
and opacities, the output gain); view turns it into compositor draws through the mixers' pure
:meth:`~installation.engine.mixer.KeyframeMixer.blend` reads, so drawing never asks for work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.mixer import KeyframeMixer
from ..render.compositor import LayerDraw
from ..render.fit import Fit


@dataclass(frozen=True)
class LayerPlan:
    mixer: KeyframeMixer
    local_t: float
    opacity: float
    fit: Fit | None = None  # the scene's fit on the output (None: the compositor's)


@dataclass(frozen=True)
class FrameSnapshot:
    t: float = 0.0
    wall: float = 0.0
    brightness: float = 1.0
    layers: tuple[LayerPlan, ...] = field(default_factory=tuple)

    def draws(self) -> list[LayerDraw]:
        out = []
        for plan in self.layers:
            blend = plan.mixer.blend(plan.local_t, self.wall)
            out.append(LayerDraw(blend.a, blend.b, blend.mix, plan.opacity, plan.fit))
        return out
