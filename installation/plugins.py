"""Plugin manager factory: built-ins, entry points, ``--plugins-dir``; contract checks and collisions.

Order of registration: built-ins first, then packages advertising the ``installation.plugins``
entry point, then any ``*.py`` files in an optional plugins directory.  A plugin that fails to
import is recorded in :attr:`PluginRegistry.failures` instead of stopping the runtime: one
broken plugin must cost only the scenes that use it.

Each ``register_*`` hook is called once per plugin, and every contribution is checked before it
is offered: a mapping of names to callables, a factory that takes the arguments the runtime
passes, a class that has its protocol's methods.  What a factory builds is checked against the
protocol when it is built (:class:`ContractError` naming the plugin and the missing members).
A name two plugins register is an error naming both: the first registered (built-ins, then
entry points, then the plugins directory) keeps it and the other is refused and recorded, so a
file in a plugins directory can never silently replace a built-in.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

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
    name: str  # the plugin's name
    source: str
    error: str
    #: contribution names refused (empty when the whole plugin failed to import)
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kind:
    """One kind of contribution: its hook, the protocol its objects implement, how factories are called."""

    hook: str
    label: str
    protocol: str | None  # "module:Class" (imported only when checking)
    keywords: tuple[str, ...] = ()  # passed by name
    positional: int = 0  # passed by position

    def protocol_class(self) -> type | None:
        if self.protocol is None:
            return None
        module, _, name = self.protocol.partition(":")
        return getattr(importlib.import_module(module), name)


KINDS: dict[str, Kind] = {
    "generators": Kind(
        "register_generators", "generator", "installation.protocols:Generator", ("checkpoint", "device")
    ),
    "post_processors": Kind(
        "register_post_processors", "post stage", "installation.protocols:PostProcessor", ("device",)
    ),
    "walks": Kind("register_walks", "walk", "installation.protocols:Walk", ("latent_dim", "seed")),
    "trainers": Kind("register_trainers", "trainer", "installation.train.loop:TrainTask"),
    "datasets": Kind("register_datasets", "data set", None, positional=4),
    "inputs": Kind("register_inputs", "input", "installation.protocols:Input", positional=1),
    "outputs": Kind("register_outputs", "output", "installation.protocols:Output"),
}


class CheckedFactory:
    """A registered factory whose product is checked against its protocol, naming the plugin.

    ``inspect.signature`` sees the wrapped factory (``__wrapped__``), so option checks and
    ``generator=`` detection work unchanged.
    """

    def __init__(self, factory: Callable, protocol: str | None, what: str):
        self.factory = factory
        self.protocol = protocol
        self.what = what
        functools.update_wrapper(self, factory, updated=())

    def __call__(self, *args, **kwargs):
        obj = self.factory(*args, **kwargs)
        if self.protocol is not None:
            from .protocols import check_contribution

            module, _, name = self.protocol.partition(":")
            check_contribution(obj, getattr(importlib.import_module(module), name), self.what)
        return obj

    def __getattr__(self, name: str):
        """Optional members a plugin hangs on its factory (e.g. ``probe(path)``) stay reachable."""
        if name.startswith("__") or name == "factory":
            raise AttributeError(name)
        return getattr(self.factory, name)

    def __repr__(self) -> str:
        return f"<checked {self.what}: {self.factory!r}>"


def _call_problem(factory: Callable, kind: Kind) -> str | None:
    """Why the runtime cannot call ``factory`` the way it calls a ``kind`` factory, or ``None``."""
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # builtins and some C callables have no signature: trust them
        return None
    by_name = {p.name: p for p in params}
    if kind.keywords and not any(p.kind is p.VAR_KEYWORD for p in params):
        lacking = [
            k
            for k in kind.keywords
            if k not in by_name
            or by_name[k].kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_POSITIONAL)
        ]
        if lacking:
            takes = ", ".join(f"{k}=" for k in lacking)
            called = ", ".join(f"{k}=..." for k in kind.keywords)
            return f"its factory does not take {takes} (it is called as factory({called}, **options))"
    if kind.positional and not any(p.kind is p.VAR_POSITIONAL for p in params):
        n = sum(
            1 for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        )
        if n < kind.positional:
            return f"its factory takes {n} positional argument(s), the runtime passes {kind.positional}"
    return None


def _built_class(factory: Callable) -> type | None:
    """The class a factory builds when that is known without calling it (the class itself, or a return annotation)."""
    if isinstance(factory, type):
        return factory
    try:
        ret = typing.get_type_hints(factory).get("return")
    except Exception:  # unresolvable string annotations: not knowable statically
        return None
    return ret if isinstance(ret, type) and not getattr(ret, "_is_protocol", False) else None


class PluginRegistry:
    """A pluggy manager plus where each plugin came from, what it contributes, and what was refused."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self.sources: dict[str, str] = {}
        self._failures: list[PluginFailure] = []  # plugins that did not load
        self._refused: dict[str, list[PluginFailure]] = {}  # per kind: contributions refused
        self._tables: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, dict[str, str]] = {}

    @property
    def hook(self):
        return self.pm.hook

    @property
    def failures(self) -> list[PluginFailure]:
        """Plugins that failed to import and contributions refused at registration (all kinds are checked first)."""
        for kind in KINDS:
            self._table(kind)
        return self._failures + [f for kind in KINDS for f in self._refused[kind]]

    def register(self, module: object, name: str, source: str) -> None:
        """Add a plugin (a module, or any object with hook implementations) under ``name``."""
        if self.pm.is_registered(module):
            return
        if self.pm.has_plugin(name):
            self._failures.append(
                PluginFailure(
                    name,
                    source,
                    f"a plugin named {name!r} is already registered from "
                    f"{self.sources.get(name, '?')}; this one was not loaded (rename it)",
                )
            )
            return
        self.pm.register(module, name=name)
        self.sources[name] = source
        self._tables.clear()  # collected again, with its checks, on next use
        self._refused.clear()

    def info(self) -> list[PluginInfo]:
        out = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            out.append(PluginInfo(name, self.sources.get(name, "?"), hooks))
        return out

    def owner(self, kind: str, name: str) -> str | None:
        """The plugin whose contribution ``name`` of ``kind`` (e.g. ``"generators"``) is in use."""
        self._table(kind)
        return self._owners[kind].get(name)

    def _refuse(self, plugin: str, error: str, names: tuple[str, ...] = (), kind: str | None = None) -> None:
        failure = PluginFailure(plugin, self.sources.get(plugin, "?"), error, names)
        (self._failures if kind is None else self._refused.setdefault(kind, [])).append(failure)

    def _table(self, kind_name: str) -> dict[str, Any]:
        if kind_name in self._tables:
            return self._tables[kind_name]
        kind = KINDS[kind_name]
        table: dict[str, Any] = {}
        owners: dict[str, str] = {}
        self._refused[kind_name] = []
        refuse = functools.partial(self._refuse, kind=kind_name)
        caller = getattr(self.pm.hook, kind.hook)
        for impl in caller.get_hookimpls():  # registration order: built-ins first
            if impl.hookwrapper or getattr(impl, "wrapper", False):
                continue
            plugin = impl.plugin_name
            where = f"plugin {plugin!r} ({self.sources.get(plugin, '?')})"
            try:
                mapping = impl.function()
            except Exception as exc:  # a broken hook costs its plugin's contributions only
                refuse(plugin, f"{kind.hook}() raised {type(exc).__name__}: {exc}")
                continue
            if mapping is None:
                continue
            if not isinstance(mapping, typing.Mapping):
                refuse(plugin, f"{kind.hook}() returned {type(mapping).__name__}, expected a mapping {{name: factory}}")
                continue
            for name, factory in mapping.items():
                what = f"{kind.label} {name!r} of {where}"
                problem = self._check(name, factory, kind, what, where)
                if problem is None and name in table:
                    first = owners[name]
                    problem = (
                        f"{kind.label} {name!r} is registered by both plugin {first!r} "
                        f"({self.sources.get(first, '?')}) and plugin {plugin!r} ({self.sources.get(plugin, '?')}); "
                        f"the first keeps it, the second is refused (rename one)"
                    )
                    refuse(plugin, problem, (str(name),))
                    continue
                if problem is not None:
                    refuse(plugin, problem, (str(name),))
                    continue
                table[name] = CheckedFactory(factory, kind.protocol, what)
                owners[name] = plugin
        self._tables[kind_name] = table
        self._owners[kind_name] = owners
        return table

    @staticmethod
    def _check(name: Any, factory: Any, kind: Kind, what: str, where: str) -> str | None:
        if not isinstance(name, str) or not name:
            return f"{kind.label} name {name!r} of {where} is not a non-empty string"
        if not callable(factory):
            return f"{what} is {type(factory).__name__}, not a factory (a class or function)"
        problem = _call_problem(factory, kind)
        if problem:
            return f"{what}: {problem}"
        protocol = kind.protocol_class()
        built = _built_class(factory)
        if protocol is not None and built is not None:
            from .protocols import missing_members

            missing = missing_members(built, protocol, methods_only=True)
            if missing:
                return (
                    f"{what} does not implement {protocol.__name__}: class {built.__name__} lacks {', '.join(missing)}"
                )
        return None

    def generators(self) -> dict:
        return dict(self._table("generators"))

    def post_processors(self) -> dict:
        return dict(self._table("post_processors"))

    def walks(self) -> dict:
        return dict(self._table("walks"))

    def trainers(self) -> dict:
        return dict(self._table("trainers"))

    def datasets(self) -> dict:
        return dict(self._table("datasets"))

    def inputs(self) -> dict:
        return dict(self._table("inputs"))

    def outputs(self) -> dict:
        return dict(self._table("outputs"))


def _load_file(path: Path) -> ModuleType:
    name = f"installation_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # only for a name without a .py suffix
        raise ImportError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
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
                reg._failures.append(PluginFailure(ep.name, f"entry point {dist}", f"{type(exc).__name__}: {exc}"))
                continue
            reg.register(module, ep.name, f"entry point {dist} ({ep.value})")
    if plugins_dir is not None:
        for path in sorted(Path(plugins_dir).glob("*.py")):
            try:
                module = _load_file(path)
            except Exception as exc:
                reg._failures.append(PluginFailure(path.stem, str(path), f"{type(exc).__name__}: {exc}"))
                continue
            reg.register(module, path.stem, str(path))
    while True:
        try:
            pm.check_pending()
            break
        except pluggy.PluginValidationError as exc:  # a hook name no spec declares (a typo): refuse that plugin
            name = pm.get_name(exc.plugin) or "?"
            pm.unregister(exc.plugin)
            reg._refuse(name, str(exc))
    return reg
