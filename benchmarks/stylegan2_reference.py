"""A plain StyleGAN2 synthesis pass, written from the paper's formulation, to measure ours against.

Nothing here is fused or shortcut: every modulated convolution builds per-sample weights and runs
one grouped convolution (NVIDIA's ``fused_modconv`` reference path), every FIR step is the
textbook upfirdn2d (zero insertion, explicit pad, a full 2-D ``[1,3,3,1]`` kernel per channel),
noise, bias, lrelu and clamp are separate ops, and the skip image is up-sampled the same way.
It reads the parameters of a ``plugins.stylegan2.network.SynthesisNetwork`` so both run the
SAME weights; ``benchmarks/stylegan2.py`` and ``tests/test_stylegan2_fast.py``
check that both produce the same image.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F

PROFILE = False  # set by benchmarks/stylegan2.py --profile: label each op group for torch.profiler


def scope(name: str):
    return torch.profiler.record_function(name) if PROFILE else contextlib.nullcontext()


def ref_upfirdn2d(x: torch.Tensor, f: torch.Tensor, up: int, pad: tuple[int, int], gain: float) -> torch.Tensor:
    """Zero-insert by ``up``, pad ``pad`` on every side, convolve with the flipped 2-D kernel."""
    b, c, h, w = x.shape
    if up > 1:
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1]).reshape(b, c, h * up, w * up)
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    k = (f * gain).flip([0, 1]).to(x.dtype)
    return F.conv2d(x, k[None, None].repeat(c, 1, 1, 1), groups=c)


def ref_modconv(x, weight, styles, demodulate, up, fir, label="modconv"):
    b, in_ch, h, w = x.shape
    out_ch, _, kh, kw = weight.shape
    with scope(label):
        wb = weight.unsqueeze(0) * styles.reshape(b, 1, in_ch, 1, 1)
        if demodulate:
            d = (wb.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()
            wb = wb * d.reshape(b, out_ch, 1, 1, 1)
        x = x.reshape(1, b * in_ch, h, w)
        if up:
            wt = wb.transpose(1, 2).reshape(b * in_ch, out_ch, kh, kw)
            x = F.conv_transpose2d(x, wt, stride=2, groups=b)
        else:
            x = F.conv2d(x, wb.reshape(b * out_ch, in_ch, kh, kw), padding=kh // 2, groups=b)
    if up:
        with scope("fir"):
            x = ref_upfirdn2d(x, fir, 1, (1, 1), 4.0)
    return x.reshape(b, out_ch, x.shape[2], x.shape[3])


def ref_affine(lin, w):
    return w @ (lin.weight * lin.weight_gain).t() + lin.bias * lin.bias_gain


def ref_styled(layer, x, w, noise_mode):
    with scope("modconv"):
        styles = ref_affine(layer.affine, w)
    x = ref_modconv(x, layer.weight, styles, True, layer.up, layer.fir)
    if noise_mode == "const":
        with scope("noise"):
            x = x + layer.noise_const * layer.noise_strength
    with scope("bias+act"):
        x = x + layer.bias.reshape(1, -1, 1, 1)
        x = F.leaky_relu(x, 0.2) * math.sqrt(2.0)
        if layer.clamp is not None:
            x = x.clamp(-layer.clamp, layer.clamp)
    return x


def ref_torgb(layer, x, w):
    with scope("torgb"):
        styles = ref_affine(layer.affine, w) * layer.style_gain
    x = ref_modconv(x, layer.weight, styles, False, False, None, "torgb")
    with scope("torgb"):
        x = x + layer.bias.reshape(1, -1, 1, 1)
        return x.clamp(-layer.clamp, layer.clamp) if layer.clamp is not None else x


@torch.no_grad()
def reference_synthesis(syn, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
    """w+ → image with the same weights as ``syn`` (noise 'const' or 'none')."""
    if noise_mode not in ("const", "none"):
        raise ValueError("the reference compares deterministic noise only: 'const' or 'none'")
    ws = ws.float()
    x = syn.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
    img, idx = None, 0
    for block in syn.blocks:
        i = idx
        if not block.first:
            x = ref_styled(block.conv_up, x, ws[:, i], noise_mode)
            i += 1
        x = ref_styled(block.conv, x, ws[:, i], noise_mode)
        y = ref_torgb(block.to_rgb, x, ws[:, i + 1])
        if img is None:
            img = y
        else:
            with scope("skip-up"):
                img = ref_upfirdn2d(img, block.fir, 2, (2, 1), 4.0) + y
        idx += block.num_conv
    return img
