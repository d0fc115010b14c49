"""Walks in the w space of a mapping-network generator (StyleGAN2).

A generator that can walk in w exposes ``mapping(z, psi) -> [N, num_ws, w_dim]``, ``mean_w()``,
``num_ws``, ``w_dim`` and ``synthesize(ws)``.  w is the space where StyleGAN's styles are
disentangled: interpolating there is straighter perceptually, truncation is a lerp toward the
mean, and principal directions of sampled w are meaningful "sliders" (GANSpace).

* :class:`WSpaceWalk` carries any z walk into w: a keyframe walk (``segment``) lerps between its
  keyframes' w, any other walk is mapped point by point; truncation ``psi`` is applied after.
* :class:`DirectionsWalk` moves along the principal directions of w, each oscillating with its
  own period and offset live by ``control["/direction/K"]`` (in standard deviations).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import torch

from .common import OptionError, control_value, gaussian, number, whole

W_ATTRS = ("mapping", "mean_w", "num_ws", "w_dim", "synthesize")
_cache: weakref.WeakKeyDictionary[Any, dict] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def has_w_space(generator: Any) -> bool:
    return all(hasattr(generator, a) for a in W_ATTRS)


def _device(generator: Any) -> torch.device:
    return torch.device(getattr(generator, "device", "cpu"))


@torch.no_grad()
def map_z(generator: Any, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
    """z ``[N, latent_dim]`` → w+ ``[N, num_ws, w_dim]`` on the CPU, float32."""
    return generator.mapping(z.float().to(_device(generator)), psi).float().cpu()


@torch.no_grad()
def principal_directions(generator: Any, samples: int = 4096, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(directions ``[w_dim, w_dim]`` as rows, standard deviations ``[w_dim]``) of w, cached per model.

    Computed once per generator object (and sample count) from ``samples`` mapped Gaussian z:
    the first rows are the directions in which the model's styles vary most.
    """
    key = (int(samples), int(seed))
    with _cache_lock:
        try:
            hit = _cache.get(generator, {}).get(key)
        except TypeError:  # not weak-referenceable: no cache
            hit = None
        if hit is not None:
            return hit
        latent_dim = int(generator.latent_dim)
        ws = []
        for chunk in gaussian(seed + 104729, int(samples), latent_dim).float().split(512):
            ws.append(map_z(generator, chunk, 1.0)[:, 0])
        w = torch.cat(ws).double()
        w = w - w.mean(0, keepdim=True)
        _, s, vh = torch.linalg.svd(w, full_matrices=False)
        result = (vh.float(), (s / math.sqrt(max(w.shape[0] - 1, 1))).float())
        try:
            _cache.setdefault(generator, {})[key] = result
        except TypeError:
            pass
        return result


def truncate(w: torch.Tensor, mean: torch.Tensor, psi: float) -> torch.Tensor:
    return w if psi == 1.0 else mean + psi * (w - mean)


class WSpaceWalk:
    """Any z walk, carried into w+ (``latent`` returns ``[num_ws, w_dim]``)."""

    space = "w"

    def __init__(self, inner: Any, generator: Any, truncation: float | None = None):
        if not has_w_space(generator):
            raise ValueError(f"generator {type(generator).__name__} has no w space (needs {', '.join(W_ATTRS)})")
        self.inner = inner
        self.generator = generator
        self.num_ws, self.w_dim = int(generator.num_ws), int(generator.w_dim)
        self.latent_dim = self.num_ws * self.w_dim
        self.psi = 1.0 if truncation is None else float(truncation)
        self.mean = generator.mean_w().float().cpu().reshape(-1)[-self.w_dim :]
        self._keys = None
        if hasattr(inner, "segment") and hasattr(inner, "_keys"):
            self._keys = map_z(generator, torch.stack(inner._keys), 1.0)
            for i, w in enumerate(getattr(inner, "w_keys", None) or []):
                if w is not None:  # a bank entry's own w (the same as its z mapped, or one found by projection)
                    self._keys[i] = w.reshape(self._keys[i].shape)

    def restart(self) -> None:
        if hasattr(self.inner, "restart"):
            self.inner.restart()

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        psi = control_value(control, "/walk/truncation", self.psi)
        if self._keys is not None:
            i, j, x = self.inner.segment(t)
            w = self._keys[i] + (self._keys[j] - self._keys[i]) * x
        else:
            w = map_z(self.generator, self.inner.latent(t, control).reshape(1, -1), 1.0)[0]
        return truncate(w, self.mean, psi)


def _per_direction(value: Any, k: int, name: str, positive: bool) -> list[float]:
    if isinstance(value, (list, tuple)):
        if len(value) != k:
            raise OptionError(
                name, f"has {len(value)} entries for {k} directions (give one number, or one per direction)"
            )
        return [number(f"{name}[{i}]", v, positive=positive) for i, v in enumerate(value)]
    return [number(name, value, positive=positive)] * k


class DirectionsWalk:
    """Oscillate along the top principal directions of w around a base point (``space = "w"``).

    ``amplitude`` (standard deviations, one value or one per direction) and ``period`` (seconds,
    one value or per direction) shape the automatic motion; ``control["/direction/K"]`` adds an
    offset along direction K.  The base is the mean w (``base = "mean"``) or a seeded sample.
    """

    space = "w"

    def __init__(
        self,
        latent_dim: int,
        seed: int = 0,
        *,
        generator: Any,  # required: `show validate` leaves walks that need the model to the run
        components: int = 4,
        amplitude: float | list[float] = 1.5,
        period: float | list[float] = 20.0,
        base: str = "sample",
        samples: int = 4096,
        truncation: float | None = None,
    ):
        if generator is None or not has_w_space(generator):
            raise ValueError("the directions walk needs a generator with a w space (mapping, mean_w, synthesize)")
        self.generator = generator
        self.num_ws, self.w_dim = int(generator.num_ws), int(generator.w_dim)
        self.latent_dim = self.num_ws * self.w_dim
        components, samples = whole("components", components, 1), whole("samples", samples, 2)
        if base not in ("mean", "sample"):
            raise OptionError("base", f"must be 'mean' or 'sample', got {base!r}")
        dirs, std = principal_directions(generator, samples)
        k = max(1, min(components, dirs.shape[0]))
        self.directions, self.std = dirs[:k], std[:k]
        self.amplitude = torch.tensor(_per_direction(amplitude, k, "amplitude", False), dtype=torch.float32)
        self.period = torch.tensor(_per_direction(period, k, "period", True), dtype=torch.float32)
        self.phase = torch.rand(k, generator=torch.Generator().manual_seed(int(seed)))
        self.mean = generator.mean_w().float().cpu().reshape(-1)[-self.w_dim :]
        if base == "mean":
            self.base = self.mean.expand(self.num_ws, -1).clone()
        elif base == "sample":
            self.base = map_z(generator, gaussian(seed, 1, int(generator.latent_dim)).float(), 1.0)[0]
        else:
            raise ValueError(f"base must be 'mean' or 'sample', got {base!r}")
        self.psi = 1.0 if truncation is None else float(truncation)

    def coefficients(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        """Offset along each direction at ``t``, in standard deviations."""
        auto = self.amplitude * torch.sin(2 * math.pi * (float(t) / self.period + self.phase))
        live = torch.tensor([control_value(control, f"/direction/{i}", 0.0) for i in range(len(auto))])
        return auto + live

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        offset = (self.coefficients(t, control) * self.std) @ self.directions  # [w_dim]
        w = self.base + offset.unsqueeze(0)
        return truncate(w, self.mean, control_value(control, "/walk/truncation", self.psi))
