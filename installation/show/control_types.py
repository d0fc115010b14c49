"""The types of a show's ``[control]`` table and ``[[bindings]]`` array.

They live in the show layer because the show schema embeds them (a show file, with the venue
files it includes, is validated in one pass) and the show layer imports nothing above it; live
control (:mod:`installation.control`) uses them from here through
:mod:`installation.control.config`.  Unknown keys are errors: a misspelt ``rate_limt`` must not
silently leave a venue network open.  Syntax: docs/control.md.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..problems import StrictModel

Curve = Literal["linear", "exp", "log", "s-curve"]
Smoothing = Literal["none", "slew", "onepole", "envelope"]
Combine = Literal["last", "sum", "max", "min", "mean"]


def parse_target(text: str) -> tuple[str, int]:
    """``"host:port"`` → ``(host, port)``; a clear ValueError otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"OSC target {text!r} must look like host:port (e.g. 192.168.1.20:9001)")
    return host, int(port)


class OscConfig(StrictModel):
    """The OSC server.  ``allowlist`` holds addresses or networks (``"192.168.1.0/24"``); ``"*"`` allows any."""

    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = Field(9000, ge=0, le=65535)
    allowlist: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    rate_limit: float = Field(1000.0, gt=0, description="messages per second per source (sustained)")
    burst: int = Field(20000, ge=1, description="messages a source may send at once before the rate applies")
    query_address: str = "/query"
    recv_buffer: int = Field(4 * 1024 * 1024, ge=65536, description="socket receive buffer in bytes")

    @field_validator("allowlist")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for item in v:
            if item != "*":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"allowlist entry {item!r} is not an IP address, a network or '*'") from None
        return v


class OscOutConfig(StrictModel):
    """State sent to controllers: on change, and all of it every ``heartbeat`` seconds."""

    targets: list[str] = Field(default_factory=list)
    heartbeat: float = Field(1.0, gt=0)
    echo: bool = Field(True, description="also send parameter changes so faders follow")
    prefix: str = "/status"

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        for t in v:
            parse_target(t)
        return v


class MidiConfig(StrictModel):
    enabled: bool = False
    port: str | None = Field(None, description="substring of the input port name; None = first port")


class AudioConfig(StrictModel):
    enabled: bool = False
    device: str | int | None = None
    samplerate: int = Field(48000, gt=0)
    blocksize: int = Field(1024, ge=64)
    onset_threshold: float = Field(3.0, gt=0, description="relative flux over its running median to count as an onset")
    level_epsilon: float = Field(0.002, ge=0, description="smallest level change that is sent")
    file: str | None = Field(None, description="a sound file looped as the input instead of a device (a stand-in)")


class SerialConfig(StrictModel):
    enabled: bool = False
    port: str = "/dev/ttyACM0"
    baud: int = Field(115200, gt=0)


class ReplayConfig(StrictModel):
    """Play recorded events back.  ``timing = "show"`` delivers each event on the first frame whose
    show time reaches ``start + t / speed``, so a ``--record`` render with a replay is identical on
    every run; ``"wall"`` replays in real time from a thread, like a live input."""

    path: str
    speed: float = Field(1.0, gt=0)
    loop: bool = False
    timing: Literal["wall", "show"] = "wall"
    start: float = Field(0.0, ge=0, description="show time of the recording's first event (show timing)")


class ParamOverride(StrictModel):
    """Narrow a standard parameter for this show, e.g. a slower top walk speed."""

    range: tuple[float, float] | None = None
    default: float | int | bool | str | None = None


class ControlConfig(StrictModel):
    osc: OscConfig = Field(default_factory=OscConfig)
    osc_out: OscOutConfig = Field(default_factory=OscOutConfig)
    midi: MidiConfig = Field(default_factory=MidiConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)
    serial: SerialConfig = Field(default_factory=SerialConfig)
    replay: ReplayConfig | None = None
    queue_size: int = Field(65536, ge=16)
    directions: int = Field(8, ge=0, le=512, description="latent directions exposed as /direction/K")
    combine: dict[str, Combine] = Field(
        default_factory=dict, description="how several bindings on one parameter combine"
    )
    params: dict[str, ParamOverride] = Field(default_factory=dict)


class BindingSpec(StrictModel):
    """Map one input to one parameter.

    ``in_range`` → ``out_range`` (reversed ``out_range`` inverts), shaped by ``curve``; inputs
    that move less than ``deadband`` (a fraction of ``in_range``) are ignored; ``smoothing``
    ``slew`` limits the rate to a full ``out_range`` swing per ``time`` seconds, ``onepole``
    follows with time constant ``time`` seconds, ``envelope`` is a one-pole follower with time
    constant ``attack`` while rising and ``release`` while falling (a beat's pulse that decays).
    """

    input: str
    param: str
    arg: int = Field(0, ge=0, description="which OSC argument carries the value")
    in_range: tuple[float, float] | None = None
    out_range: tuple[float, float] | None = None
    curve: Curve = "linear"
    curve_amount: float = Field(4.0, gt=0)
    smoothing: Smoothing = "none"
    time: float = Field(0.0, ge=0)
    deadband: float = Field(0.0, ge=0, lt=0.5)
    attack: float = Field(0.0, ge=0, description="envelope: seconds (time constant) to follow a rise; 0 = at once")
    release: float = Field(0.0, ge=0, description="envelope: seconds (time constant) to follow a fall; 0 = at once")

    @field_validator("input", "param")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/") or " " in v:
            raise ValueError(f"{v!r} must be an address like /1/fader1 or /midi/cc/1/7")
        return v

    @field_validator("in_range")
    @classmethod
    def _in_range(cls, v):
        if v is not None and v[0] == v[1]:
            raise ValueError(f"in_range {list(v)} is empty")
        return v

    @model_validator(mode="after")
    def _smoothing_time(self):
        if self.smoothing not in ("none", "envelope") and self.time <= 0:
            raise ValueError(f"smoothing {self.smoothing!r} needs time > 0 (seconds)")
        return self

    def resolved_in_range(self) -> tuple[float, float]:
        if self.in_range is not None:
            return self.in_range
        return (0.0, 127.0) if self.input.startswith("/midi/") else (0.0, 1.0)

    def to_toml(self) -> str:
        """The ``[[bindings]]`` table for this spec (MIDI learn prints it for the show file)."""
        lines = ["[[bindings]]"]
        for key, value in self.model_dump(exclude_defaults=True).items():
            lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines)


def _toml_value(v) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


#: the show schema's types for the two tables
ControlTable = ControlConfig
BindingList = list[BindingSpec]

__all__ = [
    "AudioConfig",
    "BindingList",
    "BindingSpec",
    "Combine",
    "ControlConfig",
    "ControlTable",
    "Curve",
    "MidiConfig",
    "OscConfig",
    "OscOutConfig",
    "ParamOverride",
    "ReplayConfig",
    "SerialConfig",
    "Smoothing",
    "parse_target",
]
