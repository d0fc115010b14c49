"""Build a scene's walk: the registered factory, the generator it may need, and its latent space.

Walk factories take ``(latent_dim, seed, **options)``; those that also accept ``generator`` get
the scene's generator (the directions walk needs its w space).  ``space = "w"`` (or ``"auto"``
with a generator that has a mapping network) carries a z walk into w, where truncation applies.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .wspace import WSpaceWalk, has_w_space


def _takes(factory: Callable, name: str) -> bool:
    try:
        return name in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def make_walk(
    factory: Callable, generator: Any, seed: int, options: dict, space: str = "auto", truncation: float | None = None
) -> Any:
    kwargs = dict(options)
    if _takes(factory, "generator"):
        kwargs["generator"] = generator
        if truncation is not None and _takes(factory, "truncation"):
            kwargs["truncation"] = truncation
    walk = factory(latent_dim=generator.latent_dim, seed=seed, **kwargs)
    if getattr(walk, "space", "z") == "w":
        return walk
    if space == "w" or (space == "auto" and has_w_space(generator)):
        return WSpaceWalk(walk, generator, truncation)
    w_only = [
        s
        for s, z, w in zip(getattr(walk, "seeds", []), getattr(walk, "_keys", []), getattr(walk, "w_keys", None) or [])
        if w is not None and not z.any()
    ]
    if w_only:  # bank latents found by projection exist only in w
        raise ValueError(f'seed(s) {", ".join(map(repr, w_only))} exist only in w: walk in w (space = "auto" or "w")')
    return walk
