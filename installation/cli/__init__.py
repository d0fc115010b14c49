"""The ``installation`` command: one typer app with a sub-command per job, loaded when used.

Sub-commands live in sibling modules, each exposing ``register(app)``.  ``installation --help``
imports none of them (nor torch, nor any plugin): it lists :data:`COMMANDS` and the plugin
commands named in the ``installation.commands`` entry points (``name = "module:register"``) from
their metadata, and a command's module is imported only when that command runs (or its own
``--help`` is asked for).  A name found in neither is looked up through the plugins'
``register_commands`` hook, so plugins without the entry point still work (loading them all).

Every command runs inside the one error boundary (:func:`.common.error_boundary`): located
problems in a file print as ``file:line: field: message (hint)`` and exit 1.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

import typer
from typer.core import TyperGroup

from .common import error_boundary

#: built-in sub-commands: name → (module in this package, the summary ``--help`` shows).
#: tests/test_cli_lazy.py checks each summary against the command's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "run",
        "Run a show. Without a display, use --headless (and --record out.mp4 to keep the result). Esc quits.",
    ),
    "plugins": ("plugins", "List loaded plugins with their source and hooks, the names they provide, and failures."),
    "train": ("train", "Train a model; weights are exported to OUT as safetensors + JSON when it finishes."),
    "render": (
        "render",
        "Render SHOW from --from for --duration seconds of show time to OUT (headless, fixed-step clock).",
    ),
    "calibrate": (
        "calibrate",
        "Calibrate projectors: corner pin, mesh warp, soft-edge blend, colour; saves to PROFILE.",
    ),
    "show": ("show", "Show files: validate, schema for editors, timeline at a time."),
    "osc": ("osc", "OSC address map, test sender, monitor and MIDI/OSC learn."),
    "seeds": ("seeds", "Contact sheets of a model's seeds; keep favourite latents in a seed bank."),
    "metrics": (
        "metrics",
        "FID, KID, precision and recall of B against A (folders or models); --ppl: path length of models.",
    ),
    "ppl": ("metrics", "Perceptual path length of MODEL (Karras et al. 2019)."),
    "dataset": (
        "dataset",
        "Make a folder of square training images (JPEG) from a video clip, images, or a procedural maker.",
    ),
}

#: entry-point group naming plugin sub-commands: ``vae = "plugins.vae.cli:register"``
COMMAND_ENTRY_POINTS = "installation.commands"


def plugin_commands() -> dict[str, Any]:
    """Plugin sub-commands advertised in entry-point metadata: name → entry point (not loaded)."""
    out: dict[str, Any] = {}
    for ep in entry_points(group=COMMAND_ENTRY_POINTS):
        if ep.name not in COMMANDS:
            out.setdefault(ep.name, ep)
    return out


class _Listed(typer.core.TyperCommand):
    """A stand-in that only describes a command for the help listing; never run."""


class LazyGroup(TyperGroup):
    """The root group: lists every command from static data, imports one only to run it."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._listing = False
        self._plugin_eps = plugin_commands()
        for name, (_module, summary) in COMMANDS.items():
            self.commands.setdefault(name, _Listed(name=name, help=summary))
        for name, ep in self._plugin_eps.items():
            where = ep.value.split(":")[0]
            self.commands.setdefault(
                name, _Listed(name=name, help=f"Plugin commands from {where} (see `{name} --help`).")
            )

    def get_command(self, ctx: Any, cmd_name: str) -> Any | None:
        cmd = self.commands.get(cmd_name)
        if self._listing:
            return cmd
        if cmd is None or isinstance(cmd, _Listed):
            cmd = self._load(cmd_name)
        return cmd

    def _load(self, name: str) -> Any | None:
        """Import the module behind ``name`` and return its real command (``None``: no such command)."""
        scratch = typer.Typer()
        if name in COMMANDS:
            importlib.import_module(f"{__name__}.{COMMANDS[name][0]}").register(scratch)
        elif name in self._plugin_eps:
            self._plugin_eps[name].load()(scratch)
        else:  # a plugin without the entry point: ask every plugin (imports them all)
            from ..plugins import make_plugin_manager

            make_plugin_manager().hook.register_commands(app=scratch)
        cmd = typer.main.get_group(scratch).commands.get(name)
        if cmd is not None:
            self.commands[name] = cmd
        return cmd

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Any) -> Any:
        with error_boundary():
            return super().invoke(ctx)


def build_app() -> typer.Typer:
    app = typer.Typer(
        cls=LazyGroup,
        name="installation",
        help="Runtime for generative art installations: run shows, render video, train models, calibrate projectors.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """Runtime for generative art installations: run shows, render video, train models, calibrate projectors."""

    return app


def main() -> None:
    build_app()()
