"""Latent walks: pure functions of (time, control state), deterministic given a seed.

slerp (keyframe seeds with holds), loop and noise (seamless loops), random (momentum, never
repeats), steered (the performer sets speed and direction), directions (principal directions
of w).  :func:`make_walk` builds one for a scene, in z or w as the generator allows.
"""

from .factory import make_walk
from .loops import HarmonicLoop
from .momentum import MomentumWalk
from .slerp import SeedSlerp, seed_latent, slerp
from .steered import SteeredWalk
from .wspace import DirectionsWalk, WSpaceWalk, has_w_space, principal_directions

__all__ = [
    "make_walk",
    "HarmonicLoop",
    "MomentumWalk",
    "SeedSlerp",
    "seed_latent",
    "slerp",
    "SteeredWalk",
    "DirectionsWalk",
    "WSpaceWalk",
    "has_w_space",
    "principal_directions",
]
