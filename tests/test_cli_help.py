"""Every option's help text reaches the terminal whole: rich markup must not swallow a bracket.

Help strings give defaults in brackets (``[data/NAME]``, ``[[hosts]]``); rich reads an unescaped
``[word]`` as a style tag and drops it, so ``--duration`` once read "Length to preview ." This
walks every command of the real CLI and checks each bracketed part of each help is printed.
"""
from __future__ import annotations

import re

import typer
from typer.testing import CliRunner

from installation.cli import build_app


def _commands(cmd, path: tuple[str, ...] = ()):
    """Every command (typer ships its own click: duck-typed, not isinstance)."""
    yield path, cmd
    if hasattr(cmd, "list_commands"):
        ctx = cmd.context_class(cmd)
        for name in cmd.list_commands(ctx):  # through get_command: sub-apps load lazily
            sub = cmd.get_command(ctx, name)
            if sub is not None:
                yield from _commands(sub, path + (name,))


def test_bracketed_parts_of_every_help_are_printed():
    app = build_app()
    root = typer.main.get_command(app)
    runner = CliRunner()
    missing, seen = [], 0
    for path, cmd in _commands(root):
        helps = [p.help for p in cmd.params if getattr(p, "param_type_name", "") == "option" and p.help]
        wanted = [m.replace("\\[", "[") for h in helps for m in re.findall(r"(?:\\?\[)+[^\]\s][^\]]*\]+", h)]
        if not wanted:
            continue
        seen += 1
        out = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"}).output
        flat = " ".join(out.replace("│", " ").split())
        missing += [f"{' '.join(path)}: {w}" for w in wanted if " ".join(w.split()) not in flat]
    assert seen >= 10  # the walk reached the commands (lazy sub-apps included)
    assert not missing, missing
