"""A generator plugin that faults at random, for the compressed soak (``--plugins-dir`` style).

Each ``generate`` call draws from ``random.Random(f"{seed}:{key}:{n}")`` (``n``: the call number,
kept across worker-process restarts in ``log``), so a run with the same seed injects the same
faults at the same calls.  With probability ``rate`` the call faults with one of ``kinds`` (in a
seeded random order, each kind once per round of ``len(kinds)`` faults over all scenes, so a short
run covers them all):

  raise    RuntimeError                       nan    frames of NaN
  shape    a 5-d tensor                       hang   sleeps ``hang_s`` (the worker's deadline ends it)
  segfault reads address 0 through ctypes     alloc  allocates 32 MiB blocks until MemoryError
                                                     (under the worker's memory cap; refuses past 4 GiB)

Every call appends ``n kind pid`` to ``log`` (one line, written before the fault happens, so a
crash is counted too): the soak reads it to count faults injected and whether each was followed by
a good keyframe.  While the file ``quiet`` exists no faults are injected (the soak's last stretch).
Frames are a uniform colour from the first three latent values, never black.
"""

from __future__ import annotations

import ctypes
import os
import random
import time
from pathlib import Path

import torch

from installation import hookimpl

KINDS = ("raise", "nan", "shape", "hang", "segfault", "alloc")


class Chaos:
    latent_dim = 8

    def __init__(
        self,
        device="cpu",
        log="chaos.log",
        key="chaos",
        seed=0,
        rate=0.05,
        kinds=KINDS,
        hang_s=30.0,
        size=16,
        quiet=None,
    ):
        self.device = torch.device(device)
        self.log, self.key, self.seed, self.rate = Path(log), str(key), seed, float(rate)
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"chaos: unknown fault kinds {sorted(unknown)}")
        self.hang_s, self.size = float(hang_s), int(size)
        self.quiet = Path(quiet) if quiet else None
        self.calls = self.log.read_text().count("\n") if self.log.exists() else 0

    @property
    def resolution(self):
        return (self.size, self.size)

    def _record(self, n: int, kind: str) -> None:
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{n} {kind} {os.getpid()}\n".encode())
        finally:
            os.close(fd)

    def _next_kind(self) -> str:
        """The kinds in a seeded random order, each once per round, counted over every scene using this
        log folder (``faults`` beside ``log``): the first ``len(kinds)`` faults of a run cover them all."""
        mine = f"{os.getpid()} {self.key} {self.calls}\n"
        shared = self.log.with_name("faults")
        fd = os.open(shared, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, mine.encode())
        finally:
            os.close(fd)
        lines = shared.read_text().splitlines(keepends=True)
        turn = lines.index(mine) if mine in lines else len(lines) - 1
        n = len(self.kinds)
        order = random.Random(f"{self.seed}:round {turn // n}").sample(self.kinds, n)
        return order[turn % n]

    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        n, self.calls = self.calls, self.calls + 1
        draw = random.Random(f"{self.seed}:{self.key}:{n}")
        kind = "ok"
        if draw.random() < self.rate and not (self.quiet is not None and self.quiet.exists()):
            kind = self._next_kind()
        self._record(n, kind)
        z = latents.to(self.device, torch.float32)
        rgb = 0.2 + 0.6 * torch.sigmoid(2 * z[0, :3])  # never dark: a black frame means nothing was shown
        frames = rgb.view(1, 3, 1, 1).expand(z.shape[0], 3, self.size, self.size).clone()
        if kind == "ok":
            return frames
        if kind == "raise":
            raise RuntimeError("chaos: generator exploded")
        if kind == "nan":
            return frames * float("nan")
        if kind == "shape":
            return frames[:, :, :, :, None]
        if kind == "hang":
            time.sleep(self.hang_s)
            return frames
        if kind == "segfault":
            ctypes.string_at(0)
        blocks: list[bytearray] = []
        while len(blocks) < 128:  # 4 GiB: no cap is set, do not take the host down
            blocks.append(bytearray(32 * 2**20))  # MemoryError under the worker's memory cap
        raise RuntimeError("chaos: allocated 4 GiB without running out; is a memory cap set?")


def make_chaos(checkpoint=None, device="cpu", **options):
    return Chaos(device=device, **options)


@hookimpl
def register_generators():
    return {"chaos": make_chaos}
