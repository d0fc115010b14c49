"""Built-in control inputs, registered through ``register_inputs`` like any plugin's.

Each factory is ``factory(events, **options)`` with the options of the show's ``[control.*]``
table and returns an object with ``start()`` (returning itself) and ``stop()``.
"""

from __future__ import annotations

from .. import hookimpl
from .config import AudioConfig, OscConfig, ReplayConfig


def osc_input(events, **options):
    from .osc_server import OscServer

    return OscServer.from_config(events, OscConfig(**options))


def midi_input(events, port=None, **_):
    from .midi import MidiInput

    return MidiInput(events, port=port)


def audio_input(events, **options):
    from .audio import AudioInput

    cfg = AudioConfig(**options)
    return AudioInput(
        events, cfg.device, cfg.samplerate, cfg.blocksize, cfg.onset_threshold, cfg.level_epsilon, file=cfg.file
    )


def serial_input(events, port="/dev/ttyACM0", baud=115200, **_):
    from .serial_input import SerialInput

    return SerialInput(events, port=port, baud=baud)


def replay_input(events, **options):
    from .replay import Replay

    cfg = ReplayConfig(**options)
    if cfg.timing != "wall":
        raise ValueError("show-timed replays are drained by the render loop (Control), not started as an input")
    return Replay(events, cfg.path, cfg.speed, cfg.loop)


@hookimpl
def register_inputs():
    return {"osc": osc_input, "midi": midi_input, "audio": audio_input, "serial": serial_input, "replay": replay_input}
