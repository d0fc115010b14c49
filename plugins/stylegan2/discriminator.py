"""The StyleGAN2 discriminator (residual architecture, used only for training here).

fromRGB at full resolution, then one residual block per resolution down to 4×4 (two 3×3 convs,
the second down-sampling through the FIR filter, plus a 1×1 down-sampled skip scaled by √½),
then the epilogue: minibatch standard deviation (lets D see a lack of variety, the classic
mode-collapse signal), a 3×3 conv, a fully connected layer and the score.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from .ops import EqualConv2d, EqualLinear


class DBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, clamp: float | None = None):
        super().__init__()
        self.conv0 = EqualConv2d(in_ch, in_ch, 3, clamp=clamp)
        self.conv1 = EqualConv2d(in_ch, out_ch, 3, down=True, clamp=clamp)
        self.skip = EqualConv2d(in_ch, out_ch, 1, bias=False, activate=False, down=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.skip(x, gain=math.sqrt(0.5))
        x = self.conv1(self.conv0(x), gain=math.sqrt(0.5))
        return x + y


def minibatch_std(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    n, c, h, w = x.shape
    g = min(group, n)
    if n % g:
        g = 1
    y = x.float().reshape(g, -1, c, h, w)
    y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean(dim=[1, 2, 3])  # [n/g]
    y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w).to(x.dtype)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """image ``[N, 3, res, res]`` in [-1, 1] → realness score ``[N, 1]``."""

    def __init__(
        self,
        resolution: int,
        channel_base: int = 32768,
        channel_max: int = 512,
        channels: dict[int, int] | None = None,
        img_channels: int = 3,
        clamp: float | None = None,
    ):
        super().__init__()
        channels = {int(k): int(v) for k, v in (channels or {}).items()}

        def ch(res: int) -> int:
            return channels.get(res, min(channel_base // res, channel_max))

        log2 = int(math.log2(resolution))
        self.from_rgb = EqualConv2d(img_channels, ch(resolution), 1, clamp=clamp)
        self.blocks = nn.ModuleList(DBlock(ch(2**i), ch(2 ** (i - 1)), clamp) for i in range(log2, 2, -1))
        self.conv = EqualConv2d(ch(4) + 1, ch(4), 3, clamp=clamp)
        self.fc = EqualLinear(ch(4) * 16, ch(4), activate=True)
        self.out = EqualLinear(ch(4), 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = self.from_rgb(img)
        for block in self.blocks:
            x = block(x)
        x = self.conv(minibatch_std(x))
        return self.out(self.fc(x.flatten(1).float()))
