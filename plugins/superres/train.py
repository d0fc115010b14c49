"""TrainTask "superres": ESPCN learns to undo a ×``scale`` reduction (antialiased bicubic, or area).

The shared loop hands out full-resolution batches ``[B, 3, R, R]``; the low-resolution input
is made inside :meth:`train_step` with :func:`~plugins.superres.model.downscale`, so any image
folder is training data and ``--resolution`` is the *output* size.  Loss is L1 (sharper than
L2 for the same PSNR budget); ``psnr`` is reported beside ``psnr_bicubic`` on the same batch,
so the progress bar shows directly whether the network beats plain interpolation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from installation.api import WeightsMeta, psnr, save_weights

from .model import ESPCN, check_degradation, downscale


class SuperResTask:
    name = "superres"

    def __init__(
        self,
        scale: int = 2,
        features: int = 64,
        mid: int = 32,
        layers: int = 3,
        lr: float = 1e-3,
        lr_decay_steps: int = 0,
        degradation: str = "bicubic",
    ):
        self.scale, self.features, self.mid, self.layers = int(scale), int(features), int(mid), int(layers)
        self.lr = float(lr)
        self.lr_decay_steps = int(lr_decay_steps)  # >0: cosine decay to lr/20 over this many steps
        self.degradation = check_degradation(
            degradation
        )  # "area": frames area-reduced like the wave data (and the wave model's)
        self.net = ESPCN(self.scale, self.features, self.mid, self.layers)  # validates the options now
        self._preview: torch.Tensor | None = None

    def setup(self, device: torch.device, resolution: int) -> None:
        if resolution % self.scale:
            raise ValueError(f"--resolution {resolution} must be divisible by scale {self.scale}")
        self.device = torch.device(device)
        self.net = self.net.to(self.device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)

    def _set_lr(self, step: int) -> None:
        if self.lr_decay_steps > 0:
            t = min(step / self.lr_decay_steps, 1.0)
            lr = self.lr / 20 + (self.lr - self.lr / 20) * 0.5 * (1 + math.cos(math.pi * t))
            for group in self.opt.param_groups:
                group["lr"] = lr

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        if self._preview is None:
            self._preview = batch[:8].detach().clone()
        self._set_lr(step)
        self.net.train()
        low = downscale(batch, self.scale, self.degradation)
        out = self.net(low)
        loss = F.l1_loss(out, batch)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            bicubic = F.interpolate(low, scale_factor=self.scale, mode="bicubic", align_corners=False)
            return {
                "loss": float(loss.detach()),
                "psnr": psnr(out.detach(), batch),
                "psnr_bicubic": psnr(bicubic, batch),
            }

    @torch.no_grad()
    def validate(self, images: torch.Tensor) -> float:
        """Mean squared error on held-out images (lower is better; the loop stops on it)."""
        self.net.eval()
        total, n = 0.0, 0
        for chunk in images.split(32):
            total += float(
                F.mse_loss(self.net(downscale(chunk, self.scale, self.degradation)).clamp(0, 1), chunk, reduction="sum")
            )
            n += chunk.numel()
        return total / n

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        if "opt" in state and hasattr(self, "opt"):
            self.opt.load_state_dict(state["opt"])

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> torch.Tensor:
        """Rows of (bicubic, network, original) for the first training images: compare edges."""
        if self._preview is None:
            return torch.zeros(3, 3, 8, 8)
        imgs = self._preview[: min(3, max(1, n // 3))].to(self.device)  # 3 rows x (bicubic, net, original)
        low = downscale(imgs, self.scale, self.degradation)
        self.net.eval()
        bicubic = F.interpolate(low, scale_factor=self.scale, mode="bicubic", align_corners=False)
        rows = torch.stack([bicubic.clamp(0, 1), self.net(low).clamp(0, 1), imgs], 1)  # [k, 3, C, H, W]
        return rows.flatten(0, 1)

    def export(self, out_dir: Path) -> Path:
        degradation = "bicubic-antialias" if self.degradation == "bicubic" else self.degradation
        meta = WeightsMeta(model="espcn", config=self.net.config(), provenance={"degradation": degradation})
        return save_weights(Path(out_dir) / f"espcn_x{self.scale}.safetensors", self.net.state_dict(), meta)
