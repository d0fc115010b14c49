"""The show-file schema (TOML, validated with pydantic).

Unknown keys are errors everywhere except inside the plugin-owned tables (generator options,
walk parameters, post-stage parameters), which are checked when the plugin builds the object.
Cue words follow QLab: a cue fires (GO, or automatically), waits ``pre_wait``, then its action
starts (the crossfade into its scene); ``auto-continue`` fires the next cue ``post_wait`` after
the action starts, ``auto-follow`` when the action ends.  Syntax reference: docs/shows.md.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ..problems import StrictModel
from .audio_types import AudioTrackConfig, beat_source_problems
from .control_types import BindingList, ControlTable
from .sync_types import SyncConfig
from .web_types import WebConfig

Curve = Literal["linear", "smooth", "ease-in", "ease-out", "ease-in-out", "cut"]
Continue = Literal["manual", "auto-continue", "auto-follow"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
FitMode = Literal["cover", "contain", "stretch"]
Anchor = Literal["center", "top", "bottom", "left", "right", "top-left", "top-right", "bottom-left", "bottom-right"]
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


#: the one strict base of every file schema (unknown keys are errors); see installation.problems


class PluginTable(BaseModel):
    """A table whose extra keys are options passed to a plugin factory."""

    model_config = ConfigDict(extra="allow")

    def options(self, *exclude: str) -> dict[str, Any]:
        return {k: v for k, v in (self.model_extra or {}).items() if k not in exclude}


class GeneratorSpec(PluginTable):
    plugin: str = Field(description="generator name from `installation plugins`")
    checkpoint: str | None = Field(None, description="weights file; empty for the plugin's shipped weights")


class WalkSpec(PluginTable):
    type: str = Field("slerp", description="walk name: slerp, loop, noise, random, steered, directions")
    seed: int = 0
    space: Literal["auto", "z", "w"] = Field(
        "auto", description="latent space the walk moves in (w needs a mapping network)"
    )


class PostSpec(PluginTable):
    stage: str = Field(description="post stage name")
    mix: float = Field(
        1.0,
        ge=0,
        le=1,
        description="blend of the stage's output over its input, for stages that "
        "keep the frame size (the live /post/STAGE/mix multiplies on top)",
    )


class Transition(StrictModel):
    """A crossfade into a scene: ``duration`` seconds shaped by ``curve`` (``cut`` ignores duration)."""

    duration: float = Field(2.0, ge=0)
    curve: Curve = "smooth"


def _as_transition(v: Any) -> Any:
    return {"duration": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def _number_too(schema: dict) -> None:
    """JSON Schema: a transition may also be written as a plain number of seconds."""
    number = {"type": "number", "minimum": 0}
    if "$ref" in schema:
        schema["anyOf"] = [{"$ref": schema.pop("$ref")}, number]
    elif "anyOf" in schema:
        schema["anyOf"].append(number)


#: a transition table, or just its duration in seconds (``transition = 3``)
TransitionSpec = Annotated[Transition, BeforeValidator(_as_transition)]


class ShowInfo(StrictModel):
    name: str = "Untitled show"
    seed: int = 0
    fallback: str | None = Field(
        None, description="scene shown where a scene's plugin fails (default: a built-in noise field)"
    )
    on_error: Literal["fail", "fallback"] = Field(
        "fail",
        description="a scene whose model cannot load (missing or broken checkpoint ...): `fail` refuses the show "
        "and ends an offline render non-zero; `fallback` plays the fallback scene in its place",
    )


class OutputSpec(StrictModel):
    width: int = Field(1280, ge=16, le=16384)
    height: int = Field(720, ge=16, le=16384)
    fps: float = Field(30.0, gt=0, le=240)
    brightness: float = Field(1.0, ge=0.0, le=4.0)
    fit: FitMode = Field(
        "cover",
        description="how a frame fills the output: cover (crop the excess), "
        "contain (whole frame, bars of `background`), stretch",
    )
    anchor: Anchor = Field("center", description="the part kept by cover, or where contain places the frame")
    background: str = Field("#000000", description="colour of contain's letterbox/pillarbox bars, #rrggbb")
    trim: float = Field(
        0.0,
        ge=0.0,
        le=0.25,
        description="fraction of the frame cut from each edge before fitting (a model's unreliable border texels)",
    )

    @field_validator("background")
    @classmethod
    def _colour(cls, v: str) -> str:
        _check_colour(v)
        return v

    @field_validator("width", "height")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("must be even (video encoders need even sizes)")
        return v


def _check_colour(v: str | None) -> str | None:
    if v is not None and not _COLOUR.match(v):
        raise ValueError(f'{v!r} is not a colour like "#000000" (#rrggbb, hex digits)')
    return v


class WindowOutputOptions(StrictModel):
    display: int = Field(0, ge=0, description="monitor index (0 = primary)")
    fullscreen: bool = False
    position: tuple[int, int] | None = Field(None, description="[x, y] desktop pixels of the window's corner")


class RecordOutputOptions(StrictModel):
    path: str = Field(description="video file (H.264), relative to the show file")
    crf: int = Field(18, ge=0, le=51, description="H.264 quality: 0 lossless, 18 visually lossless")


class HeadlessOutputOptions(StrictModel):
    pass


#: option tables of the built-in output types, checked with the show; plugin types check their own
BUILTIN_OUTPUT_OPTIONS: dict[str, type[StrictModel]] = {
    "window": WindowOutputOptions,
    "record": RecordOutputOptions,
    "headless": HeadlessOutputOptions,
}


class OutputEntry(PluginTable):
    """One of the show's ``[[outputs]]``: where the canvas (``[output]``) is shown or sent."""

    type: str = Field(description="output type: window, record, headless, or one a plugin registers")

    @model_validator(mode="after")
    def _builtin_options(self) -> OutputEntry:
        model = BUILTIN_OUTPUT_OPTIONS.get(self.type)
        if model is not None:
            from pydantic import ValidationError

            try:
                model.model_validate(self.options())
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise ValueError(f"{self.type} output: {where + ': ' if where else ''}{err['msg']}") from None
        return self

    def typed_options(self) -> dict[str, Any]:
        """The options as the factory takes them (built-in types: validated and defaulted)."""
        model = BUILTIN_OUTPUT_OPTIONS.get(self.type)
        if model is None:
            return self.options()
        return model.model_validate(self.options()).model_dump(exclude_unset=True)


class SceneOutput(StrictModel):
    """Per-scene output parameters applied in the compositor."""

    opacity: float = Field(1.0, ge=0.0, le=1.0, description="layer opacity at full fade")


class Scene(StrictModel):
    name: str
    duration: float = Field(
        60.0, gt=0, description="seconds the scene plays before the next (when no cue says otherwise)"
    )
    keyframe_rate: float = Field(3.0, gt=0, le=120, description="keyframes generated per second")
    transition: TransitionSpec = Field(
        default_factory=Transition,
        description="crossfade into this scene: seconds or {duration, curve}",
        json_schema_extra=_number_too,
    )
    truncation: float | None = Field(
        None, ge=0.0, le=2.0, description="truncation psi for w-space generators (1 = none)"
    )
    generator: GeneratorSpec
    walk: WalkSpec = Field(default_factory=WalkSpec)
    post: list[PostSpec] = []
    output: SceneOutput = Field(default_factory=SceneOutput)
    fit: FitMode | None = Field(None, description="this scene's fit (default: [output] fit)")
    anchor: Anchor | None = Field(None, description="this scene's anchor (default: [output] anchor)")
    background: str | None = Field(None, description="this scene's bar colour (default: [output] background)")
    trim: float | None = Field(None, ge=0.0, le=0.25, description="this scene's edge trim (default: [output] trim)")
    keyframe_beats: float | None = Field(
        None,
        gt=0,
        description="keyframes land on the beat: one every N beats of the show's beat source "
        "(keyframe_rate then only sets how far the walk moves per keyframe); docs/audio.md",
    )

    @field_validator("background")
    @classmethod
    def _colour(cls, v: str | None) -> str | None:
        return _check_colour(v)


class PlaylistItem(StrictModel):
    scene: str
    duration: float | None = Field(None, gt=0, description="default: the scene's duration")
    transition: TransitionSpec | None = Field(None, json_schema_extra=_number_too)


class Playlist(StrictModel):
    """A named sequence of scenes played back to back as one cue's action."""

    name: str
    items: list[PlaylistItem] = Field(min_length=1)

    @field_validator("items", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:  # items = ["a", "b"] is short for [{scene = "a"}, {scene = "b"}]
        return [{"scene": x} if isinstance(x, str) else x for x in v] if isinstance(v, list) else v


class Cue(StrictModel):
    """One step of the show: play a scene (or a playlist) after ``pre_wait``, then continue."""

    name: str | None = None
    scene: str | None = None
    playlist: str | None = None
    repeat: int = Field(1, ge=0, description="playlist passes; 0 = loop until the next cue fires")
    duration: float | None = Field(None, gt=0, description="action length (default: the scene's duration)")
    transition: TransitionSpec | None = Field(
        None, description="crossfade into this cue (default: the scene's)", json_schema_extra=_number_too
    )
    pre_wait: float = Field(0.0, ge=0)
    post_wait: float = Field(0.0, ge=0, description="auto-continue: seconds after the action starts")
    continue_: Continue = Field("auto-follow", alias="continue", description="manual waits for GO")
    at_beat: float | None = Field(
        None,
        gt=0,
        description="the cue's action starts on the next beat whose number is a multiple of this "
        "(1: the next beat, 4: the next bar of 4/4), automatic or on GO; docs/audio.md",
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one_target(self) -> Cue:
        if (self.scene is None) == (self.playlist is None):
            raise ValueError("a cue plays exactly one of `scene` or `playlist`")
        if self.repeat != 1 and self.playlist is None:
            raise ValueError("`repeat` applies to playlists only")
        if self.continue_ == "auto-follow" and self.repeat == 0:
            raise ValueError('an endless playlist (repeat = 0) never ends: use continue = "manual" or "auto-continue"')
        if self.post_wait and self.continue_ != "auto-continue":
            raise ValueError('post_wait only applies with continue = "auto-continue"')
        return self


def parse_hours(text: str) -> tuple[dt.time, dt.time]:
    """``"10:00-18:00"`` → (open, close); a close at or before the open runs past midnight."""
    m = _HOURS.match(text)
    if not m:
        raise ValueError(f'{text!r} is not a time range like "10:00-18:00"')
    h1, m1, h2, m2 = map(int, m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an impossible time")
    return dt.time(h1, m1), (dt.time(0, 0) if h2 == 24 else dt.time(h2, m2))


class Schedule(StrictModel):
    """Opening hours: outside them the output is black or a holding scene."""

    timezone: str | None = Field(None, description="IANA zone, e.g. Europe/Berlin (default: the machine's)")
    hours: dict[str, list[str]] = Field(
        default_factory=dict, description='weekday (mon..sun, or daily) → ["10:00-18:00"]'
    )
    closed: list[dt.date] = Field(default_factory=list, description="dates the venue is shut")
    outside: Literal["blackout", "hold"] = "blackout"
    holding_scene: str | None = None
    resume: Literal["opening", "continuous"] = Field(
        "opening", description="show time restarts at each opening, or continues from `epoch` across days"
    )
    epoch: dt.date = Field(dt.date(2026, 1, 1), description="day the continuous show began")
    fade: float = Field(0.0, ge=0, description="fade up after opening and down before closing, seconds")

    @field_validator("hours", mode="before")
    @classmethod
    def _day_names(cls, v: Any) -> Any:  # "Monday" and "monday" are fine too
        if isinstance(v, dict):
            return {_FULL.get(str(k).lower(), str(k).lower()): r for k, r in v.items()}
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, ranges in v.items():
            if day not in WEEKDAYS + ("daily",):
                import difflib

                names = dict(_FULL, **{d: d for d in WEEKDAYS}, daily="daily")
                close = difflib.get_close_matches(day, list(names), n=1, cutoff=0.5)
                raise ValueError(
                    f"unknown weekday {day!r}"
                    + (
                        f"; did you mean {names[close[0]]!r}?"
                        if close
                        else "; use mon, tue, wed, thu, fri, sat, sun or daily"
                    )
                )
            for r in ranges:
                parse_hours(r)
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None:
            import zoneinfo

            try:
                zoneinfo.ZoneInfo(v)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Europe/Berlin)") from None
        return v

    @model_validator(mode="after")
    def _holding(self) -> Schedule:
        if self.outside == "hold" and not self.holding_scene:
            raise ValueError('outside = "hold" needs holding_scene')
        return self


class Show(StrictModel):
    include: list[str] = Field(
        default_factory=list, description="TOML files merged under this one (paths relative to it)"
    )
    calibration: str | None = Field(None, description="calibration profile, relative to the show file")
    show: ShowInfo = Field(default_factory=ShowInfo)
    output: OutputSpec = Field(default_factory=OutputSpec)
    outputs: list[OutputEntry] = Field(
        default_factory=list,
        description="where the canvas goes: windows, recordings, "
        "plugin outputs (empty: one window, or headless with --headless)",
    )
    scenes: list[Scene] = Field(min_length=1)
    playlists: list[Playlist] = []
    cues: list[Cue] = Field(default_factory=list, description="empty: one auto-follow cue per scene, in order")
    loop: bool = True
    schedule: Schedule | None = None
    control: ControlTable = Field(default_factory=ControlTable)
    bindings: BindingList = Field(default_factory=list)
    web: WebConfig = Field(default_factory=WebConfig)
    audio: AudioTrackConfig | None = Field(
        None, description="the soundtrack whose features drive bindings (docs/audio.md)"
    )
    sync: SyncConfig = Field(default_factory=SyncConfig, description="several hosts in lock-step on Ableton Link")
    #: set by the loader: the file the show came from (calibration is resolved against it)
    _source: str | None = PrivateAttr(None)
    _sources: Any = PrivateAttr(None)  # loader.Sources, to place later checks (plugin names) on lines

    @property
    def source(self) -> Path | None:
        return Path(self._source) if self._source else None

    @property
    def calibration_path(self) -> Path | None:
        """The calibration profile's path, resolved relative to the show file."""
        if self.calibration is None:
            return None
        p = Path(self.calibration).expanduser()
        return p if p.is_absolute() or self.source is None else (self.source.parent / p)

    def scene_index(self, name: str) -> int:
        for i, s in enumerate(self.scenes):
            if s.name == name:
                return i
        raise KeyError(name)


def check_references(show: Show) -> list[tuple[tuple, str]]:
    """Names that point nowhere (scenes, playlists, holding scene): ``[(field loc, message)]``."""
    names = [s.name for s in show.scenes]
    out: list[tuple[tuple, str]] = []
    seen: set[str] = set()
    for i, s in enumerate(show.scenes):
        if s.name in seen:
            out.append((("scenes", i, "name"), f"duplicate scene name {s.name!r}"))
        seen.add(s.name)
    plists = [p.name for p in show.playlists]
    for i, p in enumerate(show.playlists):
        for j, item in enumerate(p.items):
            if item.scene not in names:
                out.append(
                    (
                        ("playlists", i, "items", j, "scene"),
                        f"unknown scene {item.scene!r}{_closest(item.scene, names)}",
                    )
                )
    for k, cue in enumerate(show.cues):
        if cue.scene is not None and cue.scene not in names:
            out.append((("cues", k, "scene"), f"unknown scene {cue.scene!r}{_closest(cue.scene, names)}"))
        if cue.playlist is not None and cue.playlist not in plists:
            out.append((("cues", k, "playlist"), f"unknown playlist {cue.playlist!r}{_closest(cue.playlist, plists)}"))
    if show.show.fallback is not None and show.show.fallback not in names:
        out.append((("show", "fallback"), f"unknown scene {show.show.fallback!r}{_closest(show.show.fallback, names)}"))
    sched = show.schedule
    if sched and sched.holding_scene and sched.holding_scene not in names:
        out.append(
            (
                ("schedule", "holding_scene"),
                f"unknown scene {sched.holding_scene!r}{_closest(sched.holding_scene, names)}",
            )
        )
    out += beat_source_problems(show)
    return out


def _closest(word: str, options: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
