"""The parameter registry: every live parameter, its OSC address, type, range and value.

One registry is the single source of truth for what can be steered: the OSC server routes by
it, ``installation osc map`` prints it, the ``/query`` address answers with it, bindings clamp
to its ranges and the compositor reads its uniforms from it each frame.  Values that do not fit
(unknown address, wrong type, out of range) are counted and dropped, never raised into the loop.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .stats import Counters

TYPES = ("float", "int", "bool", "trigger", "str")
OSC_TAGS = {"float": "f", "int": "i", "bool": "T/F", "trigger": "-", "str": "s"}


@dataclass(frozen=True)
class Parameter:
    """A live parameter.  ``range`` applies to float and int, ``choices`` to str."""

    address: str
    type: str = "float"
    range: tuple[float, float] | None = None
    default: Any = None
    description: str = ""
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.address.startswith("/") or " " in self.address or self.address.endswith("/"):
            raise ValueError(f"parameter address {self.address!r} must be a path like /walk/speed")
        if self.type not in TYPES:
            raise ValueError(f"parameter {self.address}: type {self.type!r} is not one of {TYPES}")
        if self.range is not None:
            lo, hi = self.range
            if not lo <= hi:
                raise ValueError(f"parameter {self.address}: range {self.range} has low > high")
        if self.type in ("float", "int") and self.default is not None:
            if self.coerce(self.default)[0] is None:
                raise ValueError(
                    f"parameter {self.address}: default {self.default!r} does not fit {self.type} {self.range}"
                )

    @property
    def osc_tag(self) -> str:
        return OSC_TAGS[self.type]

    def coerce(self, value: Any) -> tuple[Any, str | None]:
        """``(value, None)`` when ``value`` fits, else ``(None, reason)`` with reason wrong_type/out_of_range."""
        t = self.type
        if t == "trigger":
            if value is None or isinstance(value, (bool, int, float)):
                return bool(value is None or value), None
            return None, "wrong_type"
        if t == "str":
            if not isinstance(value, str):
                return None, "wrong_type"
            if self.choices is not None and value not in self.choices:
                return None, "out_of_range"
            return value, None
        if t == "bool":
            if isinstance(value, (bool, int, float)) and not (isinstance(value, float) and math.isnan(value)):
                return bool(value), None
            return None, "wrong_type"
        # numbers: bools and strings are wrong types, NaN/inf never fit a range
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, "wrong_type"
        if not math.isfinite(value):
            return None, "out_of_range"
        v: float | int = int(round(value)) if t == "int" else float(value)
        if self.range is not None and not (self.range[0] <= v <= self.range[1]):
            return None, "out_of_range"
        return v, None

    def clamp(self, value: float) -> float | int:
        """Clamp a number into range (bindings clamp; direct OSC sets are validated instead)."""
        if self.range is not None:
            value = min(max(value, self.range[0]), self.range[1])
        return int(round(value)) if self.type == "int" else float(value)

    def describe(self, value: Any = None) -> dict:
        return {
            "address": self.address,
            "type": self.type,
            "osc": self.osc_tag,
            "range": list(self.range) if self.range is not None else None,
            "choices": list(self.choices) if self.choices is not None else None,
            "default": self.default,
            "value": value,
            "description": self.description,
        }


class ParameterRegistry:
    """Parameters by address with validated ``set``, trigger counts and a change log."""

    def __init__(self, params: Iterable[Parameter] = (), counters: Counters | None = None) -> None:
        self.counters = counters if counters is not None else Counters()
        self._params: dict[str, Parameter] = {}
        self._values: dict[str, Any] = {}
        self._triggers: Counter[str] = Counter()
        self._changed: dict[str, Any] = {}
        self._lock = threading.RLock()
        self.version = 0
        for p in params:
            self.add(p)

    # -- definition -------------------------------------------------------------------------
    def add(self, param: Parameter) -> Parameter:
        with self._lock:
            if param.address in self._params:
                raise ValueError(f"parameter {param.address} is defined twice")
            self._params[param.address] = param
            if param.type != "trigger":
                self._values[param.address] = param.default
        return param

    def __contains__(self, address: str) -> bool:
        return address in self._params

    def __iter__(self):
        return iter(sorted(self._params))

    def __len__(self) -> int:
        return len(self._params)

    def param(self, address: str) -> Parameter:
        try:
            return self._params[address]
        except KeyError:
            raise KeyError(f"no parameter {address!r}") from None

    # -- values -----------------------------------------------------------------------------
    def get(self, address: str, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(address, default)

    def __getitem__(self, address: str) -> Any:
        with self._lock:
            if address not in self._values:
                raise KeyError(f"no valued parameter {address!r}")
            return self._values[address]

    def set(self, address: str, value: Any = None, quiet: bool = False) -> bool:
        """Validate and store; a trigger fires.  Returns False (and counts why) when dropped.

        ``quiet`` stores without logging a change: the app uses it to mirror show state (the
        scene now playing) into the registry without that reading as a request to jump there.
        """
        param = self._params.get(address)
        if param is None:
            self.counters.incr("unknown_address")
            return False
        v, reason = param.coerce(value)
        if reason is not None:
            self.counters.incr(reason)
            return False
        with self._lock:
            if param.type == "trigger":
                if v:
                    self._triggers[address] += 1
                    self.version += 1
                return True
            if self._values.get(address) != v:
                self._values[address] = v
                if not quiet:
                    self._changed[address] = v
                self.version += 1
        return True

    def set_clamped(self, address: str, value: float) -> bool:
        """Set a number after clamping it into range (used by bindings)."""
        param = self._params.get(address)
        if param is None:
            self.counters.incr("unknown_address")
            return False
        if param.type in ("float", "int"):
            if not math.isfinite(value):
                self.counters.incr("out_of_range")
                return False
            value = param.clamp(value)
        return self.set(address, value)

    def reset(self, address: str) -> None:
        """Put a parameter back to its default without logging a change (a fired one-shot value)."""
        with self._lock:
            param = self.param(address)
            if param.type != "trigger" and self._values.get(address) != param.default:
                self._values[address] = param.default
                self.version += 1

    def fire(self, address: str) -> bool:
        return self.set(address, None)

    def pop_triggers(self) -> dict[str, int]:
        """Triggers fired since the last call, ``{address: times}`` (the render loop acts on them)."""
        with self._lock:
            out = dict(self._triggers)
            self._triggers.clear()
        return out

    def pop_changes(self) -> dict[str, Any]:
        """Values changed since the last call (for OSC feedback to controllers)."""
        with self._lock:
            out = self._changed
            self._changed = {}
        return out

    def values(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    # -- description ------------------------------------------------------------------------
    def describe(self, prefix: str = "/") -> list[dict]:
        """One dict per parameter under ``prefix``, sorted by address."""
        with self._lock:
            return [
                self._params[a].describe(self._values.get(a))
                for a in sorted(self._params)
                if a == prefix or a.startswith(prefix.rstrip("/") + "/") or prefix == "/"
            ]

    def tree(self, prefix: str = "/") -> dict:
        """Nested dict of path segments; leaves are :meth:`Parameter.describe` dicts under ``"."``."""
        root: dict = {}
        for row in self.describe(prefix):
            node = root
            for part in row["address"].strip("/").split("/"):
                node = node.setdefault(part, {})
            node["."] = row
        return root

    def format_tree(self, prefix: str = "/") -> str:
        """The address tree as indented text with type, range and default (``installation osc map``)."""
        lines: list[str] = []

        def walk(node: dict, depth: int, path: str) -> None:
            for key in sorted(k for k in node if k != "."):
                child = node[key]
                addr = f"{path}/{key}"
                leaf = child.get(".")
                if leaf is None:
                    lines.append(f"{'  ' * depth}{addr}/")
                else:
                    lines.append(f"{'  ' * depth}{addr}  {_summary(leaf)}")
                walk(child, depth + 1, addr)

        walk(self.tree(prefix), 0, "")
        return "\n".join(lines)


def _summary(row: dict) -> str:
    parts = [f"{row['type']} ({row['osc']})"]
    if row["range"] is not None:
        parts.append(f"[{_num(row['range'][0])}, {_num(row['range'][1])}]")
    if row["choices"] is not None:
        parts.append("{" + ", ".join(row["choices"]) + "}")
    if row["type"] != "trigger":
        value = row["value"] if row["value"] is not None else row["default"]
        parts.append(f"= {value!r}" if value is not None else "= (none)")
    if row["description"]:
        parts.append(f"  # {row['description']}")
    return " ".join(parts)


def _num(x: float) -> str:
    return f"{x:g}"
