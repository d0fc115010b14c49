"""The ``video_in`` generator and the ``clock`` walk (latent = scene time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .feeds import CameraFeed, FileFeed, LiveFeed, NdiFeed


def _size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 8192 for v in size)
    ):
        raise ValueError(f"video_in: size must be [width, height], two integers 8 … 8192, got {size!r}")
    return int(size[0]), int(size[1])


class VideoIn:
    """Implements :class:`installation.api.Generator`: ``latent_dim = 1``; ``generate`` returns the
    newest live frame (black until the first arrives), or the file's frame at ``t = latent[0]``."""

    latent_dim = 1

    def __init__(
        self,
        device="cpu",
        source: str | None = None,
        camera: int | None = None,
        size=None,
        extra_ips: str | None = None,
    ):
        self.device = torch.device(device)
        if (source is None) == (camera is None):
            raise ValueError('video_in needs one of source = "ndi:NAME" / "FILE" or camera = N')
        size = _size(size)
        self.file: FileFeed | None = None
        self.feed: LiveFeed | None = None
        if camera is not None:
            if isinstance(camera, bool) or not isinstance(camera, int) or camera < 0:
                raise ValueError(f"video_in: camera must be a device number 0, 1, ..., got {camera!r}")
            self.feed = CameraFeed(camera, size or (640, 360)).start()
        elif not isinstance(source, str) or not source:
            raise ValueError(f'video_in: source must be "ndi:NAME" or a video file, got {source!r}')
        elif source.startswith("ndi:"):
            if not source[4:]:
                raise ValueError('video_in: source = "ndi:NAME" needs the NDI source name')
            self.feed = NdiFeed(source[4:], size or (640, 360), extra_ips).start()
        else:
            self.file = FileFeed(Path(source).expanduser(), size)
        source_of_size = self.feed if self.feed is not None else self.file
        assert source_of_size is not None  # exactly one of camera / source was given
        w, h = source_of_size.size
        self.resolution = (h, w)
        self._black = torch.zeros(3, h, w)

    @torch.no_grad()
    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        out = []
        for z in latents:
            rgb: np.ndarray | None
            if self.file is not None:
                rgb = self.file.frame_at(float(z[0]))
            else:
                assert self.feed is not None
                rgb = self.feed.latest()
            out.append(self._black if rgb is None else torch.from_numpy(np.array(rgb)).permute(2, 0, 1).float() / 255)
        return torch.stack(out).to(self.device)

    def close(self) -> None:
        for part in (self.feed, self.file):
            if part is not None:
                part.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def make_video_in(checkpoint=None, device="cpu", **options) -> VideoIn:
    if checkpoint:
        raise ValueError("video_in plays a feed and takes no checkpoint")
    return VideoIn(device=device, **options)


class ClockWalk:
    """Implements :class:`installation.api.Walk`: the latent is the scene time, ``[t · speed]``
    (padded with zeros to ``latent_dim``), a pure function of time."""

    def __init__(self, latent_dim: int = 1, seed: int = 0, speed: float = 1.0, offset: float = 0.0):
        self.latent_dim = int(latent_dim)
        self.speed, self.offset = float(speed), float(offset)

    def latent(self, t: float, control=None) -> torch.Tensor:
        z = torch.zeros(self.latent_dim, dtype=torch.float32)
        z[0] = self.offset + self.speed * float(t)
        return z
