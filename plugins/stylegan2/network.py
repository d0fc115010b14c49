"""The StyleGAN2 generator: mapping network, synthesis network and their configuration.

Structure (the paper's config F, "skip" generator):

* mapping: z is normalised to unit second moment, optionally concatenated with an embedded class
  label, then passed through ``mapping_layers`` equalised-LR fully connected layers (learning
  rate × ``mapping_lr``) to w.  A running mean ``w_avg`` is tracked during training; truncation
  lerps w toward it (``psi``), optionally only for the first ``cutoff`` of the ``num_ws`` styles.
* synthesis: a learned 4×4 constant, then one block per resolution: an up-sampling modulated
  3×3 conv, a modulated 3×3 conv (each with per-pixel noise × a learned strength, bias, lrelu)
  and a 1×1 toRGB whose output is added to the up-sampled RGB image of the block below.
  Each conv and each toRGB reads its own w (w+ has ``num_ws = 2·log2(res) − 2`` rows), which is
  what makes style mixing and per-layer latent walks possible.

Channel counts are ``min(channel_base / res, channel_max)`` unless ``channels`` lists them per
resolution explicitly (rosinality's channel multiplier files need that).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, cast

import torch
import torch.nn as nn

from .fast import synthesis as fast_synthesis
from .ops import EqualLinear, lrelu_bias, make_filter, modulated_conv2d, upsample2d

NOISE_MODES = ("random", "const", "none")


@dataclass
class G2Config:
    """Everything needed to rebuild a generator; stored as the native format's JSON."""

    resolution: int = 64
    z_dim: int = 512
    w_dim: int = 512
    c_dim: int = 0
    mapping_layers: int = 8
    mapping_lr: float = 0.01
    w_avg_beta: float = 0.998
    channel_base: int = 32768
    channel_max: int = 512
    channels: dict[int, int] = field(default_factory=dict)  # explicit {res: ch}; overrides base/max
    conv_clamp: float | None = None
    img_channels: int = 3

    def __post_init__(self):
        r = int(self.resolution)
        if r < 8 or r > 1024 or r & (r - 1):
            raise ValueError(f"resolution must be a power of two from 8 to 1024, got {self.resolution}")
        self.channels = {int(k): int(v) for k, v in (self.channels or {}).items()}

    @property
    def resolutions(self) -> list[int]:
        return [2**i for i in range(2, int(math.log2(self.resolution)) + 1)]

    def ch(self, res: int) -> int:
        if res in self.channels:
            return self.channels[res]
        return min(self.channel_base // res, self.channel_max)

    @property
    def num_ws(self) -> int:
        return 2 * int(math.log2(self.resolution)) - 2

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"] = {str(k): v for k, v in self.channels.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> G2Config:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown StyleGAN2 config keys: {', '.join(sorted(unknown))}")
        return cls(**d)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class MappingNetwork(nn.Module):
    """z (and class c) → w, with the running mean ``w_avg`` used for truncation."""

    w_avg: torch.Tensor  # a buffer, typed for the checker

    def __init__(self, cfg: G2Config):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = cfg.z_dim, cfg.c_dim, cfg.w_dim
        self.num_ws = cfg.num_ws
        self.w_avg_beta = cfg.w_avg_beta
        embed = cfg.w_dim if cfg.c_dim > 0 else 0
        if cfg.c_dim > 0:
            self.embed = EqualLinear(cfg.c_dim, embed)
        dims = [cfg.z_dim + embed] + [cfg.w_dim] * cfg.mapping_layers
        self.net = nn.ModuleList(
            EqualLinear(dims[i], dims[i + 1], lr_mult=cfg.mapping_lr, activate=True) for i in range(cfg.mapping_layers)
        )
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        psi: float = 1.0,
        cutoff: int | None = None,
        update_w_avg: bool = False,
    ) -> torch.Tensor:
        """→ w+ ``[N, num_ws, w_dim]`` (every row the same w; mixing happens outside)."""
        x = normalize_2nd_moment(z.float()) if self.z_dim > 0 else None
        if self.c_dim > 0:
            if c is None:
                raise ValueError(f"this generator is class-conditional (c_dim={self.c_dim}): pass a label c")
            y = normalize_2nd_moment(self.embed(c.float()))
            x = y if x is None else torch.cat([x, y], dim=1)
        assert x is not None  # a mapping network has z, c or both as input
        for layer in self.net:
            x = layer(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().mean(0).lerp(self.w_avg, self.w_avg_beta))
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        return truncate(ws, self.w_avg, psi, cutoff)


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """Pull styles toward the mean: psi < 1 trades variety for typical, clean images."""
    if psi == 1:
        return ws
    if cutoff is None:
        return w_avg.lerp(ws, psi)
    ws = ws.clone()
    ws[:, :cutoff] = w_avg.lerp(ws[:, :cutoff], psi)
    return ws


class StyledConv(nn.Module):
    """Modulated 3×3 conv (optionally ×2 up) + noise + bias + lrelu."""

    noise_const: torch.Tensor  # buffers, typed for the checker
    fir: torch.Tensor

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, res: int, up: bool = False, clamp: float | None = None):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(res, res))
        self.register_buffer("fir", make_filter(), persistent=False)
        self.up, self.res, self.clamp = up, res, clamp

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random", fused: bool | None = None
    ) -> torch.Tensor:
        styles = self.affine(w)
        x = modulated_conv2d(x, self.weight, styles, demodulate=True, up=self.up, fir=self.fir, fused=fused)
        if noise_mode == "random":
            x = x + torch.randn(
                x.shape[0], 1, self.res, self.res, device=x.device, dtype=x.dtype
            ) * self.noise_strength.to(x.dtype)
        elif noise_mode == "const":
            x = x + (self.noise_const * self.noise_strength).to(x.dtype)
        return lrelu_bias(x, self.bias, clamp=self.clamp)


class ToRGB(nn.Module):
    """Modulated 1×1 conv to RGB without demodulation (colour must keep its scale)."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, clamp: float | None = None):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.style_gain = 1.0 / math.sqrt(in_ch)
        self.clamp = clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused: bool | None = None) -> torch.Tensor:
        styles = self.affine(w) * self.style_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused=fused)
        x = x + self.bias.to(x.dtype).view(1, -1, 1, 1)
        return x.clamp(-self.clamp, self.clamp) if self.clamp is not None else x


class SynthesisBlock(nn.Module):
    """One resolution: (up-conv) conv toRGB.  The 4×4 block has no up-conv."""

    fir: torch.Tensor  # a buffer, typed for the checker
    num_conv: int

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, res: int, img_channels: int, clamp: float | None):
        super().__init__()
        self.first = in_ch == 0
        if not self.first:
            self.conv_up = StyledConv(in_ch, out_ch, w_dim, res, up=True, clamp=clamp)
        self.conv = StyledConv(out_ch, out_ch, w_dim, res, clamp=clamp)
        self.to_rgb = ToRGB(out_ch, img_channels, w_dim, clamp=clamp)
        self.register_buffer("fir", make_filter(), persistent=False)
        self.num_conv = 1 if self.first else 2

    def forward(self, x, img, ws, noise_mode="random", fused=None):
        i = 0
        if not self.first:
            x = self.conv_up(x, ws[:, 0], noise_mode, fused)
            i = 1
        x = self.conv(x, ws[:, i], noise_mode, fused)
        y = self.to_rgb(x, ws[:, i + 1], fused).float()
        img = y if img is None else upsample2d(img, self.fir) + y
        return x, img


class SynthesisNetwork(nn.Module):
    """w+ ``[N, num_ws, w_dim]`` → image ``[N, 3, res, res]`` (roughly in [-1, 1])."""

    def __init__(self, cfg: G2Config):
        super().__init__()
        self.num_ws, self.w_dim = cfg.num_ws, cfg.w_dim
        self.resolutions = cfg.resolutions
        self.const = nn.Parameter(torch.randn(cfg.ch(4), 4, 4))
        blocks = []
        for res in self.resolutions:
            in_ch = 0 if res == 4 else cfg.ch(res // 2)
            blocks.append(SynthesisBlock(in_ch, cfg.ch(res), cfg.w_dim, res, cfg.img_channels, cfg.conv_clamp))
        self.blocks = nn.ModuleList(blocks)

    def forward(
        self, ws: torch.Tensor, noise_mode: str = "random", fused: bool | None = None, fast: bool | None = None
    ) -> torch.Tensor:
        """``fast`` (default: whenever autograd is off and ``fused`` is not forced) runs
        :mod:`.fast`, the inference path; ``fast=False`` is the out-of-place path training uses."""
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if ws.dim() != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {tuple(ws.shape)}")
        ws = ws.float()
        if fast is None:
            fast = fused is None and not torch.is_grad_enabled()
        if fast:
            return fast_synthesis(self, ws, noise_mode)
        x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        img, idx = None, 0
        for block in cast("list[SynthesisBlock]", self.blocks):
            x, img = block(x, img, ws[:, idx : idx + block.num_conv + 1], noise_mode, fused)
            idx += block.num_conv
        assert img is not None  # at least the 4x4 block ran
        return img


class StyleGAN2(nn.Module):
    """Mapping + synthesis.  ``forward(z)`` gives images in about [-1, 1]."""

    def __init__(self, cfg: G2Config):
        super().__init__()
        self.cfg = cfg
        self.mapping = MappingNetwork(cfg)
        self.synthesis = SynthesisNetwork(cfg)

    @property
    def num_ws(self) -> int:
        return self.cfg.num_ws

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        psi: float = 1.0,
        cutoff: int | None = None,
        noise_mode: str = "random",
        update_w_avg: bool = False,
    ) -> torch.Tensor:
        return self.synthesis(self.mapping(z, c, psi, cutoff, update_w_avg), noise_mode)


def mix_styles(ws: torch.Tensor, ws2: torch.Tensor, crossover: torch.Tensor) -> torch.Tensor:
    """Style mixing: rows ``>= crossover[n]`` of sample n come from ``ws2`` (regulariser and effect)."""
    rows = torch.arange(ws.shape[1], device=ws.device).view(1, -1, 1)
    return torch.where(rows < crossover.view(-1, 1, 1), ws, ws2)
