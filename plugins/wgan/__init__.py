"""WGAN bikes: a DCGAN-shaped 64² Wasserstein GAN, its trainer, procedural bikes and a white-background filter.

Hooks: generator "wgan" (shipped weights: bikes), trainer "wgan", data set "bikes", and the
``installation wgan filter-white`` command.
"""

from __future__ import annotations

from installation.api import hookimpl


@hookimpl
def register_generators():
    from .loader import make_wgan

    return {"wgan": make_wgan}


@hookimpl
def register_trainers():
    from .train import WGANTask

    return {"wgan": WGANTask}


@hookimpl
def register_datasets():
    from .bikes import make_bikes

    return {"bikes": make_bikes}


@hookimpl
def register_commands(app):
    from .whitebg import register_cli

    register_cli(app)
