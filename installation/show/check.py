"""Checks that need the plugin registry: does every name in the show exist here?

Kept apart from the schema so a show can be validated on a machine without the models
(``installation show validate --schema-only``), e.g. before a plugin is installed.
"""

from __future__ import annotations

import difflib
import inspect

from .loader import Problem, field_path
from .schema import Show


def _closest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"did you mean {close[0]!r}?" if close else ("available: " + ", ".join(sorted(options)) if options else "")


def plugin_problems(show: Show, registry) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) for generator, walk and post-stage names the registry lacks.

    A name whose plugin is installed but failed to import is a warning (the show will run with
    that scene black), not an error in the show file.
    """
    gens, walks, posts = registry.generators(), registry.walks(), registry.post_processors()
    failed = {f.name: f.error for f in getattr(registry, "failures", [])}
    sources = getattr(show, "_sources", None)
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def report(loc: tuple, kind: str, name: str, known: dict) -> None:
        if name in known:
            return
        file, line = sources.locate(loc) if sources is not None else (None, None)
        file = None if sources is None or file == sources.files[0][0] else file
        typo = difflib.get_close_matches(name, list(known), n=1)
        if name in failed:
            warnings.append(
                Problem(line, field_path(loc), f"{kind} {name!r}: plugin failed to load: {failed[name]}", "", file)
            )
        elif failed and not typo:
            warnings.append(
                Problem(
                    line,
                    field_path(loc),
                    f"unknown {kind} {name!r}",
                    f"perhaps from a plugin that failed to load: {', '.join(sorted(failed))}",
                    file,
                )
            )
        else:
            errors.append(Problem(line, field_path(loc), f"unknown {kind} {name!r}", _closest(name, known), file))

    def options(loc: tuple, kind: str, factory, given: dict, internal: tuple) -> None:
        """Option keys the factory does not take (only when its signature is closed)."""
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            return
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return
        allowed = [n for n in params if n not in internal]
        for key in given:
            if key not in params:
                file, line = sources.locate(loc + (key,)) if sources is not None else (None, None)
                file = None if sources is None or file == sources.files[0][0] else file
                errors.append(
                    Problem(line, field_path(loc + (key,)), f"unknown {kind} option", _closest(key, allowed), file)
                )

    for i, scene in enumerate(show.scenes):
        report(("scenes", i, "generator", "plugin"), "generator", scene.generator.plugin, gens)
        report(("scenes", i, "walk", "type"), "walk", scene.walk.type, walks)
        if scene.walk.type in walks:
            options(
                ("scenes", i, "walk"),
                f"{scene.walk.type!r} walk",
                walks[scene.walk.type],
                scene.walk.options(),
                ("latent_dim", "seed", "generator", "truncation"),
            )
        for j, stage in enumerate(scene.post):
            report(("scenes", i, "post", j, "stage"), "post stage", stage.stage, posts)
            if stage.stage in posts:
                options(
                    ("scenes", i, "post", j), f"{stage.stage!r} stage", posts[stage.stage], stage.options(), ("device",)
                )
    return errors, warnings
