"""FID, KID and perceptual path length at checkpoints: the figures artists compare models by, as they learn.

The real images' features are computed once; at each checkpoint ``count`` samples (fixed
seeds, so the figures follow the model and not the draw) are compared with them.  PPL needs
the generator as a show plays it (z, or w after the mapping network), which a training task
does not expose: the task is exported into a temporary folder (from a copy, so exporting's
side effects, e.g. the WGAN's batch-norm recalibration, never touch the run) and loaded by the
generator plugin of the same name, then measured by :func:`installation.studio.ppl.model_ppl`
exactly as ``installation ppl WEIGHTS --count N --seed S`` measures the exported weights.
The numbers go to the log line, the run's history and the checkpoint (``fid``, ``kid``, ``ppl``).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..studio.inception import load_inception
from ..studio.metrics import fid, kid
from ..studio.ppl import model_ppl

PPL_BATCH = 16  # pictures per batch (the paths drawn do not depend on it)


class _Stopped(Exception):
    """A stop (Ctrl-C, SIGTERM) came while measuring: the run saves now, without these figures."""


class _Watch:
    """A progress stand-in that ends the measurement between batches once a stop is requested."""

    def __init__(self, stop: Callable[[], bool]):
        self.stop = stop

    def advance(self, n: int = 1, note: str | None = None) -> None:
        if self.stop():
            raise _Stopped


class CheckpointMetrics:
    def __init__(
        self,
        features: Path | str,
        data,
        count: int,
        device: torch.device,
        seed: int = 0,
        batch: int = 32,
        ppl_count: int = 0,
        task_name: str | None = None,
    ):
        with torch.random.fork_rng(devices=[]):  # building the network draws from the global RNG the run uses
            self.net = load_inception(features).to(device).eval()
        self.device, self.count, self.seed, self.batch = device, max(4, int(count)), int(seed), batch
        self.ppl_count = max(0, int(ppl_count))
        self.load: Callable[[Path], Any] | None = None
        #: why PPL is not measured (a task no generator plugin plays), said once by the loop
        self.skipped: str | None = None
        if self.ppl_count and task_name is not None:
            self.load = _generator_loader(task_name, device)
            if self.load is None:
                self.skipped = f"ppl: no generator plugin plays {task_name} weights; path length not measured"
        real = data.images[: self.count]
        self.real = self._features(real[i : i + batch].float() / 255 for i in range(0, real.shape[0], batch))

    @torch.no_grad()
    def _features(self, chunks, watch: _Watch | None = None) -> torch.Tensor:
        out = []
        for x in chunks:
            out.append(self.net(x.to(self.device)).cpu())
            if watch is not None:
                watch.advance(x.shape[0])
        return torch.cat(out)

    @torch.no_grad()
    def __call__(self, task, stop: Callable[[], bool] = lambda: False) -> dict[str, float] | None:
        """The figures, or ``None`` when ``stop()`` turned true while measuring (checked between batches).

        A checkpoint's measurement can take a minute on a CPU; a Ctrl-C or SIGTERM must not wait
        for it (a service manager kills what does not stop in time), so it is abandoned instead.
        """
        with torch.random.fork_rng(devices=[]):  # measuring never changes what the run draws next
            try:
                return self._measure(task, _Watch(stop))
            except _Stopped:
                return None

    def _measure(self, task, watch: _Watch) -> dict[str, float]:
        chunks = (
            task.sample(min(self.batch, self.count - i), self.seed + 1 + i) for i in range(0, self.count, self.batch)
        )
        fake = self._features(chunks, watch)
        k, _ = kid(self.real, fake, subsets=10, subset_size=min(1000, self.real.shape[0], fake.shape[0]))
        figures = {"fid": fid(self.real, fake), "kid": k}
        if self.load is not None:
            figures["ppl"] = self.ppl(task, watch)
        return figures

    def ppl(self, task, watch: _Watch | None = None) -> float:
        """The path length of the task's weights as they would be exported now."""
        assert self.load is not None
        with tempfile.TemporaryDirectory(prefix="ppl-") as tmp:
            try:
                twin = copy.deepcopy(task)
            except Exception:  # a task that cannot be copied is exported itself
                twin = task
            generator = self.load(twin.export(Path(tmp)))
            res = model_ppl(generator, self.net, self.ppl_count, batch=PPL_BATCH, seed=self.seed, progress=watch)
            return res.value


def _generator_loader(task_name: str, device: torch.device) -> Callable[[Path], Any] | None:
    from ..plugins import make_plugin_manager

    make = make_plugin_manager().generators().get(task_name)
    if make is None:
        return None
    return lambda weights: make(checkpoint=str(weights), device=device)
