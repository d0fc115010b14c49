"""Every hook a plugin can implement, one docstring each.

Core features are registered through these same hooks (see :mod:`installation.builtin`),
so a third-party plugin has exactly the powers a built-in has.  ``tests/test_docs.py``
fails when a hook here has no docstring or is missing from docs/plugins.md.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("installation")


@hookspec
def register_generators():
    """Return a mapping ``{name: factory}`` of generators this plugin provides.

    ``factory(checkpoint: str | None, device: torch.device, **options)`` returns an object
    implementing :class:`installation.api.Generator`.  ``checkpoint`` is the path a
    show file names (``None`` means the plugin's shipped weights); ``options`` are the scene's
    ``[generator]`` table minus ``plugin`` and ``checkpoint``.
    """


@hookspec
def register_post_processors():
    """Return a mapping ``{name: factory}`` of post-processing stages.

    ``factory(device: torch.device, **options)`` returns an object implementing
    :class:`installation.api.PostProcessor`; stages run on the generator's device on
    NCHW tensors before upload to GL.
    """


@hookspec
def register_walks():
    """Return a mapping ``{name: factory}`` of latent walks.

    ``factory(latent_dim: int, seed: int, **options)`` returns an object implementing
    :class:`installation.api.Walk`: a pure function of time and control state.
    """


@hookspec
def register_trainers():
    """Return a mapping ``{name: factory}`` of trainable models for ``installation train NAME``.

    ``factory(**options)`` returns an :class:`installation.api.TrainTask`; the shared
    loop in :mod:`installation.train.loop` drives it (checkpoints, resume, progress, samples).
    """


@hookspec
def register_datasets():
    """Return a mapping ``{name: maker}`` of procedural data sets for ``installation dataset procedural``.

    ``maker(out_dir: pathlib.Path, count: int, size: int, seed: int)`` writes ``count`` images
    of ``size``×``size`` pixels into ``out_dir`` and returns the list of paths written.
    """


@hookspec
def register_commands(app):
    """Add sub-commands to the ``installation`` typer application ``app``.

    Use ``app.add_typer`` or ``app.command``.  Advertise the same function as an entry point in
    the ``installation.commands`` group (``name = "module:register"``) and ``installation --help``
    lists the command without importing the plugin; the hook itself is called only for a
    command name the CLI finds in neither its own table nor those entry points.
    """


@hookspec
def register_inputs():
    """Return a mapping ``{name: factory}`` of control input sources (OSC, MIDI, audio, serial).

    ``factory(events, **options)`` returns an object with ``start()`` and ``stop()`` that puts
    :class:`installation.api.ControlEvent` objects on ``events`` from its own thread
    and never touches GL or model state.
    """


@hookspec
def register_outputs():
    """Return a mapping ``{type: factory}`` of outputs: where drawn frames go (a window, a
    recording, a network stream such as NDI).

    ``factory(**options)`` returns an object implementing :class:`installation.protocols.Output`;
    ``options`` are the show's ``[[outputs]]`` entry minus ``type``.  Each frame is drawn once and
    handed to every output of the run: ``open(canvas)`` once with the canvas size and frame rate,
    ``write(frame)`` per frame (``frame.rgb()`` is a shared CPU copy, read back at most once per
    frame; ``frame.texture`` the GL texture), ``close()`` at the end, always.
    """
