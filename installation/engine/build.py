"""Building a scene's keyframe source: from the plugin registry, or from a picklable recipe in a child.

:func:`build_source` instantiates generator, walk and post chain from a registry.  A worker
process cannot be handed the registry (pluggy managers and plugin modules do not pickle), so
:class:`SourceRecipe` carries what is needed to make the same source again elsewhere: the scene
spec, show seed, device, where the plugins came from and the control state to start with.  The
child re-creates the plugin manager with :func:`installation.plugins.make_plugin_manager`, so
``--plugins-dir`` plugins work in isolated workers too.

:func:`degrade_source` is the one out-of-memory step both worker transports use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..plugins import PluginRegistry
from ..show.schema import GeneratorSpec, Scene, WalkSpec
from ..walks.factory import make_walk
from .post import PostChain
from .source import KeyframeSource


class SceneLoadError(RuntimeError):
    """The scene cannot be built however often it is retried (unknown plugin, bad options)."""


def build_source(scene: Scene, registry: PluginRegistry, device: torch.device, show_seed: int = 0) -> KeyframeSource:
    """Instantiate the scene's generator, walk and post chain from the plugin registry."""
    gens, walks = registry.generators(), registry.walks()
    spec = scene.generator
    if spec.plugin not in gens:
        raise SceneLoadError(
            f"scene {scene.name!r}: unknown generator {spec.plugin!r}; available: {', '.join(sorted(gens))}"
        )
    try:
        generator = gens[spec.plugin](checkpoint=spec.checkpoint, device=device, **spec.options())
    except TypeError as exc:
        raise SceneLoadError(f"scene {scene.name!r}: generator {spec.plugin!r}: {exc}") from exc
    if scene.walk.type not in walks:
        raise SceneLoadError(
            f"scene {scene.name!r}: unknown walk {scene.walk.type!r}; available: {', '.join(sorted(walks))}"
        )
    try:
        walk = make_walk(
            walks[scene.walk.type],
            generator,
            scene.walk.seed + show_seed,
            scene.walk.options(),
            scene.walk.space,
            scene.truncation,
        )
    except (TypeError, ValueError) as exc:
        raise SceneLoadError(f"scene {scene.name!r}: walk {scene.walk.type!r}: {exc}") from exc
    post = PostChain.build(
        [{"stage": p.stage, "mix": p.mix, **p.options()} for p in scene.post], registry.post_processors(), device
    )
    return KeyframeSource(generator, walk, post, scene.keyframe_rate)


def default_fallback_scene() -> Scene:
    """What a failing scene shows when the show names no fallback: a slow built-in noise field."""
    return Scene(
        name="fallback",
        duration=3600.0,
        keyframe_rate=1.0,
        transition=0.0,
        generator=GeneratorSpec(plugin="noisefield", size=128),
        walk=WalkSpec(type="slerp", seeds=[101, 102, 103], transition=8.0),
    )


def plugin_origin(registry: PluginRegistry | None) -> tuple[tuple[str, ...], bool]:
    """``(plugins_dirs, entry_points)`` that make a registry like this one again.

    Read from where each registered plugin came from: file plugins name their path (their folder
    is a ``--plugins-dir``), entry-point plugins say so.  Built-ins are always loaded.
    """
    dirs: list[str] = []
    if registry is None:  # no registry given: the default one (built-ins and entry points)
        return (), True
    entry = False
    for source in registry.sources.values():
        if source.startswith("entry point"):
            entry = True
        elif source != "builtin" and source.endswith(".py"):
            folder = str(Path(source).resolve().parent)
            if folder not in dirs:
                dirs.append(folder)
    return tuple(dirs), entry


def degrade_source(source: KeyframeSource) -> str | None:
    """Make the next keyframe cheaper after an out-of-memory error; ``None`` when nothing is left.

    The generator's optional ``degrade()`` first, else the post chain's last stage is dropped.
    """
    fn = getattr(source.generator, "degrade", None)
    note = fn() if callable(fn) else None
    if not note:
        dropped = source.post.drop_last()
        note = f"dropped post stage {dropped}" if dropped else None
    if not note:
        return None
    if not isinstance(note, str):
        note = f"generator degraded to {getattr(source.generator, 'resolution', '?')}"
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return note


@dataclass
class SourceRecipe:
    """Everything a worker process needs to build a scene's source itself (picklable)."""

    scene: Scene
    show_seed: int = 0
    device: str = "cpu"
    plugins_dirs: tuple[str, ...] = ()
    entry_points: bool = True
    control: tuple[dict, dict] = field(default_factory=lambda: ({}, {}))  # (walk, post) to start with
    degrade_steps: int = 0  # degrade() calls to apply after building (memory exhausted before)

    @classmethod
    def of(
        cls,
        scene: Scene,
        registry: PluginRegistry,
        device,
        show_seed: int = 0,
        control: tuple[dict, dict] | None = None,
    ) -> SourceRecipe:
        dirs, entry = plugin_origin(registry)
        return cls(scene, int(show_seed), str(device), dirs, entry, control or ({}, {}))

    def registry(self) -> PluginRegistry:
        from ..plugins import make_plugin_manager

        reg = make_plugin_manager(self.plugins_dirs[0] if self.plugins_dirs else None, self.entry_points)
        for extra in self.plugins_dirs[1:]:  # plugins from more than one folder (tests, embedding)
            more = make_plugin_manager(extra, entry_points_enabled=False)
            for name, plugin in more.pm.list_name_plugin():
                if not reg.pm.has_plugin(name):
                    reg.register(plugin, name, more.sources.get(name, extra))
        return reg

    def build(self, registry: PluginRegistry | None = None) -> tuple[KeyframeSource, list[str]]:
        """The source, with its starting control and any earlier degrade steps applied (and their notes)."""
        source = build_source(self.scene, registry or self.registry(), torch.device(self.device), self.show_seed)
        source.control, source.post.control = self.control
        notes = []
        for _ in range(self.degrade_steps):
            note = degrade_source(source)
            if note is None:
                break
            notes.append(note)
        return source, notes
