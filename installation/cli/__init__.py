"""The ``installation`` command: one typer app with a sub-app per job.

Sub-commands live in sibling modules, each exposing ``register(app)``; plugins add more
through the ``register_commands`` hook.
"""
from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = (
    "run",
    "plugins",
    "train",
    "show",
    "render",
    "calibrate",
    "osc",
    "dataset",
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="installation",
        help="Runtime for generative art installations: run shows, render video, train models, calibrate projectors.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(app)
    from ..plugins import make_plugin_manager

    make_plugin_manager().hook.register_commands(app=app)
    return app


def main() -> None:
    build_app()()
