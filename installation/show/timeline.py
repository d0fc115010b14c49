"""The timeline: which scenes are visible at show time ``t``, at what opacity.

A pure function of (show, t, the log of GO events): seeking is computing, never playing.

The show's cues fire one after another.  A cue fired at ``T`` starts its action at
``A = T + pre_wait``: a crossfade into its scene (or the first scene of its playlist), which then
plays for its duration (a playlist plays its items back to back, ``repeat`` times, or forever).
The next cue fires on GO (``manual``), ``post_wait`` after ``A`` (``auto-continue``) or when the
action ends (``auto-follow``); a GO always fires the next cue at once.  Until the next cue's
action starts, the last scene of the current one keeps playing.  A looping show wraps from the
last cue to the first.

Consecutive plays of the *same* scene do not crossfade into themselves: the scene keeps running
and its local time keeps counting (``run_start``), so a looping single-scene show is seamless.

Long automatic stretches repeat exactly, so the timeline skips whole cycles (of the cue list,
or of an endless playlist) by arithmetic: evaluating week 3 of a gallery show costs the same as
minute 1.

Given a beat source (``beats``, see installation/audio/beats.py), a cue with ``at_beat`` starts
its action on a beat, automatic or on GO, and a scene with ``keyframe_beats`` runs its local time
in beats, so its keyframes land on them (installation/show/beat_time.py).  Such a show is not
periodic in seconds, so its cycles are walked, not skipped.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

from . import beat_time
from .easing import ease
from .schema import Cue, Scene, Show, Transition

INF = math.inf


@dataclass(frozen=True)
class LayerState:
    index: int  # scene index in the show
    scene: Scene
    local_t: float  # seconds since this scene started (keeps running through the fade out)
    opacity: float


@dataclass(frozen=True)
class Segment:
    """One scene played from ``start`` (its crossfade begins there) until the next segment."""

    start: float
    scene: int
    transition: Transition
    run_start: float  # origin of the scene's local time (earlier than start when the scene continues)
    cue: int


@dataclass(frozen=True)
class Step:
    scene: int
    duration: float
    transition: Transition


@dataclass(frozen=True)
class Action:
    """A cue compiled: its steps, how often they repeat, and how it continues."""

    cue: Cue
    steps: tuple[Step, ...]
    repeat: int  # 0 = forever

    @property
    def pass_length(self) -> float:
        return sum(s.duration for s in self.steps)

    @property
    def length(self) -> float:
        return INF if self.repeat == 0 else self.pass_length * self.repeat

    @property
    def uniform(self) -> bool:
        return len({s.scene for s in self.steps}) == 1


@dataclass(frozen=True)
class Event:
    t: float
    kind: str  # "go" fires the next cue, "goto" fires cue ``cue``
    cue: int = -1
    transition: Transition | None = None  # live override (``/transition/time``) of the fired cue's transition


def implicit_cues(show: Show) -> list[Cue]:
    """A show without ``[[cues]]`` plays its scenes in order, each following the last."""
    return [Cue(scene=s.name) for s in show.scenes]


def compile_actions(show: Show) -> list[Action]:
    index = {s.name: i for i, s in enumerate(show.scenes)}
    playlists = {p.name: p for p in show.playlists}
    actions = []
    for cue in show.cues or implicit_cues(show):
        steps: tuple[Step, ...]
        if cue.scene is not None:
            i = index[cue.scene]
            scene = show.scenes[i]
            steps = (Step(i, cue.duration or scene.duration, cue.transition or scene.transition),)
            repeat = 1
        else:
            assert cue.playlist is not None  # Cue's validator: a scene or a playlist
            items = playlists[cue.playlist].items
            steps = tuple(
                Step(
                    index[it.scene],
                    it.duration or show.scenes[index[it.scene]].duration,
                    it.transition or show.scenes[index[it.scene]].transition,
                )
                for it in items
            )
            if cue.transition is not None:
                steps = (replace(steps[0], transition=cue.transition),) + steps[1:]
            repeat = cue.repeat
        actions.append(Action(cue, steps, repeat))
    return actions


def cycle_length(actions: list[Action]) -> float:
    """Show time one pass of an all-automatic cue list takes (``inf`` if a cue waits for GO)."""
    total = 0.0
    for a in actions:
        mode = a.cue.continue_
        if mode == "manual":
            return INF
        total += a.cue.pre_wait + (a.cue.post_wait if mode == "auto-continue" else a.length)
    return total


class Timeline:
    """Layers at any show time; ``origin``/``first_cue``/``before`` let a reloaded show take over mid-run."""

    def __init__(self, show: Show, origin: float = 0.0, first_cue: int = 0, before: Segment | None = None, beats=None):
        self.show = show
        self.actions = compile_actions(show)
        self.beats = beats  # a BeatSource, or None: at_beat and keyframe_beats then play unquantised
        self.now = INF  # show time now (the playhead sets it): beat landings up to it are kept
        self.landing = beat_time.Landing(self)
        self.origin = float(origin)
        self.first_cue = min(max(int(first_cue), 0), len(self.actions) - 1)
        self.before = before
        self.events: list[Event] = []
        if show.loop and cycle_length(self.actions) <= 1e-9:
            raise ValueError("the cue list loops without taking any time: give a cue a duration or a wait")

    # -- control --------------------------------------------------------------------------
    def go(self, t: float, transition: Transition | None = None) -> None:
        """GO at show time ``t``: fire the cue standing by (with ``transition`` instead of its own, if given)."""
        self._add(Event(float(t), "go", transition=transition))

    def goto(self, t: float, cue: int, transition: Transition | None = None) -> None:
        self._add(Event(float(t), "goto", min(max(int(cue), 0), len(self.actions) - 1), transition))

    def _add(self, ev: Event) -> None:
        keys = [e.t for e in self.events]
        self.events.insert(bisect.bisect_right(keys, ev.t), ev)

    # -- queries --------------------------------------------------------------------------
    def _following(self, c: int) -> int | None:
        if c + 1 < len(self.actions):
            return c + 1
        return 0 if self.show.loop else None

    def _next_fire(
        self, T: float, c: int, events: list[Event], ev: int
    ) -> tuple[float, int | None, int, Transition | None]:
        """When and which cue fires after cue ``c`` fired at ``T``, and any live transition; consumes events."""
        a = self.actions[c]
        start = T + a.cue.pre_wait
        mode = a.cue.continue_
        auto = (
            start + a.cue.post_wait if mode == "auto-continue" else (start + a.length if mode == "auto-follow" else INF)
        )
        nxt = self._following(c)
        if nxt is None:
            auto = INF
        auto = self.landing.fire(auto, nxt)
        while ev < len(events) and events[ev].t < auto:
            e = events[ev]
            ev += 1
            target = self._following(c) if e.kind == "go" else e.cue
            if target is not None:
                return self.landing.fire(max(e.t, T), target), target, ev, e.transition
        return auto, (nxt if auto < INF else None), ev, None

    def walk(self, t: float) -> tuple[Segment | None, Segment | None, float, int | None]:
        """(previous segment, current segment, when the next cue fires, which) at show time ``t``."""
        events = [e for e in self.events if self.origin <= e.t <= t]
        state: dict[str, Segment | None] = {"prev": None, "cur": None}
        log: list[int] = []

        def emit(seg: Segment, fresh: bool = False) -> None:
            cur = state["cur"]
            if cur is not None and seg.scene == cur.scene and not fresh:
                seg = replace(seg, run_start=cur.run_start)
            state["prev"], state["cur"] = cur, seg
            log.append(seg.scene)

        if self.before is not None:
            emit(self.before)
        T, c, ev, override = self.origin, self.first_cue, 0, None
        seen: dict[int, tuple[float, int]] = {}
        while True:
            if ev >= len(events) and not self.landing.quantised:  # fully automatic from here on: skip cycles
                if c in seen:
                    T0, n0 = seen.pop(c)
                    period = T - T0
                    k = math.floor((t - T) / period) if period > 0 and len(log) > n0 else 0
                    if k > 0:
                        uniform = len(set(log[n0:])) == 1 and (n0 == 0 or log[n0 - 1] == log[n0])
                        shift = k * period
                        for key in ("prev", "cur"):
                            s = state[key]
                            if s is not None:
                                state[key] = replace(
                                    s, start=s.start + shift, run_start=s.run_start + (0.0 if uniform else shift)
                                )
                        T += shift
                    seen.clear()
                seen[c] = (T, len(log))
            nT, nc, ev, n_override = self._next_fire(T, c, events, ev)
            a_next = nT + self.actions[nc].cue.pre_wait if nc is not None else INF
            self._emit_action(c, T + self.actions[c].cue.pre_wait, a_next, t, emit, override)
            if nT > t or nc is None:
                return state["prev"], state["cur"], nT, nc
            T, c, override = nT, nc, n_override

    def _emit_action(
        self, c: int, start: float, until: float, t: float, emit, override: Transition | None = None
    ) -> None:
        """Emit the segments of cue ``c`` whose action starts at ``start``, up to ``min(until, t)``.

        ``override`` replaces the transition into the cue's first step (a live ``/transition/time``).
        """
        a = self.actions[c]
        if override is not None:  # only the way in: later passes of a repeating playlist keep their own
            emit = self._first_transition(emit, start, override)
        limit = min(until, t)
        if start > limit or (start >= until):
            return
        L = a.pass_length
        passes = INF if a.repeat == 0 else a.repeat
        first = 0
        skip = math.floor((limit - start) / L) - 1 if L > 0 else 0
        if skip >= 2:  # jump over whole passes, re-emitting just enough to keep run starts right
            skip = int(min(skip, passes - 1))
            if a.uniform:  # one scene throughout: its run began with the first pass
                self._emit_pass(a, c, start, 0, 0, until, t, emit)
            else:
                self._emit_pass(a, c, start, skip - 2, len(a.steps) - 1, until, t, emit, fresh=True)
            self._emit_pass(a, c, start, skip - 1, 0, until, t, emit)
            first = skip
        p = first
        while p < passes:
            if not self._emit_pass(a, c, start, p, 0, until, t, emit):
                return
            p += 1

    @staticmethod
    def _first_transition(emit, start: float, transition: Transition):
        def wrapped(seg: Segment, fresh: bool = False) -> None:
            emit(replace(seg, transition=transition) if seg.start == start else seg, fresh)

        return wrapped

    @staticmethod
    def _emit_pass(
        a: Action, c: int, start: float, p: int, j0: int, until: float, t: float, emit, fresh: bool = False
    ) -> bool:
        offset = start + p * a.pass_length + sum(s.duration for s in a.steps[:j0])
        for step in a.steps[j0:]:
            if offset >= until or offset > t:
                return False
            emit(Segment(offset, step.scene, step.transition, offset, c), fresh)
            fresh = False
            offset += step.duration
        return True

    def current(self, t: float) -> Segment | None:
        return self.walk(t)[1]

    def next_fire(self, t: float) -> tuple[float, int | None]:
        """(show time, cue index) of the next cue boundary after ``t``; ``inf`` when the show waits for GO."""
        return self.walk(t)[2:]

    def following(self, cue: int) -> int | None:
        """The cue a GO fires when ``cue`` is the last one fired."""
        return self._following(cue)

    def layers_at(self, t: float) -> list[LayerState]:
        prev, cur, _, _ = self.walk(t)
        if cur is None:
            return []
        scenes = self.show.scenes
        local = self.landing.local_time
        layer = LayerState(cur.scene, scenes[cur.scene], local(cur.scene, t, cur.run_start), 1.0)
        tr, since = cur.transition, t - cur.start
        if prev is None or cur.run_start < cur.start or tr.curve == "cut" or since >= tr.duration:
            return [layer]
        return [
            LayerState(prev.scene, scenes[prev.scene], local(prev.scene, t, prev.run_start), 1.0),
            replace(layer, opacity=ease(tr.curve, since / tr.duration)),
        ]

    def scene_index_at(self, t: float) -> tuple[int, float, int]:
        """(scene index, local time, cue index) at show time ``t`` (kept for simple callers)."""
        cur = self.current(t)
        if cur is None:
            return self.actions[self.first_cue].steps[0].scene, 0.0, self.first_cue
        return cur.scene, t - cur.run_start, cur.cue
