"""FID and KID at checkpoints: the task's samples against the training images.

The real images' features are computed once; at each checkpoint ``count`` samples (fixed
seeds, so the figures follow the model and not the draw) are compared with them.  The numbers
go to the log line and the run's history (``fid``, ``kid``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..studio.inception import load_inception
from ..studio.metrics import fid, kid


class CheckpointMetrics:
    def __init__(self, features: Path | str, data, count: int, device: torch.device, seed: int = 0, batch: int = 32):
        self.net = load_inception(features).to(device)
        self.device, self.count, self.seed, self.batch = device, max(4, int(count)), int(seed), batch
        real = data.images[: self.count]
        self.real = self._features(real[i : i + batch].float() / 255 for i in range(0, real.shape[0], batch))

    @torch.no_grad()
    def _features(self, chunks) -> torch.Tensor:
        return torch.cat([self.net(x.to(self.device)).cpu() for x in chunks])

    @torch.no_grad()
    def __call__(self, task) -> dict[str, float]:
        chunks = (
            task.sample(min(self.batch, self.count - i), self.seed + 1 + i) for i in range(0, self.count, self.batch)
        )
        fake = self._features(chunks)
        k, _ = kid(self.real, fake, subsets=10, subset_size=min(1000, self.real.shape[0], fake.shape[0]))
        return {"fid": fid(self.real, fake), "kid": k}
