"""A generator plugin that fails on purpose, for the fault-isolation tests (``--plugins-dir`` style).

Options (show-file ``[scenes.generator]`` keys):
  mode        ok | raise | hang | nan | shape | oom | crash_build
  key         name of the shared counter (faults are counted across rebuilt instances)
  fault_at    first ``generate`` call (0-based, per key) that faults
  fault_count how many consecutive calls fault (-1: all of them)
  hang_s      how long a hang lasts (released early by ``release_all()``)
  color       fixed RGB output instead of the latent-driven colour
  size        output size; in ``oom`` mode calls fault while size > ``oom_below``; ``degrade()`` halves it
Each frame is a uniform colour (sigmoid of the first three latent values), so tests can tell
keyframes apart from the frames read back from the compositor.
"""
from __future__ import annotations

import threading

import torch

from installation import hookimpl

STATE: dict[str, dict] = {}
RELEASE = threading.Event()


def release_all() -> None:
    RELEASE.set()


def reset() -> None:
    STATE.clear()
    RELEASE.clear()


class Faulty:
    latent_dim = 8

    def __init__(self, device="cpu", mode="ok", key="default", fault_at=0, fault_count=1, hang_s=30.0,
                 color=None, size=32, oom_below=16):
        self.device = torch.device(device)
        self.mode, self.key = mode, key
        self.fault_at, self.fault_count, self.hang_s = int(fault_at), int(fault_count), float(hang_s)
        self.color = color
        self.size, self.oom_below = int(size), int(oom_below)
        self.state = STATE.setdefault(key, {"calls": 0, "faults": 0, "builds": 0})
        self.state["builds"] += 1
        if mode == "crash_build" and self._faulting(self.state["builds"] - 1):
            raise RuntimeError("faulty: cannot load weights")

    @property
    def resolution(self):
        return (self.size, self.size)

    def _faulting(self, n: int) -> bool:
        return n >= self.fault_at and (self.fault_count < 0 or n < self.fault_at + self.fault_count)

    def degrade(self):
        if self.size <= 8:
            return None
        self.size //= 2
        return f"faulty: resolution lowered to {self.size}"

    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        n = self.state["calls"]
        self.state["calls"] += 1
        z = latents.to(self.device, torch.float32)
        rgb = torch.tensor(self.color, dtype=torch.float32) if self.color is not None else torch.sigmoid(2 * z[0, :3])
        frames = rgb.view(1, 3, 1, 1).expand(z.shape[0], 3, self.size, self.size).clone()
        if self.mode == "oom" and self.size > self.oom_below:
            self.state["faults"] += 1
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if self.mode in ("ok", "crash_build", "oom") or not self._faulting(n):
            return frames
        self.state["faults"] += 1
        if self.mode == "raise":
            raise RuntimeError("faulty: generator exploded")
        if self.mode == "hang":
            RELEASE.wait(self.hang_s)
            return frames
        if self.mode == "nan":
            return frames * float("nan")
        if self.mode == "shape":
            return frames[:, :, :, :, None]
        raise ValueError(f"unknown mode {self.mode}")


def make_faulty(checkpoint=None, device="cpu", **options):
    return Faulty(device=device, **options)


@hookimpl
def register_generators():
    return {"faulty": make_faulty}
