"""ESPCN inference for the post stage: the network's ``forward`` with fewer passes over memory.

``ESPCN.forward`` stays the training formulation; this computes the same image (within float
rounding) for playback, where one keyframe at a time passes through on a CPU core:

* the **bicubic base** is two small matrix products (``Mh · x · Mwᵀ``, the matrices built once per
  input size from ``F.interpolate`` itself, so borders and taps are exactly PyTorch's): at 64² → 256²
  that is ~10× cheaper than the interpolation kernel, which evaluates cubic weights per pixel;
* the input's ``x·2 − 1`` is folded into the first convolution's weights and bias;
* the residual add and the clamp to [0, 1] run in place, under ``inference_mode``.

A cached tensor is keyed on its source's storage and version, so loading or training the
weights rebuilds it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from installation.api import cached

from .model import ESPCN


def bicubic_matrix(n: int, scale: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``[scale·n, n]``: row i holds the taps ``F.interpolate(bicubic, align_corners=False)`` uses
    for output row i (clamped borders included), read off by interpolating unit vectors."""
    eye = torch.eye(n, dtype=torch.float64).view(n, 1, n, 1)
    cols = F.interpolate(eye, size=(n * scale, 1), mode="bicubic", align_corners=False)
    return cols.view(n, n * scale).t().to(device=device, dtype=dtype).contiguous()


def _first_conv(net: ESPCN) -> tuple[torch.Tensor, torch.Tensor]:
    conv = net.body[0]
    assert isinstance(conv, nn.Conv2d) and conv.bias is not None

    def build():
        # conv(2x − 1) = conv_{2w}(x) + (b − Σw), with the border padded by ½ (see espcn_upscale)
        w = conv.weight.detach()
        return (w * 2).contiguous(), conv.bias.detach() - w.sum(dim=(1, 2, 3))

    return cached(net, "first", (conv.weight, conv.bias), None, build)


@torch.inference_mode()
def espcn_upscale(net: ESPCN, x: torch.Tensor, clamp: bool = True) -> torch.Tensor:
    """``net(x)`` (optionally clamped to [0, 1]) for ``[N, 3, h, w]`` float32 in [0, 1]."""
    b, c, h, w = x.shape
    s = net.scale
    mh = cached(net, f"mh{h}", (), (h, s, x.device, x.dtype), lambda: bicubic_matrix(h, s, x.device, x.dtype))
    mw = cached(net, f"mw{w}", (), (w, s, x.device, x.dtype), lambda: bicubic_matrix(w, s, x.device, x.dtype))
    base = torch.matmul(torch.matmul(mh, x), mw.t())  # [b, c, s·h, s·w]
    layers = list(net.body)
    first = layers[0]
    assert isinstance(first, nn.Conv2d)
    # the zero padding of the training path pads (2x − 1), i.e. −1 outside the image: pad with ½
    # (maps to 0) and convolve unpadded with the folded weights
    pad = first.padding[0] if isinstance(first.padding, tuple) else int(first.padding)
    weight, bias = _first_conv(net)
    y = F.conv2d(F.pad(x, [pad] * 4, value=0.5), weight, bias)
    for layer in layers[1:]:
        y = layer(y)
    out = base.add_(F.pixel_shuffle(y, s))
    return out.clamp_(0.0, 1.0) if clamp else out
