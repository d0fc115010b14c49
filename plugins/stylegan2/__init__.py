"""StyleGAN2 plugin: the network, loaders for files trained elsewhere, training, the wave data set.

Hooks: ``stylegan2`` generator (shipped wave weights when a show names no checkpoint), the
``stylegan2`` trainer, and the ``waves`` procedural data set.
"""

from __future__ import annotations

from installation.api import hookimpl


@hookimpl
def register_generators():
    from .generator import make_generator

    return {"stylegan2": make_generator}


@hookimpl
def register_trainers():
    from .train import make_task

    return {"stylegan2": make_task}


@hookimpl
def register_datasets():
    from .waves import make_waves

    return {"waves": make_waves}
