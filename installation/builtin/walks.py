"""Built-in latent walks, registered through ``register_walks``."""

from __future__ import annotations

from .. import hookimpl
from ..walks.builtin import builtin_walks


@hookimpl
def register_walks():
    return builtin_walks()
