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

__all__ = ["LinkClock", "attach", "link_clock"]


def link_clock(show: Any) -> LinkClock:
    """The Link clock for ``show`` (its ``[sync]`` table); aalink missing is one clear line."""
    from .session import require_aalink

    require_aalink(f"{show.source or 'the show'}: [sync] link = true")
    return LinkClock(show.sync, show.show.name)


def attach(control: Any, clock: LinkClock) -> None:
    """Before the inputs start: their events go through the cue schedule and to the peers."""
    query = getattr(getattr(control.config, "osc", None), "query_address", None)
    control.events = ForwardingQueue(
        control.events, clock.cues, clock.cue_time, clock.send_cue, local_addresses=(query,) if query else ()
    )
    control.timed.append(clock.cues)
