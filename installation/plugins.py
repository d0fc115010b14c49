"""Plugin manager factory.

Order of registration: built-ins first, then packages advertising the ``installation.plugins``
entry point, then any ``*.py`` files in an optional plugins directory.  A plugin that fails to
import is recorded in :attr:`PluginRegistry.failures` instead of stopping the runtime: one
broken plugin must cost only the scenes that use it.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "installation.plugins"
BUILTIN_MODULES = (
    "installation.builtin.noisefield",
    "installation.builtin.walks",
    "installation.builtin.post",
    "installation.builtin.outputs",
    "installation.control.builtin_inputs",
)


@dataclass
class PluginInfo:
    name: str
    source: str  # "builtin", "entry point <dist>", or a file path
    hooks: list[str] = field(default_factory=list)


@dataclass
class PluginFailure:
    name: str
    source: str
    error: str


class PluginRegistry:
    """A pluggy manager plus where each plugin came from and which ones failed to load."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self.sources: dict[str, str] = {}
        self.failures: list[PluginFailure] = []

    @property
    def hook(self):
        return self.pm.hook

    def register(self, module: ModuleType, name: str, source: str) -> None:
        if self.pm.is_registered(module) or self.pm.has_plugin(name):
            return
        self.pm.register(module, name=name)
        self.sources[name] = source

    def info(self) -> list[PluginInfo]:
        out = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            out.append(PluginInfo(name, self.sources.get(name, "?"), hooks))
        return out

    def _collect(self, hook_name: str) -> dict:
        merged: dict = {}
        for mapping in getattr(self.pm.hook, hook_name)():
            merged.update(mapping or {})
        return merged

    def generators(self) -> dict:
        return self._collect("register_generators")

    def post_processors(self) -> dict:
        return self._collect("register_post_processors")

    def walks(self) -> dict:
        return self._collect("register_walks")

    def trainers(self) -> dict:
        return self._collect("register_trainers")

    def datasets(self) -> dict:
        return self._collect("register_datasets")

    def inputs(self) -> dict:
        return self._collect("register_inputs")

    def outputs(self) -> dict:
        return self._collect("register_outputs")


def _load_file(path: Path) -> ModuleType:
    name = f"installation_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_plugin_manager(plugins_dir: Path | str | None = None, entry_points_enabled: bool = True) -> PluginRegistry:
    """Build the registry: built-ins, then entry points, then ``plugins_dir/*.py``."""
    pm = pluggy.PluginManager("installation")
    pm.add_hookspecs(hookspecs)
    reg = PluginRegistry(pm)
    for modname in BUILTIN_MODULES:
        reg.register(importlib.import_module(modname), modname.rsplit(".", 1)[-1], "builtin")
    if entry_points_enabled:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep.dist, "name", "?") if ep.dist else "?"
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not stop the show
                reg.failures.append(PluginFailure(ep.name, f"entry point {dist}", f"{type(exc).__name__}: {exc}"))
                continue
            reg.register(module, ep.name, f"entry point {dist} ({ep.value})")
    if plugins_dir is not None:
        for path in sorted(Path(plugins_dir).glob("*.py")):
            try:
                module = _load_file(path)
            except Exception as exc:
                reg.failures.append(PluginFailure(path.stem, str(path), f"{type(exc).__name__}: {exc}"))
                continue
            reg.register(module, path.stem, str(path))
    pm.check_pending()
    return reg
