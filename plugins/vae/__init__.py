"""VAE watches and the deblur autoencoder.

Registers generator ``vae``, post stage ``deblur``, trainers ``vae`` and ``deblur``, the
procedural data set ``watches`` and the ``installation vae`` commands.  Heavy imports are
deferred to the factories so listing plugins stays fast.
"""

from __future__ import annotations

from installation.api import hookimpl


def _make_generator(checkpoint=None, device="cpu", **options):
    from .generator import VAEGenerator

    return VAEGenerator(checkpoint, device, **options)


def _make_deblur(device="cpu", **options):
    from .generator import DeblurStage

    return DeblurStage(device, **options)


def _vae_task(**options):
    from .train import VAETask

    return VAETask(**options)


def _deblur_task(**options):
    from .train import DeblurTask

    return DeblurTask(**options)


def _watches(out_dir, count, size, seed):
    from .watches import make_watches

    return make_watches(out_dir, count, size, seed)


@hookimpl
def register_generators():
    return {"vae": _make_generator}


@hookimpl
def register_post_processors():
    return {"deblur": _make_deblur}


@hookimpl
def register_trainers():
    return {"vae": _vae_task, "deblur": _deblur_task}


def _latents_walk(latent_dim, seed=0, **options):
    from .walk import LatentFileWalk

    return LatentFileWalk(latent_dim, seed, **options)


def _posterior_walk(latent_dim, seed=0, **options):
    from .walk import PosteriorWalk

    return PosteriorWalk(latent_dim, seed, **options)


@hookimpl
def register_walks():
    return {"latents": _latents_walk, "posterior": _posterior_walk}


@hookimpl
def register_commands(app):
    from .cli import register

    register(app)


@hookimpl
def register_datasets():
    return {"watches": _watches}
