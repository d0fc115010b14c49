"""Bindings: an input's value mapped, shaped, deadbanded and smoothed onto a parameter.

Mapping happens when an event arrives (:meth:`Binding.feed`); smoothing happens once a frame
with the clock's ``dt`` (:meth:`Binding.step`), so with a fixed-step clock a render is identical
run to run.  Several bindings may drive one parameter; :class:`BindingGroup` combines them with
the rule the show names (``last`` writer wins by default, or ``sum``/``max``/``min``/``mean``).
"""

from __future__ import annotations

import math

from .config import BindingSpec
from .params import Parameter, ParameterRegistry


def shape(u: float, curve: str, k: float = 4.0) -> float:
    """Map ``u`` in [0, 1] to [0, 1] with fixed ends.

    ``exp`` starts slow (fine control at the low end of a speed fader), ``log`` is its inverse,
    ``s-curve`` is a normalised logistic, flat at both ends.
    """
    if curve == "linear":
        return u
    if curve == "exp":
        return math.expm1(k * u) / math.expm1(k)
    if curve == "log":
        return math.log1p(math.expm1(k) * u) / k
    if curve == "s-curve":

        def sig(x: float) -> float:
            return 1.0 / (1.0 + math.exp(-x))

        lo, hi = sig(-k / 2), sig(k / 2)
        return (sig(k * (u - 0.5)) - lo) / (hi - lo)
    raise ValueError(f"unknown curve {curve!r}")


class Binding:
    """Runtime state of one :class:`BindingSpec` bound to a :class:`Parameter`."""

    def __init__(self, spec: BindingSpec, param: Parameter) -> None:
        self.spec = spec
        self.param = param
        self.in_lo, self.in_hi = spec.resolved_in_range()
        if spec.out_range is not None:
            self.out_lo, self.out_hi = spec.out_range
        elif param.range is not None:
            self.out_lo, self.out_hi = param.range
        else:
            self.out_lo, self.out_hi = 0.0, 1.0
        self.last_u: float | None = None
        self.target: float | None = None
        self.current: float | None = None
        self.fed = 0  # sequence number of the last accepted input (for last-writer-wins)

    @property
    def discrete(self) -> bool:
        return self.param.type in ("trigger", "bool", "str")

    def normalise(self, raw: float) -> float:
        u = (raw - self.in_lo) / (self.in_hi - self.in_lo)
        return min(max(u, 0.0), 1.0)

    def feed(self, raw: float, seq: int) -> bool:
        """Take an input value; False when the deadband swallows it."""
        u = self.normalise(float(raw))
        db = self.spec.deadband
        if db > 0 and self.last_u is not None and abs(u - self.last_u) < db and u not in (0.0, 1.0):
            return False  # jitter; the ends always pass so a fader can reach its stops
        prev_u, self.last_u = self.last_u, u
        self.fed = seq
        if self.discrete:
            self.target = u
            self._prev_u = prev_u
            return True
        self.target = self.out_lo + shape(u, self.spec.curve, self.spec.curve_amount) * (self.out_hi - self.out_lo)
        return True

    def rising(self) -> bool:
        """For trigger parameters: did the last input cross 0.5 upward?"""
        prev = getattr(self, "_prev_u", None)
        return self.target is not None and self.target >= 0.5 and (prev is None or prev < 0.5)

    def step(self, dt: float) -> bool:
        """Advance smoothing by ``dt`` seconds; True when ``current`` changed."""
        if self.target is None or self.current == self.target:
            return False
        if self.current is None or self.spec.smoothing == "none":
            self.current = self.target
            return True
        span = abs(self.out_hi - self.out_lo) or 1.0
        diff = self.target - self.current
        if self.spec.smoothing == "envelope":
            tau = self.spec.attack if diff > 0 else self.spec.release
            self.current = self.target if tau <= 0 else self.current + diff * -math.expm1(-dt / tau)
            if abs(self.target - self.current) < 1e-6 * span:
                self.current = self.target
        elif self.spec.smoothing == "slew":
            max_step = span / self.spec.time * dt
            self.current = self.target if abs(diff) <= max_step else self.current + math.copysign(max_step, diff)
        else:  # one-pole low-pass: y += (x - y)(1 - e^(-dt/tau))
            self.current += diff * -math.expm1(-dt / self.spec.time)
            if abs(self.target - self.current) < 1e-6 * span:
                self.current = self.target
        return True

    @property
    def settled(self) -> bool:
        return self.current == self.target


class BindingGroup:
    """All bindings driving one parameter and the rule that combines them."""

    def __init__(self, param: Parameter, combine: str = "last") -> None:
        self.param = param
        self.combine = combine
        self.bindings: list[Binding] = []
        self.dirty = False

    def add(self, binding: Binding) -> None:
        self.bindings.append(binding)

    def feed(self, binding: Binding, raw: float, seq: int, registry: ParameterRegistry) -> None:
        if not binding.feed(raw, seq):
            return
        if binding.discrete:
            if self.param.type == "trigger":
                if binding.rising():
                    registry.fire(self.param.address)
            elif self.param.type == "bool":
                assert binding.target is not None  # feed() set it
                registry.set(self.param.address, binding.target >= 0.5)
            binding.current = binding.target
            return
        if binding.current is None:
            now = registry.get(self.param.address)
            # smoothing starts from where the parameter is, not from the new input
            # (a parameter with no value yet takes the first input as it is, at the next step)
            binding.current = float(now) if isinstance(now, (int, float)) and not isinstance(now, bool) else None
        self.dirty = True

    def step(self, dt: float, registry: ParameterRegistry) -> bool:
        """Advance every binding; write the combined value when anything moved.  True if written."""
        if not self.dirty:
            return False
        moved = False
        for b in self.bindings:
            moved |= b.step(dt)
        self.dirty = not all(b.settled for b in self.bindings if b.target is not None)
        if not moved:
            return False
        fed = [(b.fed, b.current) for b in self.bindings if b.current is not None]
        values = [current for _, current in fed]
        value: float
        if self.combine == "last":
            value = max(fed, key=lambda pair: pair[0])[1]
        elif self.combine == "sum":
            value = sum(values)
        elif self.combine == "max":
            value = max(values)
        elif self.combine == "min":
            value = min(values)
        else:
            value = sum(values) / len(values)
        return registry.set_clamped(self.param.address, value)
