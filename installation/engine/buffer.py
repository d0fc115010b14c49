"""A bounded, latest-wins keyframe buffer shared by one worker thread and the render loop.

The lock is held only for list operations, never while a model runs, so :meth:`put` and the
readers never wait on inference: the render loop can always draw what is there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class Keyframe:
    index: int  # keyframe number k: the walk was sampled at k / keyframe_rate
    t: float  # scene-local time the latent was taken at
    frame: torch.Tensor  # [3, H, W] float in [0, 1], on the generator's device until upload
    arrival: float  # wall-clock time it became available
    texture: Any = field(default=None, repr=False)  # GL texture, filled by the render thread on first use
    digest: str | None = field(default=None, repr=False)  # of the frame, once asked for (--log-frames)


class KeyframeBuffer:
    """Keeps the ``capacity`` highest-indexed keyframes; older ones fall out first."""

    def __init__(self, capacity: int = 4):
        if capacity < 2:
            raise ValueError("capacity must be at least 2 (a crossfade needs two keyframes)")
        self.capacity = capacity
        self._items: list[Keyframe] = []
        self._lock = threading.Lock()
        self.evicted: list[Keyframe] = []  # the render thread releases their textures

    def put(self, kf: Keyframe) -> None:
        with self._lock:
            self._items = [k for k in self._items if k.index != kf.index]
            self._items.append(kf)
            self._items.sort(key=lambda k: k.index)
            while len(self._items) > self.capacity:
                self.evicted.append(self._items.pop(0))

    def get(self, index: int) -> Keyframe | None:
        with self._lock:
            for k in self._items:
                if k.index == index:
                    return k
        return None

    def newest(self) -> Keyframe | None:
        with self._lock:
            return self._items[-1] if self._items else None

    def snapshot(self) -> list[Keyframe]:
        with self._lock:
            return list(self._items)

    def discard(self, index: int) -> None:
        """Drop keyframe ``index`` (made with stale control); its texture is released like an evicted one."""
        with self._lock:
            gone = [k for k in self._items if k.index == index]
            self._items = [k for k in self._items if k.index != index]
            self.evicted += gone

    def take_evicted(self) -> list[Keyframe]:
        with self._lock:
            out, self.evicted = self.evicted, []
        return out

    def clear(self) -> list[Keyframe]:
        """Drop every keyframe (a seek or loop restart); returns them so textures can be released."""
        with self._lock:
            out, self._items = self._items + self.evicted, []
            self.evicted = []
        return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
