"""Show-file checks for the control tables that need the address map.

The schema checks each binding's shape; whether ``param = "/walk/sped"`` names a parameter of
*this* show (its scenes, layers, post stages) is known only once the address map is built.
``installation show validate`` reports these with file:line like any other show error.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..problems import Problem, field_path
from .standard import build_registry
from .system import _tables, layout_from_show


def control_problems(show: Any) -> list[Problem]:
    """Bindings, ``[control.combine]`` and ``[control.params]`` entries that name no parameter."""
    config, bindings = _tables(show)
    sources = getattr(show, "_sources", None)
    problems: list[Problem] = []

    def report(loc: tuple, message: str, hint: str = "") -> None:
        problems.append(
            sources.problem(loc, message, hint)
            if sources is not None
            else Problem(None, field_path(loc), message, hint)
        )

    def hint_for(address: str, known) -> str:
        close = difflib.get_close_matches(address, list(known), n=1)
        return f"did you mean {close[0]!r}?" if close else "see `installation osc map SHOW`"

    base = build_registry(layout_from_show(show, config.model_copy(update={"params": {}})), None)
    for address in config.params:
        if address not in base:
            report(("control", "params", address), f"no parameter {address!r}", hint_for(address, base))
    for address in config.combine:
        if address not in base:
            report(("control", "combine", address), f"no parameter {address!r}", hint_for(address, base))
    for i, b in enumerate(bindings):
        if b.param not in base:
            report(("bindings", i, "param"), f"no parameter {b.param!r}", hint_for(b.param, base))
        elif base.param(b.param).type == "str":
            report(
                ("bindings", i, "param"),
                f"{b.param} takes text and cannot be bound to an input",
                "send it directly over OSC",
            )
    return problems
