"""``installation plugins``: what loaded, from where, and what it provides."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("plugins")
    def plugins(
        plugins_dir: Path | None = typer.Option(
            None, "--plugins-dir", help="Also load plugins from *.py files in this folder."
        ),
    ):
        """List loaded plugins with their source and hooks, the names they provide, and failures."""
        from rich.console import Console
        from rich.table import Table

        from ..plugins import make_plugin_manager

        reg = make_plugin_manager(plugins_dir)
        console = Console()
        table = Table("plugin", "source", "hooks")
        for info in reg.info():
            table.add_row(info.name, info.source, ", ".join(info.hooks))
        console.print(table)
        provided = Table("kind", "names")
        for kind in ("generators", "walks", "post_processors", "trainers", "datasets", "inputs"):
            provided.add_row(kind.replace("_", " "), ", ".join(sorted(getattr(reg, kind)())) or "-")
        console.print(provided)
        for f in reg.failures:
            console.print(f"[red]failed[/] {f.name} ({f.source}): {f.error}")
