"""The playhead: what the running show shows at each frame.

It joins the pure parts — the :class:`~.timeline.Timeline` (show time → layers), the GO log,
the :class:`~.schedule.OpeningHours` (wall clock → show time) — with the two stateful ones: the
operator's GO/goto actions and hot reload.  A valid edit of the show file is staged and applied
at the next cue boundary (a cue firing automatically, or a GO); an invalid edit is reported and
the running show continues.  ``App`` asks it once per frame.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .reload import ShowWatcher
from .schedule import OpeningHours, Position
from .schema import Show
from .timeline import LayerState, Segment, Timeline

log = logging.getLogger(__name__)


def _source_key(scene) -> str:
    """What a scene's generator worker depends on: a scene whose key is unchanged keeps running."""
    return scene.model_dump_json(include={"generator", "walk", "post", "keyframe_rate", "truncation"})


class Playhead:
    def __init__(
        self,
        show: Show,
        now: Callable[[], float | dt.datetime] | None = None,
        watch: Path | str | None = None,
        watch_interval: float = 1.0,
        hours_gate_only: bool = False,
    ):
        self.show = show
        # [sync]: opening hours open, close and fade the show by the venue's wall clock, but show
        # time is the hosts' shared one (every host's clock agrees with the others through chrony)
        self.hours_gate_only = hours_gate_only
        self._beats = None  # a BeatSource for cues at_beat and keyframe_beats (see :attr:`beats`)
        self.timeline = Timeline(show)
        self.now = now
        self.hours = OpeningHours(show.schedule) if (show.schedule and now) else None
        self.watcher = ShowWatcher(watch, watch_interval, show=show) if watch else None
        self.pending: Show | None = None
        self.boundary: float | None = None
        self.t = 0.0
        self.position: Position | None = None
        self.venue_time: dt.datetime | None = None  # the wall-clock instant of ``position``, in the venue's zone
        self._period: dt.datetime | None = None
        #: after a reload: old scene index → new scene index (or None when the scene's source changed)
        self.remap: dict[int, int | None] | None = None
        self.standby: int | None = None  # a cue chosen with /cue/next|prev, fired by the next GO

    @property
    def beats(self):
        """The show's beat source (installation/audio/beats.py); every timeline made from now on uses it."""
        return self._beats

    @beats.setter
    def beats(self, source) -> None:
        self._beats = self.timeline.beats = source

    # -- operator actions ---------------------------------------------------------------
    def standing_by(self) -> int | None:
        """The cue GO fires now: the one after the current cue, unless moved with :meth:`move_standby`."""
        if self.standby is not None:
            return self.standby
        cur = self.timeline.current(self.t)
        return self.timeline.following(cur.cue) if cur else self.timeline.first_cue

    def move_standby(self, step: int) -> None:
        """``/cue/next`` and ``/cue/prev``: move the standby without firing."""
        k = self.standing_by()
        n = len(self.timeline.actions)
        self.standby = ((n - 1 if k is None else k) + step) % n

    def go(self, transition=None) -> None:
        """Fire the standing-by cue; ``transition`` (a :class:`Transition`) overrides its own."""
        target, standby, self.standby = self.standing_by(), self.standby, None
        if self.pending is not None:
            if target is not None:
                self._swap(self.t, target)
            return
        if standby is not None:
            self.timeline.goto(self.t, standby, transition)
        else:
            self.timeline.go(self.t, transition)

    def goto(self, cue: int, transition=None) -> None:
        self.standby = None
        if self.pending is not None:
            self._swap(self.t, cue)
            return
        self.timeline.goto(self.t, cue, transition)

    def cue_index(self, name_or_index) -> int | None:
        """A cue by name or position, or the first cue playing the named scene."""
        if isinstance(name_or_index, int) or (isinstance(name_or_index, str) and name_or_index.isdigit()):
            return int(name_or_index)
        for k, action in enumerate(self.timeline.actions):
            if action.cue.name == name_or_index:
                return k
        for k, action in enumerate(self.timeline.actions):
            if any(self.show.scenes[s.scene].name == name_or_index for s in action.steps):
                return k
        return None

    # -- per frame ------------------------------------------------------------------------
    def update(self, clock_t: float) -> list[LayerState]:
        self.remap = None
        if self.watcher is not None:
            fresh = self.watcher.poll()
            if fresh is not None:
                self.pending = fresh
                self.boundary = None
        if self.hours is not None and self.now is not None:  # hours are only made with a clock
            return self._scheduled(self.hours, self.now(), clock_t)
        return self._at(clock_t)

    def _at(self, t: float) -> list[LayerState]:
        self.t = t
        self.timeline.now = t  # beat landings up to now are kept (a live beat source keeps learning)
        if self.pending is not None:
            if self.boundary is None:
                self.boundary, self._boundary_cue = self.timeline.next_fire(t)
            if t >= self.boundary and self._boundary_cue is not None:
                self._swap(self.boundary, self._boundary_cue)
        return self.timeline.layers_at(t)

    def _scheduled(self, hours: OpeningHours, now: float | dt.datetime, clock_t: float = 0.0) -> list[LayerState]:
        when = hours.localize(now)
        pos = hours.position(when)
        self.position, self.venue_time = pos, when
        self._seen = (pos, when)  # one store: /status reads it from the server thread
        if not pos.open:
            if self.pending is not None:
                self._swap(0.0, 0, fresh=True)
            self._period = None
            sched = hours.spec  # the show's schedule, which ``hours`` was made from
            if sched.outside == "hold" and sched.holding_scene is not None:
                i = self.show.scene_index(sched.holding_scene)
                return [LayerState(i, self.show.scenes[i], pos.since_close, 1.0)]
            return []
        if self.hours_gate_only:  # open or closed by the wall clock; the position is the hosts'
            layers = self._at(clock_t)
        else:
            if pos.period_start != self._period:
                if self._period is not None or hours.spec.resume == "opening":
                    self.timeline = Timeline(self.show, beats=self._beats)  # a new opening: a fresh cue list and GO log
                self._period = pos.period_start
            layers = self._at(pos.show_t)
        if pos.fade < 1.0:
            layers = [replace(layer, opacity=layer.opacity * pos.fade) for layer in layers]
        return layers

    def schedule_status(self) -> dict | None:
        """The schedule as the last frame saw it, for ``/status`` (``None`` when no schedule applies)."""
        seen = getattr(self, "_seen", None)
        if self.hours is None or seen is None:
            return None
        pos, when = seen
        return {
            "timezone": self.hours.spec.timezone or str(when.tzinfo),
            "venue_time": when.isoformat(timespec="milliseconds"),
            "open": pos.open,
            "show_time_s": round(pos.show_t, 3) if pos.open else None,
            "fade": round(pos.fade, 4),
            "period_start": pos.period_start.isoformat() if pos.period_start is not None else None,
            "since_close_s": round(pos.since_close, 3) if not pos.open else None,
        }

    # -- hot reload ---------------------------------------------------------------------
    def _map_cue(self, new: Show, old_cue: int) -> int:
        old = self.timeline.actions[old_cue].cue
        new_tl_cues = Timeline(new).actions
        for k, a in enumerate(new_tl_cues):
            if old.name and a.cue.name == old.name:
                return k
        for k, a in enumerate(new_tl_cues):
            if (a.cue.scene, a.cue.playlist) == (old.scene, old.playlist):
                return k
        return min(old_cue, len(new_tl_cues) - 1)

    def _swap(self, at: float, old_cue: int, fresh: bool = False) -> None:
        new, old = self.pending, self.show
        if new is None:  # every caller checks for a staged show first
            return
        self.pending, self.boundary = None, None
        names = {s.name: i for i, s in enumerate(new.scenes)}
        self.remap = {}
        for i, scene in enumerate(old.scenes):
            j = names.get(scene.name)
            self.remap[i] = j if j is not None and _source_key(new.scenes[j]) == _source_key(scene) else None
        before: Segment | None = None
        if not fresh:
            prev, cur, _, _ = self.timeline.walk(at)
            if cur is not None and cur.start >= at:  # the old timeline's own cue at the boundary: take what it left
                cur = prev
            if cur is not None and old.scenes[cur.scene].name in names:
                before = replace(cur, scene=names[old.scenes[cur.scene].name])
        first = 0 if fresh else self._map_cue(new, old_cue)
        try:
            self.timeline = Timeline(new, origin=at, first_cue=first, before=before, beats=self._beats)
        except ValueError as exc:
            log.error("reloaded show rejected: %s", exc)
            self.remap = None
            return
        self.show = new
        if new.schedule and self.now:
            self.hours = OpeningHours(new.schedule)
        log.info("show reloaded at t=%.2f s, cue %d", at, first)
