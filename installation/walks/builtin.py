"""The runtime's own latent walks by name: registered by :mod:`installation.builtin.walks`, and
what a show check uses when it has no plugin registry (the walks layer never imports plugins)."""

from __future__ import annotations

from .loops import make_loop, make_noise
from .momentum import MomentumWalk
from .slerp import SeedSlerp
from .steered import SteeredWalk
from .wspace import DirectionsWalk


def builtin_walks() -> dict:
    return {
        "slerp": SeedSlerp,
        "loop": make_loop,
        "noise": make_noise,
        "random": MomentumWalk,
        "steered": SteeredWalk,
        "directions": DirectionsWalk,
    }
