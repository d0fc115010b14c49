"""The one check of a show that must play: everything the schema cannot see.

:func:`show_problems` is what ``installation show validate``, ``run``, ``render`` and hot reload
all ask (through :func:`check_show` / :func:`load_checked`): cue structure, plugin names and
their option keys, walk options (each scene's walk is built once, cheaply, with the options the
show gives: ``period = 0``, ``seeds = []``, a ``hold`` list of the wrong length, an unknown
``ease``), the weights files scenes name (there and whole: :mod:`.files`, or the plugin's own
``probe``), control bindings and, where asked, the calibration profile.  Every problem names
file, line and field.

Plugin checks are kept apart from the schema so a show can be validated on a machine without the
models (``installation show validate --schema-only``), e.g. before a plugin is installed.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import weights_problem
from .loader import Problem, ShowError, field_path
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


def _placer(show: Show):
    sources = getattr(show, "_sources", None)

    def problem(loc: tuple, message: str, hint: str = "") -> Problem:
        file, line = sources.locate(loc) if sources is not None else (None, None)
        file = None if sources is None or file == sources.files[0][0] else file
        return Problem(line, field_path(loc), message, hint, file)

    return problem


def walk_problems(show: Show, registry) -> list[Problem]:
    """Build each scene's walk once with its options (a tiny latent, no generator): what raises
    is a walk that cannot play.  Walks that need the generator itself (``directions``) are left
    to the run, which reports them the same way."""
    from ..walks.common import OptionError
    from ..weights import LatentSizeError

    walks = registry.walks() if registry is not None else _builtin_walks()
    problem = _placer(show)
    out: list[Problem] = []
    for i, scene in enumerate(show.scenes):
        factory = walks.get(scene.walk.type)
        if factory is None:
            continue  # reported as an unknown name
        params: Mapping[str, inspect.Parameter]
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            params = {}
        gen = params.get("generator")
        if gen is not None and gen.default is inspect.Parameter.empty:  # needs the model itself
            continue
        closed = params and not any(p.kind is p.VAR_KEYWORD for p in params.values())
        unknown = [k for k in scene.walk.options() if closed and k not in params]
        if unknown:  # reported by plugin_problems with a "did you mean"; without a registry, here
            if registry is None:
                allowed = [n for n in params if n not in ("latent_dim", "seed", "generator", "truncation")]
                what = f"unknown {scene.walk.type!r} walk option"
                out += [problem(("scenes", i, "walk", k), what, _closest(k, allowed)) for k in unknown]
            continue
        options = scene.walk.options()
        if isinstance(options.get("seeds"), list):  # bank names are checked against their bank (bank.check)
            options["seeds"] = [0 if isinstance(s, str) else s for s in options["seeds"]]
            options.pop("bank", None)
        for _ in range(len(options) + 1):  # each bad option in turn: drop it (its default is fine), try again
            try:
                factory(latent_dim=16, seed=scene.walk.seed, **options)
                break
            except LatentSizeError:  # 16 is a stand-in for the model's size: building the scene checks it
                break
            except OptionError as exc:
                field = exc.field.split("[", 1)[0]
                out.append(problem(("scenes", i, "walk", field), f"{scene.walk.type!r} walk: {exc.message}"))
                if field not in options:
                    break
                options = {k: v for k, v in options.items() if k != field}
            except (TypeError, ValueError) as exc:
                out.append(problem(("scenes", i, "walk"), f"{scene.walk.type!r} walk: {exc}"))
                break
    return out


def _builtin_walks() -> dict:
    from ..walks.builtin import builtin_walks

    return builtin_walks()


def _probe(factory: Any):
    probe = getattr(factory, "probe", None)
    return probe if callable(probe) else None


def file_problems(show: Show, registry=None) -> list[Problem]:
    """Checkpoints of generators and post stages: missing, empty, truncated or not weights at all.

    A factory with a ``probe(path)`` attribute is asked instead of the generic header read; what it
    raises is the problem."""
    problem = _placer(show)
    gens = registry.generators() if registry is not None else {}
    posts = registry.post_processors() if registry is not None else {}
    out: list[Problem] = []

    def check(loc: tuple, path: Any, factory: Any) -> None:
        if not isinstance(path, str) or not path:
            return
        probe = _probe(factory)
        if probe is not None:
            try:
                probe(Path(path))
                return
            except Exception as exc:  # the plugin's own verdict, whatever it raises
                out.append(problem(loc, f"weights cannot be used: {exc}"))
                return
        why = weights_problem(Path(path))
        if why is not None:
            out.append(problem(loc, why, "paths are relative to the show file that names them"))

    for i, scene in enumerate(show.scenes):
        check(("scenes", i, "generator", "checkpoint"), scene.generator.checkpoint, gens.get(scene.generator.plugin))
        for j, stage in enumerate(scene.post):
            check(("scenes", i, "post", j, "checkpoint"), stage.options().get("checkpoint"), posts.get(stage.stage))
    return out


def scene_load_error(show: Show, failures: dict[str, str], path: Path | str | None = None) -> ShowError | None:
    """The error an offline render ends with when scenes could not load their model (``failures``:
    scene name → error), unless the show asks for the fallback (``[show] on_error = "fallback"``)."""
    if not failures or show.show.on_error == "fallback":
        return None
    problem = _placer(show)
    names = [s.name for s in show.scenes]
    problems = [
        problem(
            ("scenes", names.index(name), "generator") if name in names else ("scenes",),
            f"scene {name!r} could not load its model: {error}",
            'the render shows the fallback there; set [show] on_error = "fallback" to accept that',
        )
        for name, error in failures.items()
    ]
    return ShowError(path or show.source or "<show>", problems)
