"""Low-level operations of StyleGAN2: FIR resampling, equalised-learning-rate layers, modulated conv.

Written from the StyleGAN2 paper (Karras et al. 2020, "Analyzing and Improving the Image Quality
of StyleGAN") and its appendix.  Two details matter for reproducing networks trained elsewhere:

* Weights are stored unscaled (``randn`` at init) and multiplied by ``1/sqrt(fan_in)`` (times the
  layer's learning-rate multiplier) at run time — the "equalised learning rate".  Trained files
  from NVIDIA's and rosinality's code store weights in this same convention, so loading them is a
  renaming, never a rescaling.
* Up-sampling is a stride-2 transposed convolution followed by a [1, 3, 3, 1] low-pass FIR filter
  (gain 4, padding 1), and the skip image is up-sampled by zero insertion and the same filter
  (padding 2/1).  Those paddings decide the exact pixel alignment of every layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def make_filter(taps: Sequence[float] = (1, 3, 3, 1)) -> torch.Tensor:
    """Separable 1-D taps → normalised 2-D FIR kernel (sums to 1)."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = f[:, None] * f[None, :]
    return f / f.sum()


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor,
    up: int = 1,
    down: int = 1,
    pad: tuple[int, int, int, int] = (0, 0, 0, 0),
    gain: float = 1.0,
) -> torch.Tensor:
    """Up-sample by zero insertion, pad (negative pads crop), FIR-filter, down-sample.

    ``pad`` is ``(x_before, x_after, y_before, y_after)``.  The filter is applied as a true
    convolution (flipped), one channel at a time.
    """
    b, c, h, w = x.shape
    if up > 1:
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(b, c, h * up, w * up)
    px0, px1, py0, py1 = pad
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0) : x.shape[2] - max(-py1, 0), max(-px0, 0) : x.shape[3] - max(-px1, 0)]
    k = (f * gain).flip([0, 1]).to(x.dtype)
    # the kernel is an outer product: two 1-D passes cost 2·k taps instead of k²
    col, row = k[:, :1] / k[0, 0].sqrt(), k[:1, :] / k[0, 0].sqrt()
    if torch.allclose(col * row, k, rtol=1e-5, atol=1e-7):
        x = F.conv2d(x, row[None, None].expand(c, 1, *row.shape), groups=c)
        x = F.conv2d(x, col[None, None].expand(c, 1, *col.shape), groups=c)
    else:
        x = F.conv2d(x, k[None, None].expand(c, 1, *k.shape), groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def upsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """×2 up-sampling with the FIR filter (used on the skip image)."""
    fw = f.shape[-1]
    p0, p1 = (fw + 1) // 2, (fw - 2) // 2
    return upfirdn2d(x, f, up=2, pad=(p0, p1, p0, p1), gain=4.0)


def downsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """÷2 down-sampling with the FIR filter (used by the discriminator's skip paths)."""
    fw = f.shape[-1]
    p0, p1 = (fw - 1) // 2, (fw - 2) // 2
    return upfirdn2d(x, f, down=2, pad=(p0, p1, p0, p1))


def lrelu_bias(
    x: torch.Tensor, bias: torch.Tensor | None, gain: float = SQRT2, clamp: float | None = None
) -> torch.Tensor:
    """``leaky_relu(x + b, 0.2) * gain``, clamped to ±clamp (keeps fp16 activations finite)."""
    if bias is not None:
        x = x + bias.to(x.dtype).reshape(1, -1, *([1] * (x.dim() - 2)))
    x = F.leaky_relu(x, 0.2) * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


class EqualLinear(nn.Module):
    """Fully connected layer with equalised learning rate and an optional lrelu.

    ``lr_mult`` (0.01 in the mapping network) slows the layer down: weights are stored divided
    by it and multiplied back at run time, so Adam's step is ``lr_mult`` times smaller.
    """

    def __init__(
        self, in_features: int, out_features: int, lr_mult: float = 1.0, bias_init: float = 0.0, activate: bool = False
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mult)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_mult / math.sqrt(in_features)
        self.bias_gain = lr_mult
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias.to(x.dtype) * self.bias_gain
        if self.activate:
            return lrelu_bias(x @ w.t(), b)
        return torch.addmm(b.unsqueeze(0), x, w.t())


class EqualConv2d(nn.Module):
    """Plain convolution with equalised learning rate, optional FIR down-sampling and lrelu
    (the discriminator's layer)."""

    fir: torch.Tensor  # buffers, typed for the checker

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        bias: bool = True,
        activate: bool = True,
        down: bool = False,
        clamp: float | None = None,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.activate, self.down, self.clamp = activate, down, clamp
        self.kernel = kernel
        self.register_buffer("fir", make_filter(), persistent=False)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = (self.weight * self.weight_gain).to(x.dtype)
        if self.down:
            # blur first, then a strided convolution: the paper's anti-aliased down-sampling
            p = (self.fir.shape[-1] - 2) + (self.kernel - 1)
            x = upfirdn2d(x, self.fir, pad=(p // 2 + p % 2, p // 2, p // 2 + p % 2, p // 2))
            x = F.conv2d(x, w, stride=2)
        else:
            x = F.conv2d(x, w, padding=self.kernel // 2)
        if self.activate:
            clamp = self.clamp * gain if self.clamp is not None else None
            return lrelu_bias(x, self.bias, SQRT2 * gain, clamp)
        if self.bias is not None:
            x = x + self.bias.to(x.dtype).view(1, -1, 1, 1)
        return x * gain


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    up: bool = False,
    fir: torch.Tensor | None = None,
    fused: bool | None = None,
) -> torch.Tensor:
    """Convolve ``x`` with ``weight`` scaled per sample and input channel by ``styles``.

    With ``demodulate`` each output channel's effective weights are rescaled to unit L2 norm
    (the paper's replacement for AdaIN, which removes the droplet artefacts).  ``fused`` runs one
    grouped convolution with per-sample weights (fastest at batch 1); otherwise activations are
    scaled before and after a shared convolution (faster for training batches).  Both are the
    same function.
    """
    b, in_ch, h, w_ = x.shape
    out_ch, _, kh, kw = weight.shape
    if fused is None:
        fused = b == 1
    dcoefs = None
    if demodulate:
        # always in float32, outside autocast: the sum of squares overflows half precision
        with torch.autocast(device_type=x.device.type, enabled=False):
            wsq = weight.float().square().sum(dim=[2, 3])  # [out, in]
            dcoefs = (styles.float().square() @ wsq.t() + 1e-8).rsqrt().to(x.dtype)  # [b, out]
    weight = weight.to(x.dtype)
    styles = styles.to(x.dtype)
    if not fused:
        x = x * styles.reshape(b, in_ch, 1, 1)
        if up:
            assert fir is not None, "up-sampling needs the FIR filter"
            x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
            x = upfirdn2d(x, fir, pad=(1, 1, 1, 1), gain=4.0)
        else:
            x = F.conv2d(x, weight, padding=kh // 2)
        if dcoefs is not None:
            x = x * dcoefs.reshape(b, out_ch, 1, 1)
        return x
    wb = weight.unsqueeze(0) * styles.reshape(b, 1, in_ch, 1, 1)
    if dcoefs is not None:
        wb = wb * dcoefs.reshape(b, out_ch, 1, 1, 1)
    x = x.reshape(1, b * in_ch, h, w_)
    if up:
        wt = wb.transpose(1, 2).reshape(b * in_ch, out_ch, kh, kw)
        x = F.conv_transpose2d(x, wt, stride=2, groups=b)
        assert fir is not None, "up-sampling needs the FIR filter"
        x = upfirdn2d(x, fir, pad=(1, 1, 1, 1), gain=4.0)
    else:
        x = F.conv2d(x, wb.reshape(b * out_ch, in_ch, kh, kw), padding=kh // 2, groups=b)
    return x.reshape(b, out_ch, x.shape[2], x.shape[3])
