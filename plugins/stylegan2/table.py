"""Checkpoint conversion as a table: every source key maps to one of ours, is checked and dropped, or refuses the file.

A converter is a list of :class:`Rule` (a regular expression over the source key, what it
becomes, an optional transform or check).  :func:`convert` applies it and refuses, naming the
key, when a source key matches no rule (an *unmapped* key: the file holds something this
network does not have, so loading it anyway would build a different network) or matches a
refusing rule (a known variant we do not support, with its reason).  The other direction, a key
our network needs that no source key filled, or a produced key it does not have (*unused*), is
refused by :func:`installation.api.load_into`.  Together: every key of the checkpoint is
accounted for, or the file is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from installation.api import CheckpointError

Transform = Callable[[torch.Tensor, "re.Match[str]"], torch.Tensor]
Check = Callable[[str, torch.Tensor], "str | None"]


@dataclass(frozen=True)
class Rule:
    """``pattern`` (full match on the source key) → ``target``.

    ``target`` is a ``str.format`` template over the match's named groups, a function of the
    match, or ``None`` (the key is only checked, then dropped).  ``check`` returns a reason to
    refuse the file, or ``None``; ``refuse`` refuses any key that matches, with that reason.
    """

    pattern: str
    target: str | Callable[[re.Match[str]], str] | None = None
    transform: Transform | None = None
    check: Check | None = None
    refuse: str | None = None

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


def _shown(keys: list[str], limit: int = 6) -> str:
    return ", ".join(keys[:limit]) + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


def convert(
    src: dict[str, torch.Tensor], rules: Sequence[Rule], path: Path | str, what: str
) -> dict[str, torch.Tensor]:
    """Apply ``rules`` to every key of ``src``; :class:`CheckpointError` naming ``path`` and the key otherwise."""
    compiled = [(rule, rule.compiled()) for rule in rules]
    out: dict[str, torch.Tensor] = {}
    unmapped: list[str] = []
    for key, tensor in src.items():
        hit = next(((rule, m) for rule, rx in compiled if (m := rx.fullmatch(key))), None)
        if hit is None:
            unmapped.append(key)
            continue
        rule, m = hit
        if rule.refuse is not None:
            raise CheckpointError(path, f"{key}: {rule.refuse}")
        if rule.check is not None:
            reason = rule.check(key, tensor)
            if reason:
                raise CheckpointError(path, f"{key}: {reason}")
        if rule.target is None:
            continue
        dst = rule.target(m) if callable(rule.target) else rule.target.format(**m.groupdict())
        if dst in out:
            raise CheckpointError(path, f"{key}: maps onto {dst}, which another key already filled")
        out[dst] = rule.transform(tensor, m) if rule.transform is not None else tensor
    if unmapped:
        raise CheckpointError(
            path,
            f"unmapped key(s) in this {what}: {_shown(unmapped)}; they belong to no part of the "
            "network this loader builds, so the file is refused rather than loaded as a different network",
        )
    return out


def check_kwargs(kwargs: dict, known: dict[str, Callable[[object], str | None]], path: Path | str, where: str) -> None:
    """Every recorded constructor argument is known and has a value we build faithfully, or the file is refused."""
    for name, value in kwargs.items():
        if name not in known:
            raise CheckpointError(
                path,
                f"unknown {where} argument {name}={value!r}: this loader cannot tell what it changes, "
                "so the file is refused",
            )
        reason = known[name](value)
        if reason:
            raise CheckpointError(path, f"{where} argument {name}={value!r}: {reason}")


def any_value(_: object) -> None:
    """For arguments read from the weights' shapes, or that only change speed or precision."""
    return None


def one_of(*allowed: object) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        return None if value in allowed else f"only {', '.join(map(repr, allowed))} is supported"

    return check
