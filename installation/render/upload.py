"""Frame upload: device tensor → GL texture.

Every path converts on the tensor's own device first (scale, round, to uint8, HWC), so only
one byte per channel crosses to the host.  On CUDA the bytes land in a pinned staging buffer
(asynchronous copy, then one ``texture.write``); a CUDA–GL interop uploader can replace this
class behind the same ``upload`` method, writing straight into the texture's storage, without
any change to the worker, the mixer or the compositor.
"""

from __future__ import annotations

import moderngl
import torch


def to_rgb8(frame: torch.Tensor) -> torch.Tensor:
    """``[3, H, W]`` float [0, 1] → ``[H, W, 3]`` uint8, contiguous, on the same device."""
    return frame[:3].clamp(0, 1).mul(255).round_().to(torch.uint8).permute(1, 2, 0).contiguous()


class TextureUploader:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self._staging: dict[tuple[int, ...], torch.Tensor] = {}
        self.uploads = 0

    def _host_bytes(self, rgb8: torch.Tensor) -> bytes | memoryview:
        if rgb8.device.type == "cpu":
            return rgb8.numpy().data
        shape = tuple(rgb8.shape)
        buf = self._staging.get(shape)
        if buf is None:
            buf = torch.empty(shape, dtype=torch.uint8, pin_memory=True)
            self._staging[shape] = buf
        buf.copy_(rgb8, non_blocking=True)
        torch.cuda.current_stream(rgb8.device).synchronize()
        return buf.numpy().data

    def upload(self, frame: torch.Tensor, texture: moderngl.Texture | None = None) -> moderngl.Texture:
        """Write ``frame`` into ``texture`` (made when ``None`` or of another size) and return it."""
        rgb8 = to_rgb8(frame)
        h, w = rgb8.shape[:2]
        if texture is None or texture.size != (w, h):
            if texture is not None:
                texture.release()
            texture = self.ctx.texture((w, h), 3, dtype="f1")
            texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
            texture.repeat_x = texture.repeat_y = False
        texture.write(self._host_bytes(rgb8))
        self.uploads += 1
        return texture
