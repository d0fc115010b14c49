"""Built-in post-processing stages.

``levels`` is the cheap colour stage every scene may want (brightness, contrast, saturation);
model-based stages (deblur, super-resolution) come from their plugins.
"""

from __future__ import annotations

import torch

from .. import hookimpl


class Levels:
    """Brightness (multiplier), contrast (around mid-grey) and saturation (around luma), on device."""

    def __init__(self, device=None, brightness: float = 1.0, contrast: float = 1.0, saturation: float = 1.0):
        self.brightness, self.contrast, self.saturation = float(brightness), float(contrast), float(saturation)

    def process(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames
        if self.saturation != 1.0:
            luma = (x[:, :3] * x.new_tensor([0.2126, 0.7152, 0.0722]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            x = luma + (x - luma) * self.saturation
        if self.contrast != 1.0:
            x = (x - 0.5) * self.contrast + 0.5
        if self.brightness != 1.0:
            x = x * self.brightness
        return x.clamp(0.0, 1.0)


@hookimpl
def register_post_processors():
    return {"levels": Levels}
