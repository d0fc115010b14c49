"""MIDI in: control changes, notes, pitch bend and program changes as control events.

Addresses are 1-based by channel as printed on controllers: ``/midi/cc/CH/N`` (value 0..127),
``/midi/note/CH/N`` (velocity, 0 on release), ``/midi/pitch/CH`` (-8192..8191),
``/midi/program/CH``.  They go through the same bindings as OSC, and learn mode
(``/control/learn``) binds whatever moves next.  mido (the ``midi`` extra) is needed only to
open a port; :meth:`MidiInput.feed` and :meth:`MidiInput.feed_bytes` take messages without any
hardware or backend, which is how tests and replays drive it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..problems import Unavailable
from .events import ControlEvent, EventQueue
from .stats import Counters


@dataclass(frozen=True)
class MidiMessage:
    """The fields we use, shaped like :class:`mido.Message` (channel 0-based)."""

    type: str
    channel: int = 0
    control: int = 0
    note: int = 0
    value: int = 0
    velocity: int = 0
    pitch: int = 0
    program: int = 0


def parse_midi_bytes(data: bytes | list[int]) -> MidiMessage | None:
    """Decode one channel-voice message; ``None`` for anything else (clock, sysex, running status)."""
    data = bytes(data)
    if not data or data[0] < 0x80 or data[0] >= 0xF0:
        return None
    kind, ch = data[0] & 0xF0, data[0] & 0x0F
    need = 2 if kind in (0xC0, 0xD0) else 3
    if len(data) < need or any(b > 0x7F for b in data[1:need]):
        return None
    if kind == 0xB0:
        return MidiMessage("control_change", ch, control=data[1], value=data[2])
    if kind == 0x90:
        return MidiMessage("note_on", ch, note=data[1], velocity=data[2])
    if kind == 0x80:
        return MidiMessage("note_off", ch, note=data[1], velocity=data[2])
    if kind == 0xE0:
        return MidiMessage("pitchwheel", ch, pitch=(data[1] | (data[2] << 7)) - 8192)
    if kind == 0xC0:
        return MidiMessage("program_change", ch, program=data[1])
    return None  # aftertouch and the rest are not bound


def midi_to_event(msg: Any, source: str, now: float) -> ControlEvent | None:
    """A mido.Message or :class:`MidiMessage` → :class:`ControlEvent` (``None`` when not bindable)."""
    kind = getattr(msg, "type", None)
    ch = getattr(msg, "channel", 0) + 1
    if kind == "control_change":
        return ControlEvent(f"/midi/cc/{ch}/{msg.control}", (int(msg.value),), source, now)
    if kind == "note_on":
        return ControlEvent(f"/midi/note/{ch}/{msg.note}", (int(msg.velocity),), source, now)
    if kind == "note_off":
        return ControlEvent(f"/midi/note/{ch}/{msg.note}", (0,), source, now)
    if kind == "pitchwheel":
        return ControlEvent(f"/midi/pitch/{ch}", (int(msg.pitch),), source, now)
    if kind == "program_change":
        return ControlEvent(f"/midi/program/{ch}", (int(msg.program),), source, now)
    return None


class MidiUnavailable(Unavailable):
    """No MIDI here: mido is not installed, or its backend (rtmidi on ALSA) cannot start."""


def _mido():
    try:
        import mido
    except ImportError:
        raise MidiUnavailable("MIDI input needs mido and a backend: pip install 'installation[midi]'") from None
    return mido


def list_ports() -> list[str]:
    """Input port names; :class:`MidiUnavailable` (one line) when there is no mido backend or no
    MIDI system to ask.  On Linux without ALSA's sequencer (/dev/snd/seq, e.g. in a container)
    python-rtmidi raises and libasound prints its own complaint to file descriptor 2, which is
    caught here and folded into that one line."""
    mido = _mido()
    with tempfile.TemporaryFile() as trap:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(trap.fileno(), 2)
        try:
            return list(mido.get_input_names())
        except Exception as exc:  # rtmidi without ALSA raises its own error; say so in one line
            trap.seek(0)
            said = " ".join(trap.read().decode(errors="replace").split())
            raise MidiUnavailable(
                f"no MIDI system to list ports from ({type(exc).__name__}: {str(exc).rstrip('.')})"
                + (f" [{said}]" if said else "")
                + "; MIDI needs ALSA's sequencer /dev/snd/seq (Linux) or CoreMIDI/WinMM, "
                "and the midi extra"
            ) from None
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class MidiInput:
    """Enqueues events from a MIDI input port (mido's callback thread) or from :meth:`feed`."""

    def __init__(
        self,
        events: EventQueue,
        port: str | None = None,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.events = events
        self.port_name = port
        self.counters = counters if counters is not None else events.counters
        self.clock = clock
        self.source = f"midi:{port or 'feed'}"
        self._port = None

    def feed(self, msg: Any) -> bool:
        """Enqueue one mido-like message; False when it is not bindable or the queue is full."""
        try:
            ev = midi_to_event(msg, self.source, self.clock())
        except Exception:
            ev = None
        if ev is None:
            self.counters.incr("midi_ignored")
            return False
        return self.events.put(ev)

    def feed_bytes(self, data: bytes | list[int]) -> bool:
        msg = parse_midi_bytes(data)
        if msg is None:
            self.counters.incr("midi_ignored")
            return False
        return self.feed(msg)

    def start(self) -> MidiInput:
        mido = _mido()
        names = mido.get_input_names()
        if self.port_name is None:
            if not names:
                raise RuntimeError("no MIDI input ports found")
            name = names[0]
        else:
            matches = [n for n in names if self.port_name.lower() in n.lower()]
            if not matches:
                raise RuntimeError(f"no MIDI input port matches {self.port_name!r}; ports: {names or 'none'}")
            name = matches[0]
        self.source = f"midi:{name}"
        self._port = mido.open_input(name, callback=self.feed)
        return self

    def stop(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
