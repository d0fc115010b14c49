"""The ``[sync]`` table: several hosts playing one show in lock-step on Ableton Link (docs/operations.md).

Here, in the show layer, because the show schema embeds it; the clock and the peer bus that read
it live in :mod:`installation.sync`.  Link shares tempo and phase without a master; show time is
counted in beats from an epoch the hosts carry between them on ``address``:``port``, so every
host plays the same show time and a host that starts late joins at the current position.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from ..problems import StrictModel


class SyncConfig(StrictModel):
    """Off unless ``link = true``.  Every host of one show must use the same table."""

    link: bool = Field(False, description="join the Ableton Link session and play the show time the hosts share")
    tempo: float = Field(
        120.0,
        ge=20,
        le=999,
        description="beats per minute the show is counted in: one beat is 60/tempo s of show time "
        "(a Link peer that changes the session tempo speeds the show up or slows it down)",
    )
    beat: float = Field(
        0.0,
        ge=0,
        description="the beat at which show time 0 falls, as the host that starts the session counts "
        "(its phase within the quantum is kept by every host)",
    )
    quantum: float = Field(4.0, gt=0, le=64, description="beats per bar: Link aligns the phase within it")
    latency: float = Field(
        0.0,
        ge=0,
        le=2,
        description="seconds this host's frames take to reach the light (render, scan-out, "
        "projector): frames are rendered that far ahead",
    )
    cue_lead: float = Field(
        0.25,
        ge=0,
        le=10,
        description="seconds ahead a cue or control message is scheduled, so it reaches every host "
        "before its show time",
    )
    cue_quantize: bool = Field(False, description="also round a cue's show time up to the next bar (quantum)")
    join_wait: float = Field(
        1.5,
        ge=0,
        le=30,
        description="seconds a starting host listens for the others before it starts the show itself",
    )
    address: str = Field(
        "239.255.20.9",
        description="multicast group (or broadcast address) the hosts share the epoch and cues on",
    )
    port: int = Field(20809, ge=1, le=65535, description="UDP port of the peer messages (Link itself uses 20808)")
    osc_group: str | None = Field(
        None,
        description="a multicast group the hosts' OSC servers also listen on ([control.osc] port): "
        "a controller sending there reaches every host, and the cue still plays once",
    )
    interface: str | None = Field(
        None, description="local IPv4 address to send multicast from (default: the route to the group)"
    )

    @field_validator("address", "interface", "osc_group")
    @classmethod
    def _ipv4(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ipaddress.IPv4Address(v)
        except ValueError:
            raise ValueError(f"{v!r} is not an IPv4 address") from None
        return v

    @field_validator("osc_group")
    @classmethod
    def _group(cls, v: str | None) -> str | None:
        if v is not None and not ipaddress.IPv4Address(v).is_multicast:
            raise ValueError(
                f"{v!r} is not a multicast group (224.0.0.0/4); a broadcast reaches [control.osc] as it is"
            )
        return v

    @property
    def multicast(self) -> bool:
        return ipaddress.IPv4Address(self.address).is_multicast
