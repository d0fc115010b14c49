"""Post stage "superres": upscale frames ×2 or ×4 on their device, before upload to GL.

``method`` picks how:

* ``"espcn"`` (default): the compact sub-pixel network with the shipped ``espcn_x2`` /
  ``espcn_x4`` weights trained here on mixed content (see docs/models/superres.md);
* ``"espcn-waves"``: the same network trained on wave frames (``espcn_x4_waves``, ×4 only): what the
  wave shows use to take the 64² wave model to 256² with the sea's own texture;
* ``"lanczos"``: plain Lanczos-3 resampling, no weights (the fallback);
* a path to a ``.safetensors`` exported by ``installation train superres``, or to a
  Real-ESRGAN-family ``.pth``/``.safetensors`` loaded through spandrel (the ``esrgan`` extra).
  If such a model's own scale differs from ``scale``, its output is resampled with Lanczos.
"""

from __future__ import annotations

from pathlib import Path

import torch

from installation.api import CheckpointError, detect_format, load_into, load_weights, read_meta

from .infer import espcn_upscale
from .model import ESPCN, SCALES, lanczos_resize

WEIGHTS = Path(__file__).parent / "weights"
MODEL = "espcn"  # the ``model`` of the weights metadata


#: ``method`` → shipped weights per scale (domains trained on one kind of picture)
SHIPPED = {"espcn": {2: "espcn_x2", 4: "espcn_x4"}, "espcn-waves": {4: "espcn_x4_waves"}}


def shipped_weights(scale: int, method: str = "espcn") -> Path:
    names = SHIPPED[method]
    if scale not in names:
        raise ValueError(f"superres method {method!r} ships weights for scale {', '.join(map(str, names))} only")
    return WEIGHTS / f"{names[scale]}.safetensors"


def load_espcn(path: Path | str, device: torch.device | str = "cpu") -> ESPCN:
    path = Path(path)
    state, meta = load_weights(path, model=MODEL)
    cfg = meta.config
    try:
        net = ESPCN(
            int(cfg.get("scale", 2)), int(cfg.get("features", 64)), int(cfg.get("mid", 32)), int(cfg.get("layers", 3))
        )
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path.with_suffix(".json"), f"bad ESPCN config ({exc})") from exc
    load_into(net, state, path.with_suffix(".safetensors"))
    return net.to(device).eval()


def _is_native(path: Path) -> bool:
    """Our own export: safetensors content with ESPCN metadata beside it."""
    if detect_format(path) != "safetensors":
        return False
    meta = read_meta(path)
    return meta is not None and meta.model == MODEL


class SuperRes:
    """Implements :class:`installation.protocols.PostProcessor`."""

    def __init__(self, device: torch.device | str = "cpu", scale: int = 2, method: str = "espcn"):
        self.device = torch.device(device)
        self.scale = int(scale)
        if self.scale not in SCALES:
            raise ValueError(f"superres scale must be one of {SCALES}, got {scale!r}")
        self.method = str(method)
        self.net = None
        self.net_scale = self.scale
        if self.method in SHIPPED:
            self.net = load_espcn(shipped_weights(self.scale, self.method), self.device)
        elif self.method == "lanczos":
            pass
        else:
            path = Path(self.method).expanduser()
            if not path.exists():
                raise CheckpointError(
                    path, "superres method is neither 'espcn', 'espcn-waves', 'lanczos' nor an existing weights file"
                )
            if _is_native(path):
                self.net = load_espcn(path, self.device)
                self.net_scale = self.net.scale
            else:
                from .esrgan import load_esrgan

                self.net, self.net_scale = load_esrgan(path, self.device)

    @torch.no_grad()
    def process(self, frames: torch.Tensor) -> torch.Tensor:
        h, w = frames.shape[-2:]
        size = (h * self.scale, w * self.scale)
        frames = frames.to(self.device, torch.float32)
        rgb, alpha = frames[:, :3], frames[:, 3:]
        if self.net is None:
            out = lanczos_resize(rgb, size)
        elif isinstance(self.net, ESPCN) and self.net_scale == self.scale and not alpha.shape[1]:  # clamped already
            return espcn_upscale(self.net, rgb.contiguous())
        else:
            out = self.net(rgb)
            if out.shape[-2:] != size:
                out = lanczos_resize(out, size)
        if alpha.shape[1]:
            out = torch.cat([out, lanczos_resize(alpha, size)], 1)
        return out.clamp(0.0, 1.0)


def make_superres(device="cpu", scale: int = 2, method: str = "espcn", **options) -> SuperRes:
    if options:
        raise ValueError(f"superres takes scale and method, got unknown {', '.join(sorted(options))}")
    return SuperRes(device, scale, method)
