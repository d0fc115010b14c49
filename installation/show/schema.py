"""The show-file schema (TOML, validated with pydantic).

Unknown keys are errors everywhere except inside the plugin-owned tables (generator options,
walk parameters, post-stage parameters), which are checked when the plugin builds the object.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PluginTable(BaseModel):
    """A table whose extra keys are options passed to a plugin factory."""

    model_config = ConfigDict(extra="allow")

    def options(self, *exclude: str) -> dict[str, Any]:
        return {k: v for k, v in (self.model_extra or {}).items() if k not in exclude}


class GeneratorSpec(PluginTable):
    plugin: str = Field(description="generator name from `installation plugins`")
    checkpoint: Optional[str] = Field(None, description="weights file; empty for the plugin's shipped weights")


class WalkSpec(PluginTable):
    type: str = Field("slerp", description="walk name")
    seed: int = 0


class PostSpec(PluginTable):
    stage: str = Field(description="post stage name")


class ShowInfo(Strict):
    name: str = "Untitled show"
    seed: int = 0


class OutputSpec(Strict):
    width: int = Field(1280, ge=16, le=16384)
    height: int = Field(720, ge=16, le=16384)
    fps: float = Field(30.0, gt=0, le=240)
    brightness: float = Field(1.0, ge=0.0, le=4.0)

    @field_validator("width", "height")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("must be even (video encoders need even sizes)")
        return v


class Scene(Strict):
    name: str
    duration: float = Field(60.0, gt=0, description="seconds the scene plays before the next")
    keyframe_rate: float = Field(3.0, gt=0, le=120, description="keyframes generated per second")
    transition: float = Field(2.0, ge=0, description="crossfade seconds into the next scene")
    generator: GeneratorSpec
    walk: WalkSpec = WalkSpec()
    post: list[PostSpec] = []


class Show(Strict):
    show: ShowInfo = ShowInfo()
    output: OutputSpec = OutputSpec()
    scenes: list[Scene] = Field(min_length=1)
    loop: bool = True
    calibration: Optional[str] = Field(
        None, description="projection calibration profile (TOML) applied to window outputs, e.g. calibration/venue.toml")
