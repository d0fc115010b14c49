"""Several hosts, one show: show time from Ableton Link, cues scheduled on every host.

:func:`link_clock` makes the clock a live run uses under ``[sync] link = true``;
:func:`attach` makes the show's control layer forward what its inputs receive to the other
hosts and apply it at one scheduled show time.  The app sees only a clock and control events.
"""

from __future__ import annotations

import logging
from typing import Any

from .clock import LinkClock
from .cues import ForwardingQueue

log = logging.getLogger(__name__)

__all__ = ["LinkClock", "attach", "link_clock", "listen_osc_group"]


def link_clock(show: Any) -> LinkClock:
    """The Link clock for ``show`` (its ``[sync]`` table); aalink missing is one clear line."""
    from ..link import require_aalink

    require_aalink(f"{show.source or 'the show'}: [sync] link = true")
    return LinkClock(show.sync, show.show.name)


def attach(control: Any, clock: LinkClock) -> None:
    """Before the inputs start: their events go through the cue schedule and to the peers."""
    query = getattr(getattr(control.config, "osc", None), "query_address", None)
    control.events = ForwardingQueue(
        control.events, clock.cues, clock.cue_time, clock.send_cue, local_addresses=(query,) if query else ()
    )
    control.timed.append(clock.cues)


def listen_osc_group(control: Any, cfg: Any) -> bool:
    """After the inputs start: the OSC server also joins ``[sync] osc_group``, so a controller that
    sends there reaches every host (the cue schedule keeps one copy).  False, logged, when it cannot."""
    import socket

    if cfg.osc_group is None:
        return False
    sock = getattr(control.inputs.get("osc"), "_sock", None)
    if sock is None:
        log.error("[sync] osc_group %s: the show has no OSC input running", cfg.osc_group)
        return False
    iface = socket.inet_aton(cfg.interface or "0.0.0.0")
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(cfg.osc_group) + iface)
    except OSError as exc:
        log.error("[sync] cannot listen for OSC on the group %s: %s", cfg.osc_group, exc.strerror or exc)
        return False
    log.info("sync: OSC also on the multicast group %s", cfg.osc_group)
    return True
