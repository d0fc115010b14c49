"""Built-in latent walks, registered through ``register_walks``."""
from __future__ import annotations

from .. import hookimpl
from ..walks.slerp import SeedSlerp


@hookimpl
def register_walks():
    return {"slerp": SeedSlerp}
