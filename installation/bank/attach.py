"""Fix which bank file each walk of a show reads, and find the named seeds a show uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .store import DEFAULT_NAME, is_name


def named_seeds(show: Any) -> Iterator[tuple[int, int, str]]:
    """``(scene index, position in seeds, name)`` for every bank name in the show's walks."""
    for i, scene in enumerate(show.scenes):
        seeds = (scene.walk.model_extra or {}).get("seeds")
        if isinstance(seeds, list):
            for j, s in enumerate(seeds):
                if isinstance(s, str):
                    yield i, j, s


def bank_of(show: Any, scene_index: int) -> Path:
    """The bank file of a scene's walk: its ``bank`` option (relative to the show), else beside the show."""
    extra = show.scenes[scene_index].walk.model_extra or {}
    base = (
        Path(getattr(show, "_source", None) or ".").resolve().parent if getattr(show, "_source", None) else Path.cwd()
    )
    given = extra.get("bank")
    return (base / given).resolve() if isinstance(given, str) and given else (base / DEFAULT_NAME)


def attach_banks(show: Any) -> Any:
    """Give every walk that names a bank latent an absolute ``bank`` option (workers may run elsewhere)."""
    for i in sorted({i for i, _j, _n in named_seeds(show)}):
        extra = show.scenes[i].walk.model_extra
        if extra is not None:
            extra["bank"] = str(bank_of(show, i))
    return show


__all__ = ["attach_banks", "bank_of", "is_name", "named_seeds"]
