"""The synthesis network's inference path: the same maths as ``network.py``, fewer passes over memory.

Used whenever autograd is off (playback, previews, sampling during training); training keeps the
out-of-place path of ``network.py`` so backward sees every intermediate it needs.  On a 2-core CPU
the time of a StyleGAN2 frame is mostly memory traffic and layout conversions, not arithmetic, so
each change below removes a pass over an activation or a conversion (figures and the profile are in
docs/models/stylegan2.md):

* **channels_last** activations, and weights cached in channels_last: oneDNN runs 3×3 and
  transposed convolutions on NHWC without converting the activation on every call, and a plain
  NCHW weight against NHWC activations is re-laid-out on every call (10× the conv at 4×4).
* **per-layer choice of where the style goes**: ``w·(s⊙x) = (w⊙s)·x``.  At batch 1 with large
  activations the style, the demodulation and the lrelu gain are folded into the weights and the
  bias into the convolution (one conv, no pass over the activation); where the weights are larger
  than the activations (low resolutions, batches) the input is scaled by the style and the output
  by the demodulation with one ``addcmul`` that also adds the bias.  Never a grouped convolution:
  oneDNN's grouped path is 4× slower than a shared conv at batch 8.
* **cached demodulation** ``Σ w²`` per layer (it only changes with the weights).
* **in place** noise, lrelu (its √2 gain folded into the weights) and clamp.
* **batch chunking**: from the resolution where one image's activations outgrow the budget
  (about the last-level cache), the batch goes on depth-first in chunks, so a batch of 8 costs
  no more per image than 8 single images and its memory stays that of one chunk.
* the **skip image** is up-sampled polyphase (``[1,3,3,1]`` zero-insertion up-sampling is bilinear
  interpolation of the zero-padded image) instead of a 4×4 FIR over a zero-stuffed image.
* the toRGB 1×1 conv is one batched matrix product on the NHWC activation.
* **one thread for small blocks** (below ``SERIAL_ELEMENTS`` activation elements per batch): at
  4²–32² of a small net each op takes microseconds, and a second OpenMP thread per op (a stall
  whenever the other core is busy, as it always is on a shared 2-core host) costs more than the
  op; large blocks keep the caller's thread count.

A cached tensor is keyed on its source's storage and version, so loading, moving or training the
weights rebuilds it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from installation.api import cached

from .ops import SQRT2, EqualLinear

if TYPE_CHECKING:  # pragma: no cover - types only
    from .network import StyledConv, SynthesisBlock, SynthesisNetwork, ToRGB

CL = torch.channels_last
CHUNK_ELEMENTS = 1 << 21  # activation elements per chunk (8 MB in float32): well inside the L3 cache
MATMUL_PIXELS = 16  # at 4×4 a 3×3 conv runs as im2col + matmul (from 8×8 oneDNN wins)
#: a block whose batch of activations has fewer elements runs on one thread: its ops take µs, and
#: waking a second OpenMP thread for each (a stall when that core is busy) costs more than they do
SERIAL_ELEMENTS = 1 << 19


PROFILE = False  # benchmarks/stylegan2.py --profile sets it: label each op group for torch.profiler


def scope(name: str):
    """A ``torch.profiler`` label when profiling, else nothing (labels cost µs per call)."""
    return torch.profiler.record_function(name) if PROFILE else contextlib.nullcontext()


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype convolutions run in: autocast's when it is on, else the activation's."""
    kind = x.device.type
    if hasattr(torch, "get_autocast_dtype"):  # torch ≥ 2.4
        return torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else x.dtype
    if kind == "cpu":  # pragma: no cover - older torch
        return torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else x.dtype
    return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else x.dtype  # pragma: no cover


def styles_of(affine: EqualLinear, w: torch.Tensor) -> torch.Tensor:
    """The layer's affine map of w with its equalised-LR weight scaled once, not on every call."""
    wt, bias = cached(
        affine,
        "affine",
        (affine.weight, affine.bias),
        None,
        lambda: (
            (affine.weight.detach().float() * affine.weight_gain).t().contiguous(),
            affine.bias.detach().float() * affine.bias_gain,
        ),
    )
    with torch.autocast(device_type=w.device.type, enabled=False):  # styles stay fp32 (demodulation)
        return torch.addmm(bias.unsqueeze(0), w.float(), wt)


def _matmul_conv(x: torch.Tensor, wmat: torch.Tensor) -> torch.Tensor:
    """3×3 same-padding conv as im2col + one matmul, NHWC out: at 4×4 oneDNN's per-call setup
    (and PyTorch's fallback below 20k elements) cost more than the arithmetic."""
    b, _, h, w = x.shape
    cols = F.unfold(x, 3, padding=1)  # [b, in·9, h·w]
    y = torch.matmul(cols.transpose(1, 2), wmat.t())  # [b, h·w, out]
    return y.view(b, h, w, -1).permute(0, 3, 1, 2)


def _conv_weights(layer: StyledConv, dt: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(gain-scaled weight in the layout its conv wants, Σ w² over the kernel [in, out] in fp32,
    the gain-scaled weight as an [out, in·9] matrix for the im2col path, the epsilon)."""

    def build():
        w = layer.weight.detach().float()
        wsq = w.square().sum(dim=[2, 3]).t().contiguous()  # [in, out]: styles² @ wsq
        eps = torch.full((1,), 1e-8, device=w.device)  # demodulation's epsilon, as addmm's input
        wg = w * SQRT2
        if layer.up:  # conv_transpose2d reads [in, out, kh, kw]
            wg = wg.transpose(0, 1)
        return wg.to(dt).contiguous(memory_format=CL), wsq, (w * SQRT2).to(dt).reshape(w.shape[0], -1), eps

    return cached(layer, "weights", (layer.weight,), dt, build)


def _fir_kernel(layer: StyledConv, channels: int, dt: torch.dtype) -> torch.Tensor:
    """The 4×4 low-pass after the transposed conv (gain 4) as a depthwise kernel."""

    def build():
        k = (layer.fir.detach().float() * 4.0).flip([0, 1])
        return k[None, None].expand(channels, 1, *k.shape).to(dt).contiguous()

    return cached(layer, "fir", (layer.fir,), (channels, dt), build)


def _noise(layer: StyledConv, b: int, h: int, w: int, mode: str, dt: torch.dtype, device) -> torch.Tensor | None:
    if mode == "none":
        return None
    if mode == "const":

        def build():
            plane = layer.noise_const.detach().float() * (layer.noise_strength.detach().float() * SQRT2)
            return plane.to(dt).view(1, 1, h, w)

        return cached(layer, "noise", (layer.noise_const, layer.noise_strength), dt, build)
    return torch.randn(b, 1, h, w, device=device, dtype=dt) * (layer.noise_strength.to(dt) * SQRT2)


def styled_conv(layer: StyledConv, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
    """Modulated 3×3 conv (×2 up when ``layer.up``) + noise + bias + lrelu (+ clamp)."""
    dt = compute_dtype(x)
    b, cin, h, wd = x.shape
    cout = layer.weight.shape[0]
    ho, wo = (2 * h, 2 * wd) if layer.up else (h, wd)
    bias = cached(layer, "bias", (layer.bias,), dt, lambda: (layer.bias.detach().float() * SQRT2).to(dt))
    # fold the style into the weights when they are the smaller tensor to scale
    fold = b == 1 and cout * cin * 9 <= cin * h * wd + cout * ho * wo
    with scope("modconv"):
        weight, wsq, wmat, eps = _conv_weights(layer, dt)
        styles = styles_of(layer.affine, w)  # [b, in]
        with torch.autocast(device_type=x.device.type, enabled=False):  # fp32: Σ (w·s)² overflows half
            dcoefs = torch.addmm(eps, styles.square(), wsq).rsqrt_()  # [b, out]
        x = x.to(dt)
        if fold:
            if layer.up:  # weight is [in, out, 3, 3]
                wm = (weight * styles.to(dt).view(cin, 1, 1, 1)).mul_(dcoefs.to(dt).view(1, cout, 1, 1))
                y = F.conv_transpose2d(x, wm, stride=2)
            else:
                wm = (weight * styles.to(dt).view(1, cin, 1, 1)).mul_(dcoefs.to(dt).view(cout, 1, 1, 1))
                y = F.conv2d(x, wm, bias, padding=1)
        else:
            xs = x * styles.to(dt).view(b, cin, 1, 1)
            if layer.up:
                y = F.conv_transpose2d(xs, weight, stride=2)
            elif h * wd <= MATMUL_PIXELS:
                y = _matmul_conv(xs, wmat)
            else:
                y = F.conv2d(xs, weight, padding=1)
    if layer.up:
        with scope("fir"):  # the bias rides on the low-pass when it is not folded elsewhere
            y = F.conv2d(y, _fir_kernel(layer, cout, dt), bias if fold else None, padding=1, groups=cout)
    if not fold:
        with scope("bias+act"):  # demodulation and bias in one pass
            y = torch.addcmul(bias.view(1, cout, 1, 1), y, dcoefs.to(dt).view(b, cout, 1, 1), out=y)
    with scope("noise"):
        noise = _noise(layer, b, ho, wo, noise_mode, dt, x.device)
        if noise is not None:
            y.add_(noise)
    with scope("bias+act"):
        F.leaky_relu_(y, 0.2)
        if layer.clamp is not None:
            y.clamp_(-layer.clamp, layer.clamp)
    return y


def to_rgb(layer: ToRGB, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Modulated 1×1 conv as one batched matmul on the NHWC activation → ``[b, C, h, w]`` NCHW."""
    dt = compute_dtype(x)
    b, cin, h, wd = x.shape
    cout = layer.weight.shape[0]
    styles = styles_of(layer.affine, w) * layer.style_gain  # [b, in]
    wm = (layer.weight.detach().float().view(1, cout, cin) * styles.view(b, 1, cin)).to(dt)
    xv = x.to(dt).permute(0, 2, 3, 1).reshape(b, h * wd, cin)  # a view when x is channels_last
    bias = layer.bias.detach().to(dt).view(1, cout, 1)
    # [b, C, h·w] out: the RGB image is NCHW, the layout the skip's bilinear kernel vectorises
    y = torch.baddbmm(bias, wm, xv.transpose(1, 2)).view(b, cout, h, wd)
    if layer.clamp is not None:
        y = y.clamp_(-layer.clamp, layer.clamp)
    return y


def upsample_skip(img: torch.Tensor) -> torch.Tensor:
    """``upsample2d`` with the [1,3,3,1] filter, polyphase: bilinear ×2 of the zero-padded image.

    Zero insertion then the 4-tap filter (gain 2 per axis) gives ``out[2j] = ¼x[j−1] + ¾x[j]`` and
    ``out[2j+1] = ¾x[j] + ¼x[j+1]``: bilinear interpolation with ``align_corners=False``, except
    that outside the image is zero, hence the one-pixel zero border, cropped again after.
    """
    up = F.interpolate(F.pad(img, [1, 1, 1, 1]), scale_factor=2.0, mode="bilinear", align_corners=False)
    return up[:, :, 2:-2, 2:-2]


def block_forward(block: SynthesisBlock, x, img, ws, noise_mode):
    i = 0
    if not block.first:
        x = styled_conv(block.conv_up, x, ws[:, 0], noise_mode)
        i = 1
    x = styled_conv(block.conv, x, ws[:, i], noise_mode)
    with scope("torgb"):
        y = to_rgb(block.to_rgb, x, ws[:, i + 1]).float()
    if img is not None:
        with scope("skip-up"):
            y.add_(upsample_skip(img))
    return x, y


@contextlib.contextmanager
def _threads_for(elements: int):
    """One intra-op thread for a block below ``SERIAL_ELEMENTS`` (the caller's count otherwise)."""
    threads = torch.get_num_threads()
    if threads == 1 or elements >= SERIAL_ELEMENTS:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _run(blocks: list[SynthesisBlock], start: int, x, img, ws, idx: int, noise_mode: str, budget: int):
    for i in range(start, len(blocks)):
        block = blocks[i]
        per_image = block.conv.weight.shape[0] * block.conv.res**2
        chunk = max(1, budget // per_image)
        if x.shape[0] > chunk:  # depth-first in chunks from here on
            parts = [
                _run(
                    blocks,
                    i,
                    x[j : j + chunk],
                    None if img is None else img[j : j + chunk],
                    ws[j : j + chunk],
                    idx,
                    noise_mode,
                    budget,
                )
                for j in range(0, x.shape[0], chunk)
            ]
            return torch.cat(parts)
        with _threads_for(x.shape[0] * per_image):
            x, img = block_forward(block, x, img, ws[:, idx : idx + block.num_conv + 1], noise_mode)
        idx += block.num_conv
    return img


@torch.no_grad()
def synthesis(net: SynthesisNetwork, ws: torch.Tensor, noise_mode: str, budget: int = CHUNK_ELEMENTS) -> torch.Tensor:
    """w+ ``[N, num_ws, w_dim]`` (validated by the caller) → image ``[N, C, res, res]`` in float32."""
    x = net.const.detach().unsqueeze(0).expand(ws.shape[0], -1, -1, -1).contiguous(memory_format=CL)
    blocks: list[SynthesisBlock] = list(net.blocks)  # type: ignore[arg-type]
    return _run(blocks, 0, x, None, ws, 0, noise_mode, budget).contiguous()
