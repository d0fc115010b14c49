"""Built-in latent walks, registered through ``register_walks``."""

from __future__ import annotations

from .. import hookimpl
from ..walks.loops import make_loop, make_noise
from ..walks.momentum import MomentumWalk
from ..walks.slerp import SeedSlerp
from ..walks.steered import SteeredWalk
from ..walks.wspace import DirectionsWalk


@hookimpl
def register_walks():
    return {
        "slerp": SeedSlerp,
        "loop": make_loop,
        "noise": make_noise,
        "random": MomentumWalk,
        "steered": SteeredWalk,
        "directions": DirectionsWalk,
    }
