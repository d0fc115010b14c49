"""Super-resolution: a compact sub-pixel network (ESPCN class) ×2/×4, Lanczos fallback, spandrel extra.

Hooks: post stage "superres", trainer "superres", data set "srmix".
"""

from __future__ import annotations

from installation.api import hookimpl


@hookimpl
def register_post_processors():
    from .stage import make_superres

    return {"superres": make_superres}


@hookimpl
def register_trainers():
    from .train import SuperResTask

    return {"superres": SuperResTask}


@hookimpl
def register_datasets():
    from .data import make_srmix

    return {"srmix": make_srmix}
