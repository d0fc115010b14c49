"""The runtime face of StyleGAN2: a :class:`installation.protocols.Generator` with a w space.

Beyond ``generate(z)`` it exposes what :mod:`installation.walks.wspace` needs for walks in w:
``mapping(z, psi)``, ``mean_w()``, ``num_ws``, ``w_dim`` and ``synthesize(ws)``.  Noise defaults to
the network's stored constant noise, so a latent always gives the same frame (random noise
would make a held keyframe shimmer).

GPU path (used when a show runs on CUDA): ``precision="fp16"`` runs the convolutions under
autocast in half precision with fp32 weights and fp32 demodulation, the network and its
activations use ``channels_last``, and conv outputs are clamped at ±256 so fp16 stays finite.
``degrade()`` (called by the worker after an out-of-memory error) switches a CUDA fp32
generator to fp16; batches larger than ``max_batch`` are always synthesised in chunks.
``compile=True`` runs the synthesis network through ``torch.compile`` (any device).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import torch

from .loader import load_stylegan2
from .network import NOISE_MODES, StyleGAN2, truncate

PRECISIONS = ("fp32", "fp16", "bf16")


class StyleGAN2Generator:
    """Wraps a :class:`StyleGAN2` network for playback; frames are ``[N, 3, H, W]`` in [0, 1]."""

    def __init__(
        self,
        net: StyleGAN2,
        device: torch.device | str = "cpu",
        truncation: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "const",
        class_index: int | None = None,
        precision: str = "auto",
        channels_last: bool | None = None,
        max_batch: int = 16,
        info: dict[str, Any] | None = None,
        compile: bool = False,
    ):
        self.device = torch.device(device)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if precision == "auto":
            precision = "fp16" if self.device.type == "cuda" else "fp32"
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be auto or one of {PRECISIONS}, got {precision!r}")
        if precision == "fp16" and self.device.type != "cuda":
            raise ValueError("precision fp16 needs a CUDA device (use bf16 or fp32 on the CPU)")
        self.net = net.eval().requires_grad_(False).to(self.device)
        self.cfg = net.cfg
        self.precision = precision
        self.channels_last = self.device.type == "cuda" if channels_last is None else bool(channels_last)
        if self.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # stub omits it
        self.latent_dim = self.cfg.z_dim
        self.resolution = (self.cfg.resolution, self.cfg.resolution)
        self.num_ws = self.cfg.num_ws
        self.w_dim = self.cfg.w_dim
        self.psi = float(truncation)
        self.cutoff = truncation_cutoff
        self.noise_mode = noise_mode
        self.max_batch = max(1, int(max_batch))
        self.info = info or {}
        # torch.compile traces the plain (training) formulation: the inference path's weight caches
        # are Python-side state a graph cannot hold, and inductor fuses the elementwise ops itself
        self._compiled = torch.compile(self.net.synthesis, dynamic=False) if compile else None
        self.c = None
        if self.cfg.c_dim > 0:
            idx = 0 if class_index is None else int(class_index)
            if not 0 <= idx < self.cfg.c_dim:
                raise ValueError(f"class_index {idx} out of range for c_dim={self.cfg.c_dim}")
            self.c = torch.zeros(1, self.cfg.c_dim, device=self.device)
            self.c[0, idx] = 1.0
        elif class_index is not None:
            raise ValueError("class_index given but this generator is unconditional (c_dim=0)")

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.float16 if self.precision == "fp16" else torch.bfloat16
        return torch.autocast(self.device.type, dtype=dtype)

    @torch.no_grad()
    def mapping(self, z: torch.Tensor, psi: float | None = None) -> torch.Tensor:
        """z ``[N, latent_dim]`` → w+ ``[N, num_ws, w_dim]`` (float32, on ``device``), truncated by psi."""
        z = z.to(self.device, torch.float32).reshape(-1, self.latent_dim)
        c = None if self.c is None else self.c.expand(z.shape[0], -1)
        psi = self.psi if psi is None else float(psi)
        return self.net.mapping(z, c, psi, self.cutoff)

    def mean_w(self) -> torch.Tensor:
        """The tracked mean of w ``[w_dim]``: the centre truncation pulls toward."""
        return self.net.mapping.w_avg.detach().float().clone()

    @torch.no_grad()
    def synthesize(self, ws: torch.Tensor) -> torch.Tensor:
        """w ``[N, w_dim]`` or w+ ``[N, num_ws, w_dim]`` → frames ``[N, 3, H, W]`` in [0, 1]."""
        ws = ws.to(self.device, torch.float32)
        if ws.dim() == 2:
            ws = ws.unsqueeze(1).expand(-1, self.num_ws, -1)
        frames = []
        for chunk in ws.split(self.max_batch):
            with self._autocast():
                if self._compiled is not None:
                    img = self._compiled(chunk, self.noise_mode, fast=False)
                else:
                    img = self.net.synthesis(chunk, self.noise_mode)
            frames.append(((img.float() + 1) * 0.5).clamp(0, 1).contiguous())
        return torch.cat(frames)

    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        """z ``[N, latent_dim]`` → frames, with the generator's truncation."""
        return self.synthesize(self.mapping(latents))

    def truncate(self, ws: torch.Tensor, psi: float) -> torch.Tensor:
        return truncate(ws, self.mean_w().to(ws.device), psi, self.cutoff)

    def degrade(self) -> str | None:
        """Cheaper next keyframe after an out-of-memory error; ``None`` when nothing is left."""
        if self.device.type == "cuda" and self.precision == "fp32":
            self.precision = "fp16"
            return "stylegan2: switched to fp16"
        return None


def make_generator(
    checkpoint: str | Path | None = None, device: torch.device | str = "cpu", **options
) -> StyleGAN2Generator:
    """``register_generators`` factory: ``checkpoint=None`` plays the shipped wave model.

    Options: ``truncation``, ``truncation_cutoff``, ``noise_mode``, ``class_index``, ``precision``,
    ``channels_last``, ``max_batch``, ``compile`` (``torch.compile`` the synthesis network; the
    first frame of each batch size pays the compilation), ``mapping_lr`` (rosinality files, whose mapping learning-rate
    multiplier is not stored; default 0.01).
    """
    mapping_lr = float(options.pop("mapping_lr", 0.01))
    known = {
        "truncation",
        "truncation_cutoff",
        "noise_mode",
        "class_index",
        "precision",
        "channels_last",
        "max_batch",
        "compile",
    }
    unknown = set(options) - known
    if unknown:
        raise ValueError(
            f"unknown stylegan2 option(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(known | {'mapping_lr'}))}"
        )
    net, info = load_stylegan2(checkpoint, mapping_lr=mapping_lr)
    return StyleGAN2Generator(net, device=device, info=info, **options)
