"""Latent walks: pure functions of (time, control state), deterministic given a seed."""
from .slerp import SeedSlerp, seed_latent, slerp

__all__ = ["SeedSlerp", "seed_latent", "slerp"]
