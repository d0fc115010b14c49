"""Spherical interpolation through keyframe seeds.

Gaussian latents concentrate near a sphere of radius sqrt(dim); linear interpolation cuts
through the low-density interior (washed-out frames mid-way), slerp stays on the shell.
"""

from __future__ import annotations

import bisect
import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .common import OptionError, number, whole
from .named import resolve_keys, seed_latent  # noqa: F401  (seed_latent: imported from here too)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation, falling back to lerp for (nearly) parallel vectors; norms are lerped."""
    na, nb = a.norm(), b.norm()
    ua, ub = a / na, b / nb
    dot = float((ua * ub).sum().clamp(-1.0, 1.0))
    if abs(dot) > 0.9995:
        return a + (b - a) * t
    omega = math.acos(dot)
    so = math.sin(omega)
    direction = (math.sin((1 - t) * omega) / so) * ua + (math.sin(t * omega) / so) * ub
    return direction * (na + (nb - na) * t)


def smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


#: ``ease`` names (the show's transition curves, less ``cut``): fraction of a slerp → fraction eased
EASES = {
    "linear": lambda x: x,
    "smooth": smoothstep,
    "ease-in": lambda x: x * x,
    "ease-out": lambda x: 1 - (1 - x) * (1 - x),
    "ease-in-out": lambda x: 0.5 - 0.5 * math.cos(math.pi * x),
}


def _ease(value: Any) -> str:
    if value is True or value is False:
        return "smooth" if value else "linear"
    if isinstance(value, str) and value in EASES:
        return value
    close = difflib.get_close_matches(str(value), list(EASES), n=1)
    raise OptionError(
        "ease",
        f"unknown ease {value!r}"
        + (f"; did you mean {close[0]!r}?" if close else f"; use true, false or one of {', '.join(EASES)}"),
    )


def _per_seed(value: float | Sequence[float], n: int, name: str) -> list[float]:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise OptionError(name, f"has {len(value)} entries for {n} seeds (give one number, or one per seed)")
        return [number(f"{name}[{k}]", v, minimum=0) for k, v in enumerate(value)]
    return [number(name, value, minimum=0)] * n


class SeedSlerp:
    """Visit ``seeds`` in a circle: hold each for ``hold`` s, then slerp to the next over ``transition`` s.

    ``hold`` and ``transition`` may be lists (one entry per seed).  The walk is periodic: the
    last seed flows back into the first, so a gallery loop never jumps.  A seed may be the
    name of a latent in the seed bank file ``bank`` (see :mod:`.named`).
    """

    def __init__(
        self,
        latent_dim: int,
        seed: int = 0,
        seeds: Sequence[int | str] | None = None,
        hold: float | Sequence[float] = 0.0,
        transition: float | Sequence[float] = 4.0,
        ease: bool | str = True,
        bank: str | None = None,
        generator: Any = None,
    ):
        self.latent_dim = int(latent_dim)
        if seeds is None:  # omitted: four seeds counted from the walk's seed
            self.seeds: list[int | str] = [seed + i for i in range(4)]
        elif not isinstance(seeds, (list, tuple)) or not seeds:
            raise OptionError(
                "seeds",
                "must list at least one seed, e.g. seeds = [1, 2, 3] (omit it for four seeds "
                "counted from the walk's seed)",
            )
        else:
            # a name is a seed-bank entry (resolved below); anything else must be a whole number
            self.seeds = [
                s if isinstance(s, str) else whole(f"seeds[{k}]", s, minimum=-(2**63)) for k, s in enumerate(seeds)
            ]
        n = len(self.seeds)
        self.holds = _per_seed(hold, n, "hold")
        self.transitions = _per_seed(transition, n, "transition")
        if sum(self.holds) + sum(self.transitions) <= 0:
            raise OptionError("transition", "hold and transition are all zero: the walk would never move")
        self.hold, self.transition = self.holds[0], self.transitions[0]
        self.ease_name = _ease(ease)
        self.ease = self.ease_name != "linear"
        self._ease_fn = EASES[self.ease_name]
        #: w of bank entries that have one (mapping-network models), for a w-space walk
        self._keys, self.w_keys = resolve_keys(self.seeds, self.latent_dim, bank, generator)
        self._starts = [0.0]
        for h, tr in zip(self.holds, self.transitions):
            self._starts.append(self._starts[-1] + h + tr)

    @property
    def period(self) -> float:
        return self._starts[-1]

    def segment(self, t: float) -> tuple[int, int, float]:
        """(from key, to key, eased fraction) at time ``t``: what a w-space walk lerps between."""
        t = t % self.period
        i = min(bisect.bisect_right(self._starts, t) - 1, len(self._keys) - 1)
        local = t - self._starts[i]
        j = (i + 1) % len(self._keys)
        if local < self.holds[i] or self.transitions[i] <= 0:
            return i, j, 0.0
        x = (local - self.holds[i]) / self.transitions[i]
        return i, j, self._ease_fn(min(max(x, 0.0), 1.0))

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        i, j, x = self.segment(t)
        if x <= 0.0:
            return self._keys[i].clone()
        return slerp(self._keys[i], self._keys[j], x)
