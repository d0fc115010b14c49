"""Live control: inputs (OSC, MIDI, audio, serial, replay) become events; the render loop applies them.

Input threads only enqueue :class:`~installation.control.events.ControlEvent` objects on an
:class:`~installation.control.events.EventQueue`.  Once a frame the render loop drains the queue
into a :class:`~installation.control.router.ControlRouter`, which validates each event against the
:class:`~installation.control.params.ParameterRegistry`, runs bindings (range, curve, deadband,
smoothing) and answers queries.  Nothing outside the render thread touches GL or model state.
"""

from .events import ControlEvent, EventQueue
from .params import Parameter, ParameterRegistry
from .stats import Counters

__all__ = ["ControlEvent", "EventQueue", "Parameter", "ParameterRegistry", "Counters"]
