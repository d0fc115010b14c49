"""A generator plugin that fails on purpose, for the fault-isolation tests (``--plugins-dir`` style).

Options (show-file ``[scenes.generator]`` keys):
  mode        ok | raise | hang | nan | shape | oom | crash_build | segfault | native_hang | alloc | oom_kill
  key         name of the shared counter (faults are counted across rebuilt instances)
  counter     a JSON file that keeps the counters instead, so they survive the worker process
              being restarted (isolated workers start a fresh interpreter each time)
  fault_at    first ``generate`` call (0-based, per key) that faults
  fault_count how many consecutive calls fault (-1: all of them)
  hang_s      how long a hang lasts (released early by ``release_all()``)
  color       fixed RGB output instead of the latent-driven colour
  native_hang: sleeps ``hang_s`` inside a C call that holds the GIL (``ctypes.PyDLL``);
  segfault: reads address 0 (``ctypes.string_at(0)``); alloc: keeps allocating 32 MiB blocks
  until ``MemoryError`` (refuses past 4 GiB, so it never eats an uncapped host) while size > oom_below;
  oom_kill: SIGKILLs its own process while size > oom_below, as the kernel's OOM killer would
  size        output size; in ``oom`` mode calls fault while size > ``oom_below``; ``degrade()`` halves it
Each frame is a uniform colour (sigmoid of the first three latent values), so tests can tell
keyframes apart from the frames read back from the compositor.
"""
from __future__ import annotations

import ctypes
import json
import os
import threading
from pathlib import Path

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
                 color=None, size=32, oom_below=16, counter=None):
        self.device = torch.device(device)
        self.mode, self.key = mode, key
        self.fault_at, self.fault_count, self.hang_s = int(fault_at), int(fault_count), float(hang_s)
        self.color = color
        self.size, self.oom_below = int(size), int(oom_below)
        self.counter = Path(counter) if counter else None
        self.state = STATE.setdefault(key, {"calls": 0, "faults": 0, "builds": 0})
        self._load()
        self.state["builds"] += 1
        self._save()
        if mode == "crash_build" and self._faulting(self.state["builds"] - 1):
            raise RuntimeError("faulty: cannot load weights")

    def _load(self) -> None:
        if self.counter is not None and self.counter.exists():
            self.state.update(json.loads(self.counter.read_text()).get(self.key, {}))

    def _save(self) -> None:
        if self.counter is None:
            return
        data = json.loads(self.counter.read_text()) if self.counter.exists() else {}
        data[self.key] = dict(self.state, pid=os.getpid())
        tmp = self.counter.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.counter)

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
        self._load()
        n = self.state["calls"]
        self.state["calls"] += 1
        self._save()
        z = latents.to(self.device, torch.float32)
        rgb = torch.tensor(self.color, dtype=torch.float32) if self.color is not None else torch.sigmoid(2 * z[0, :3])
        frames = rgb.view(1, 3, 1, 1).expand(z.shape[0], 3, self.size, self.size).clone()
        if self.mode == "oom" and self.size > self.oom_below:
            self._count_fault()
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if self.mode == "alloc" and self.size > self.oom_below:
            self._count_fault()
            blocks = []
            while len(blocks) < 128:  # 4 GiB: no cap is set, do not take the host down
                blocks.append(bytearray(32 * 2**20))  # MemoryError under the worker's memory cap
            raise RuntimeError("faulty: allocated 4 GiB without running out; is --plugin-memory set?")
        if self.mode == "oom_kill" and self.size > self.oom_below:
            self._count_fault()
            os.kill(os.getpid(), 9)
        if self.mode in ("ok", "crash_build", "oom", "alloc", "oom_kill") or not self._faulting(n):
            return frames
        self._count_fault()
        if self.mode == "segfault":
            ctypes.string_at(0)  # SIGSEGV: a native crash
        if self.mode == "native_hang":
            ctypes.PyDLL(None).sleep(int(self.hang_s))  # blocks in C holding the GIL: no Python runs
            return frames
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

    def _count_fault(self) -> None:
        self.state["faults"] += 1
        self._save()


def make_faulty(checkpoint=None, device="cpu", **options):
    return Faulty(device=device, **options)


@hookimpl
def register_generators():
    return {"faulty": make_faulty}
