"""Keyframes between processes: a ring of shared-memory slots sized for the frame.

The parent owns the segment (creates and unlinks it, so nothing is left in ``/dev/shm`` after a
restart, and multiprocessing's resource tracker removes it even if the parent is killed); the
worker process attaches by name and writes keyframe ``n`` into slot ``n % slots``.  The parent
copies a slot out as soon as its index arrives on the pipe, so a slot is free again before the
next request is sent and no keyframe the compositor holds ever aliases shared memory.
"""

from __future__ import annotations

import itertools
import os
from multiprocessing.shared_memory import SharedMemory

import numpy as np
import torch

PREFIX = "installation_frames"
_serial = itertools.count()


class FrameRing:
    def __init__(self, shm: SharedMemory, slot_bytes: int, slots: int, owner: bool):
        self.shm, self.slot_bytes, self.slots, self.owner = shm, int(slot_bytes), int(slots), owner

    @property
    def name(self) -> str:
        return self.shm.name

    @classmethod
    def create(cls, slot_bytes: int, slots: int = 2) -> FrameRing:
        name = f"{PREFIX}_{os.getpid()}_{next(_serial)}"
        return cls(SharedMemory(name=name, create=True, size=max(1, slot_bytes * slots)), slot_bytes, slots, True)

    @classmethod
    def attach(cls, name: str, slot_bytes: int, slots: int) -> FrameRing:
        # Python 3.11 registers an attached segment with the resource tracker as well; workers share
        # the runtime's tracker (a set of names), so this is a no-op and the parent's unlink clears it
        return cls(SharedMemory(name=name), slot_bytes, slots, False)

    def fits(self, frame: torch.Tensor) -> bool:
        return frame.numel() * 4 <= self.slot_bytes

    def write(self, slot: int, frame: torch.Tensor) -> None:
        """Child side: ``frame`` (float32 CPU) into ``slot``."""
        view = np.ndarray((frame.numel(),), dtype=np.float32, buffer=self.shm.buf, offset=slot * self.slot_bytes)
        view[:] = frame.reshape(-1).numpy()
        del view

    def read(self, slot: int, shape: tuple[int, ...]) -> torch.Tensor:
        """Parent side: a private copy of the frame in ``slot``."""
        n = int(np.prod(shape))
        view = np.ndarray((n,), dtype=np.float32, buffer=self.shm.buf, offset=slot * self.slot_bytes)
        out = torch.from_numpy(view.copy()).reshape(shape)
        del view
        return out

    def close(self) -> None:
        try:
            self.shm.close()
        except BufferError:  # a view still exported: the mapping goes with the process
            pass
        if self.owner:
            try:
                self.shm.unlink()
            except FileNotFoundError:
                pass


def frame_bytes(frame: torch.Tensor) -> int:
    return frame.numel() * 4
