"""Apply drained events to the registry: direct sets, bindings, queries and learn mode.

The render loop calls :meth:`ControlRouter.update` once a frame with the events drained from
the queue and the clock's ``dt``.  Everything here runs on the render thread, so the registry,
bindings and replies never race with input threads.  Bad events are counted and skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from .bindings import Binding, BindingGroup
from .config import BindingSpec
from .events import ControlEvent
from .params import ParameterRegistry
from .pattern import PatternError, expand, is_pattern
from .stats import Counters

LEARN_ADDRESS = "/control/learn"
LEARN_CANCEL_ADDRESS = "/control/learn/cancel"


class QueryResponder(Protocol):
    def reply_query(self, source: str, args: tuple, rows: list[dict]) -> None: ...


class ControlRouter:
    """Routes events by address: binding inputs first, then parameter addresses, then specials."""

    def __init__(
        self,
        registry: ParameterRegistry,
        bindings: Iterable[BindingSpec] = (),
        combine: Mapping[str, str] | None = None,
        counters: Counters | None = None,
        query_address: str = "/query",
        responder: QueryResponder | None = None,
        on_learn: Callable[[BindingSpec], None] | None = None,
    ) -> None:
        self.registry = registry
        self.counters = counters if counters is not None else registry.counters
        self.combine = dict(combine or {})
        self.query_address = query_address
        self.responder = responder
        self.on_learn = on_learn
        self.groups: dict[str, BindingGroup] = {}
        self.inputs: dict[str, list[Binding]] = {}
        self.learning: str | None = None
        self.learned: list[BindingSpec] = []
        self._seq = 0
        for address in self.combine:
            if address not in registry:
                raise ValueError(f"[control.combine] names {address!r}, which is not a parameter")
        for spec in bindings:
            self.add_binding(spec)

    def add_binding(self, spec: BindingSpec) -> Binding:
        """Bind ``spec.input`` to ``spec.param``; a clear ValueError when the parameter cannot be bound."""
        if spec.param not in self.registry:
            raise ValueError(
                f"binding {spec.input} -> {spec.param}: no parameter {spec.param!r} "
                "(run `installation osc map SHOW` for the list)"
            )
        param = self.registry.param(spec.param)
        if param.type == "str":
            raise ValueError(f"binding {spec.input} -> {spec.param}: text parameters cannot be bound to a fader")
        group = self.groups.get(spec.param)
        if group is None:
            group = self.groups[spec.param] = BindingGroup(param, self.combine.get(spec.param, "last"))
        binding = Binding(spec, param)
        group.add(binding)
        self.inputs.setdefault(spec.input, []).append(binding)
        return binding

    # -- learn mode -------------------------------------------------------------------------
    def learn(self, param_address: str) -> None:
        """The next input that is not a parameter address gets bound to ``param_address``."""
        if param_address not in self.registry:
            raise ValueError(f"cannot learn {param_address!r}: no such parameter")
        self.learning = param_address

    def _learn_from(self, event: ControlEvent) -> None:
        spec = BindingSpec(input=event.address, param=self.learning)
        self.learning = None
        self.add_binding(spec)
        self.learned.append(spec)
        self.counters.incr("learned")
        if self.on_learn is not None:
            self.on_learn(spec)

    # -- per frame --------------------------------------------------------------------------
    def apply(self, events: Iterable[ControlEvent]) -> None:
        for ev in events:
            try:
                if is_pattern(ev.address):
                    self._apply_pattern(ev)
                else:
                    self._apply_one(ev)
            except Exception:  # a bad event costs itself, never the frame
                self.counters.incr("errors")

    def _apply_pattern(self, ev: ControlEvent) -> None:
        """An OSC address pattern: the message goes to every parameter and bound input it matches."""
        try:
            targets = expand(ev.address, {*self.registry, *self.inputs})
        except PatternError:
            self.counters.incr("malformed")
            return
        if not targets:
            self.counters.incr("unknown_address")
            return
        for address in targets:
            self._apply_one(ControlEvent(address, ev.args, ev.source, ev.arrival))

    def _apply_one(self, ev: ControlEvent) -> None:
        address = ev.address
        if address == self.query_address:
            self.counters.incr("queries")
            if self.responder is not None:
                prefix = ev.args[0] if ev.args and isinstance(ev.args[0], str) else "/"
                self.responder.reply_query(ev.source, ev.args, self.registry.describe(prefix))
            return
        if address == LEARN_ADDRESS:
            if ev.args and isinstance(ev.args[0], str) and ev.args[0] in self.registry:
                self.learning = ev.args[0]
            else:
                self.counters.incr("wrong_type")
            return
        if address == LEARN_CANCEL_ADDRESS:
            self.learning = None
            return
        bindings = self.inputs.get(address)
        if bindings is None and self.learning is not None and address not in self.registry:
            self._learn_from(ev)
            bindings = self.inputs.get(address)
        if bindings is not None:
            self._seq += 1
            for b in bindings:
                if b.spec.arg >= len(ev.args):
                    self.counters.incr("wrong_type")
                    continue
                raw = ev.args[b.spec.arg]
                if isinstance(raw, bool):
                    raw = float(raw)
                if not isinstance(raw, (int, float)) or not math.isfinite(raw):
                    self.counters.incr("wrong_type")
                    continue
                self.groups[b.param.address].feed(b, raw, self._seq, self.registry)
            self.counters.incr("applied")
            return
        if address in self.registry:
            if self.registry.set(address, ev.value):
                self.counters.incr("applied")
            return
        self.counters.incr("unknown_address")

    def step(self, dt: float) -> None:
        """Advance smoothing by ``dt`` seconds and write bound parameters."""
        for group in self.groups.values():
            group.step(dt, self.registry)

    def update(self, events: Iterable[ControlEvent], dt: float) -> None:
        """The once-a-frame call: apply drained events, then smooth."""
        self.apply(events)
        self.step(dt)
