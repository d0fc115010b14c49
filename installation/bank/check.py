"""``show validate``'s check of bank names: every named seed exists in the walk's bank file."""

from __future__ import annotations

from typing import Any

from ..problems import Problem
from .attach import bank_of, named_seeds
from .store import Bank, BankError, is_name


def bank_problems(show: Any) -> list[Problem]:
    """A :class:`Problem` at ``scenes[i].walk.seeds[j]`` for each name that is malformed or not in its bank."""
    sources = getattr(show, "_sources", None)
    out: list[Problem] = []
    banks: dict[str, Bank | BankError] = {}

    def at(loc: tuple, message: str, hint: str = "") -> Problem:
        if sources is not None:
            return sources.problem(loc, message, hint)
        from ..problems import field_path

        return Problem(None, field_path(loc), message, hint)

    for i, j, name in named_seeds(show):
        loc = ("scenes", i, "walk", "seeds", j)
        if not is_name(name):
            out.append(
                at(loc, f"{name!r} is not a bank name", "names start with a letter; seed numbers are plain integers")
            )
            continue
        path = str(bank_of(show, i))
        if path not in banks:
            try:
                banks[path] = Bank.load(path)
            except BankError as exc:
                banks[path] = exc
        bank = banks[path]
        if isinstance(bank, BankError):
            p = bank.problems[0]
            out.append(at(loc, f"seed {name!r}: bank {path}: {p.message}", p.hint))
        elif name not in bank.entries:
            try:
                bank.get(name)
            except BankError as exc:
                out.append(at(loc, f"no latent named {name!r} in bank {path}", exc.problems[0].hint))
    return out
