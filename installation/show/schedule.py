"""Opening hours: whether the venue is open at a wall-clock moment, and where the show should be.

A machine restarted at 14:32 asks :meth:`OpeningHours.position` and resumes at the show time the
schedule implies, instead of starting the show from the top:

* ``resume = "opening"`` — show time restarts at every opening (the show "begins" each morning);
* ``resume = "continuous"`` — show time is the open time accumulated since ``epoch``, so the show
  picks up tomorrow where it stopped tonight.

Ranges whose close is at or before their open run past midnight (``"20:00-02:00"`` on a Friday
ends Saturday 02:00).  Durations are real elapsed seconds (UTC), so a daylight-saving night is
an hour shorter or longer, as the clock on the wall says.

Every query takes an *instant* — epoch seconds (``time.time()``) or an aware datetime — and
converts it to the venue's zone with :mod:`zoneinfo`, so the host's own ``TZ`` never matters
(servers run in UTC, venues do not).  A naive datetime is read as the venue's wall clock, as the
show file writes its hours; on the night the clocks go back an ambiguous wall time is its first
occurrence, and a wall time the clocks skip is moved on by the gap (``fold = 0``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

from .schema import WEEKDAYS, Schedule, parse_hours

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Position:
    open: bool
    show_t: float  # show time the schedule implies (meaningful when open)
    period_start: dt.datetime | None  # when the current opening (or closure) began, aware
    fade: float  # output gain for the open/close fades, 0..1
    since_close: float = 0.0  # seconds since the venue closed (when closed)


class OpeningHours:
    def __init__(self, spec: Schedule):
        self.spec = spec
        self.zone = zoneinfo.ZoneInfo(spec.timezone) if spec.timezone else None
        self.ranges = {day: [parse_hours(r) for r in ranges] for day, ranges in spec.hours.items()}
        self.closed = set(spec.closed)
        self._cum = lru_cache(maxsize=64)(self._cum_before)

    # -- intervals ----------------------------------------------------------------------
    def _aware(self, date: dt.date, time: dt.time) -> dt.datetime:
        naive = dt.datetime.combine(date, time)
        return naive.replace(tzinfo=self.zone) if self.zone else naive.astimezone()

    def intervals(self, date: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Opening intervals that begin on ``date`` (aware datetimes)."""
        if date in self.closed:
            return []
        day = WEEKDAYS[date.weekday()]
        ranges = self.ranges.get(day, self.ranges.get("daily", []))
        out = []
        for open_, close in ranges:
            end_date = date if close > open_ else date + dt.timedelta(days=1)
            out.append((self._aware(date, open_), self._aware(end_date, close)))
        return out

    def localize(self, when: dt.datetime | float | int) -> dt.datetime:
        """``when`` on the venue's wall clock (aware): epoch seconds and aware datetimes are instants,
        a naive datetime is already venue wall time.  Without a ``timezone`` the venue is the host's zone."""
        if isinstance(when, (int, float)):
            when = dt.datetime.fromtimestamp(float(when), UTC)
        elif not isinstance(when, dt.datetime):
            raise TypeError(f"a schedule needs an instant (epoch seconds or datetime), got {type(when).__name__}")
        if when.tzinfo is None:
            if self.zone is None:
                return when.astimezone()
            # round-trip through UTC: a skipped wall time gets the offset it really has
            return when.replace(tzinfo=self.zone).astimezone(UTC).astimezone(self.zone)
        return when.astimezone(self.zone) if self.zone else when.astimezone()

    @staticmethod
    def _seconds(a: dt.datetime, b: dt.datetime) -> float:
        return (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds()

    def _cum_before(self, date: dt.date) -> float:
        """Open seconds in intervals beginning on days from ``epoch`` up to (not including) ``date``."""
        total, d = 0.0, self.spec.epoch
        while d < date:
            total += sum(self._seconds(a, b) for a, b in self.intervals(d))
            d += dt.timedelta(days=1)
        return total

    # -- queries --------------------------------------------------------------------------
    def current(self, when: dt.datetime | float) -> tuple[dt.datetime, dt.datetime] | None:
        when = self.localize(when)
        today = when.date()
        for d in (today - dt.timedelta(days=1), today):
            for a, b in self.intervals(d):
                if self._seconds(a, when) >= 0 and self._seconds(when, b) > 0:
                    return a, b
        return None

    def last_close(self, when: dt.datetime | float, days: int = 14) -> dt.datetime | None:
        when = self.localize(when)
        best = None
        for k in range(days + 1):
            for _, b in self.intervals(when.date() - dt.timedelta(days=k)):
                if self._seconds(b, when) >= 0 and (best is None or self._seconds(best, b) > 0):
                    best = b
            if best is not None and k >= 1:
                break
        return best

    def position(self, when: dt.datetime | float) -> Position:
        """Open or closed at the instant ``when``, the show time and fade the schedule implies there."""
        when = self.localize(when)
        interval = self.current(when)
        if interval is None:
            close = self.last_close(when)
            since = self._seconds(close, when) if close is not None else 0.0
            return Position(False, 0.0, close, 0.0, since)
        a, b = interval
        into, left = self._seconds(a, when), self._seconds(when, b)
        fade = 1.0
        if self.spec.fade > 0:
            fade = min(1.0, into / self.spec.fade, left / self.spec.fade)
        if self.spec.resume == "opening":
            return Position(True, into, a, fade)
        day = a.date()
        if day < self.spec.epoch:
            return Position(True, into, a, fade)
        before = self._cum(day)
        earlier = sum(self._seconds(x, y) for x, y in self.intervals(day) if self._seconds(y, a) >= 0)
        return Position(True, before + earlier + into, a, fade)
