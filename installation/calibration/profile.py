"""Calibration profile schema: what a technician sets up on site, one TOML file per venue.

A profile splits one canvas (the show's output) across N outputs (projectors).  Each output
takes a region of the canvas, pins its four corners onto the wall (a homography), optionally
bends it with a mesh, fades its overlapping edges and corrects its colour.  Point coordinates
are normalised to the output (0..1, origin top-left, y down) so a profile survives a change of
projector resolution; region and blend widths are canvas pixels because overlaps are measured
in content.  Validation refuses what would fold or tear the picture, naming the field.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from ..problems import StrictModel  # subclassed by name: the pydantic mypy plugin sees no fields through an alias
from . import geometry

#: how far outside the output a corner or mesh point may go (normalised units)
COORD_MIN, COORD_MAX = -0.5, 1.5


def _check_point(p: Point, lo: float = COORD_MIN, hi: float = COORD_MAX) -> Point:
    x, y = p
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"point {list(p)} is not finite")
    if not (lo <= x <= hi and lo <= y <= hi):
        raise ValueError(
            f"point {[x, y]} is out of range: each coordinate must lie in [{lo}, {hi}] (normalised, 0..1 is the output)"
        )
    return (float(x), float(y))


#: a normalised point; out-of-range errors name its index (``outputs[0].corners[2]``)
Point = Annotated[tuple[float, float], AfterValidator(_check_point)]


class BlendEdge(StrictModel):
    """A soft edge: Bourke's blend ``f(t)`` over ``width`` canvas pixels, encoded for a display gamma.

    ``curve`` is Bourke's exponent p (1 linear, 2 default, higher is steeper in the middle);
    ``gamma`` is the projector's gamma so the two ramps of an overlap add to one in light.
    """

    width: float = Field(0.0, ge=0.0, description="canvas pixels from the region edge")
    curve: float = Field(2.0, gt=0.0, le=10.0)
    gamma: float = Field(2.2, gt=0.0, le=5.0)


class Blend(StrictModel):
    left: BlendEdge = BlendEdge()
    right: BlendEdge = BlendEdge()
    top: BlendEdge = BlendEdge()
    bottom: BlendEdge = BlendEdge()

    def sides(self) -> dict[str, BlendEdge]:
        return {"left": self.left, "right": self.right, "top": self.top, "bottom": self.bottom}


RGB = tuple[float, float, float]


#: per-channel colour field → (what the message calls it, low, high, high included)
_CHANNEL_RANGES = {
    "gamma": ("gamma", 0.1, 10.0, True),
    "brightness": ("brightness", 0.0, 4.0, True),
    "black_level": ("black level", 0.0, 1.0, False),
}


class Color(StrictModel):
    """Per-channel correction: ``out = lift + (1 - lift) * brightness * in ** (1 / gamma)``.

    The lift (black level) is applied outside the blend zones by default: there a single
    projector's black shows, so raising it matches the doubled black of the overlap.
    """

    gamma: RGB = (1.0, 1.0, 1.0)
    brightness: RGB = (1.0, 1.0, 1.0)
    black_level: RGB = (0.0, 0.0, 0.0)
    black_level_mode: Literal["outside_blend", "everywhere"] = "outside_blend"

    @field_validator("gamma", "brightness", "black_level")
    @classmethod
    def _in_range(cls, v: RGB, info: ValidationInfo) -> RGB:
        what, lo, hi, closed = _CHANNEL_RANGES[str(info.field_name)]
        if not all(math.isfinite(c) and lo <= c and (c <= hi if closed else c < hi) for c in v):
            raise ValueError(f"each {what} must lie in [{lo:g}, {hi:g}{']' if closed else ')'}, got {list(v)}")
        return v


class Mesh(StrictModel):
    """A ``rows × cols`` grid of control points in the corner-pinned quad (0..1), row-major.

    The picture follows a bicubic Catmull-Rom surface through the points; a flat grid is the
    identity.  ``subdivisions`` is how many triangle strips each cell is drawn with.
    """

    cols: int = Field(ge=2, le=64)
    rows: int = Field(ge=2, le=64)
    points: list[Point]
    subdivisions: int = Field(8, ge=1, le=64)

    @model_validator(mode="after")
    def _shape(self) -> Mesh:
        if len(self.points) != self.cols * self.rows:
            raise ValueError(f"points: expected cols*rows = {self.cols * self.rows} points, got {len(self.points)}")
        grid = self.grid()
        for r in range(self.rows - 1):
            for c in range(self.cols - 1):
                cell = [grid[r, c], grid[r, c + 1], grid[r + 1, c + 1], grid[r + 1, c]]
                problem = geometry.quad_problem(cell)
                if problem:
                    raise ValueError(f"points: mesh cell row {r}, column {c} is folded ({problem})")
        return self

    def grid(self):
        import numpy as np

        return np.asarray(self.points, dtype=np.float64).reshape(self.rows, self.cols, 2)

    @classmethod
    def flat(cls, cols: int, rows: int, subdivisions: int = 8) -> Mesh:
        pts = geometry.flat_grid(cols, rows).reshape(-1, 2)
        return cls(cols=cols, rows=rows, points=[(float(x), float(y)) for x, y in pts], subdivisions=subdivisions)


class Mask(StrictModel):
    """A polygon (normalised output coordinates) or a greyscale image marking an area of the output.

    The marked area is the polygon's inside or the image's white.  ``mode = "hide"`` blacks it
    out; ``"show"`` keeps only it.
    ``feather`` softens the edge over about that many output pixels (a hard edge is aliased).
    Image paths are relative to the profile file.
    """

    polygon: list[Point] | None = None
    image: str | None = None
    mode: Literal["hide", "show"] = "hide"
    feather: float = Field(0.0, ge=0.0, le=500.0)

    @field_validator("polygon")
    @classmethod
    def _polygon(cls, v):
        if v is None:
            return v
        if len(v) < 3:
            raise ValueError(f"a polygon needs at least 3 points, got {len(v)}")
        if geometry.polygon_self_crosses(v):
            raise ValueError("the polygon crosses itself")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> Mask:
        if (self.polygon is None) == (self.image is None):
            raise ValueError("a mask needs exactly one of `polygon` or `image`")
        return self


class Output(StrictModel):
    """One projector: where its window goes, which canvas region it shows and how it is warped."""

    name: str = ""
    display: int = Field(0, ge=0, description="display index for one window per display")
    resolution: tuple[int, int]
    position: tuple[int, int] = Field((0, 0), description="top-left of this output in the spanning window")
    region: tuple[int, int, int, int] = Field(description="x, y, width, height in canvas pixels")
    corners: tuple[Point, Point, Point, Point] = geometry.UNIT_SQUARE
    mesh: Mesh | None = None
    blend: Blend = Blend()
    color: Color = Color()
    masks: list[Mask] = []

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, v):
        if not all(1 <= s <= 16384 for s in v):
            raise ValueError(f"resolution must be between 1 and 16384 pixels, got {list(v)}")
        return v

    @field_validator("corners")
    @classmethod
    def _corners(cls, v):
        problem = geometry.quad_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    def homography(self):
        """Content unit square → output normalised coordinates."""
        return geometry.homography(geometry.UNIT_SQUARE, self.corners)


class Host(StrictModel):
    """One machine of a wall that several hosts drive: the outputs (by name) it renders.

    Every host renders the same canvas at the same show time (``[sync]``), each only its own
    outputs, so edge blends between two hosts' projectors line up as they would on one host.
    """

    name: str = Field(min_length=1)
    outputs: list[str] = Field(min_length=1, description="names of the outputs this host drives")


class CalibrationProfile(StrictModel):
    """The whole setup: the canvas, how windows are laid out, every output, and which host drives which."""

    version: int = 1
    name: str = ""
    canvas: tuple[int, int]
    window: Literal["spanning", "per-display"] = "spanning"
    outputs: list[Output] = Field(min_length=1)
    hosts: list[Host] = []
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file this profile was loaded from or last saved to (relative mask images resolve from it)."""
        return self._source

    def resolve(self, relative: str) -> Path:
        """A path written in the profile, relative to the profile's folder."""
        p = Path(relative)
        if p.is_absolute() or self._source is None:
            return p
        return self._source.parent / p

    def host_outputs(self, name: str) -> tuple[int, ...]:
        """Indices of the outputs host ``name`` drives; :class:`ValueError` naming the hosts there are."""
        for host in self.hosts:
            if host.name == name:
                index = {o.name: i for i, o in enumerate(self.outputs)}
                return tuple(index[n] for n in host.outputs)  # cross_check: every name exists
        known = ", ".join(h.name for h in self.hosts)
        raise ValueError(
            f"host {name!r} is not in the profile's [[hosts]] ({known})"
            if known
            else f"host {name!r}: the profile has no [[hosts]] table saying which outputs each host drives"
        )

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo) -> CalibrationProfile:
        if info.context and info.context.get("defer_cross_checks"):
            return self
        problems = cross_check(self)
        if problems:
            raise ValueError("; ".join(f"{format_loc(loc)}: {msg}" for loc, msg in problems))
        return self

    @classmethod
    def identity(cls, width: int, height: int, name: str = "identity") -> CalibrationProfile:
        """One output showing the whole canvas unchanged (the pass is then a pixel-exact copy)."""
        return cls(
            name=name,
            canvas=(width, height),
            outputs=[Output(name="main", resolution=(width, height), region=(0, 0, width, height))],
        )

    @classmethod
    def span(
        cls, outputs: int, width: int, height: int, overlap: int, curve: float = 2.0, gamma: float = 2.2, name: str = ""
    ) -> CalibrationProfile:
        """N projectors side by side, each ``width × height``, overlapping by ``overlap`` canvas pixels."""
        canvas_w = outputs * width - (outputs - 1) * overlap
        outs = []
        for i in range(outputs):
            edge = BlendEdge(width=overlap, curve=curve, gamma=gamma)
            outs.append(
                Output(
                    name=f"projector-{i + 1}",
                    display=i,
                    resolution=(width, height),
                    position=(i * width, 0),
                    region=(i * (width - overlap), 0, width, height),
                    blend=Blend(left=edge if i > 0 else BlendEdge(), right=edge if i < outputs - 1 else BlendEdge()),
                )
            )
        return cls(name=name or f"{outputs}x{width}x{height}", canvas=(canvas_w, height), outputs=outs)


def cross_check(profile: CalibrationProfile) -> list[tuple[tuple, str]]:
    """Checks that need more than one field: regions inside the canvas, blends that fit, names."""
    import numpy as np

    problems: list[tuple[tuple, str]] = []
    cw, ch = profile.canvas
    if not (1 <= cw <= 32768 and 1 <= ch <= 32768):
        problems.append((("canvas",), f"canvas must be between 1 and 32768 pixels, got {[cw, ch]}"))
    seen: dict[str, int] = {}
    for i, out in enumerate(profile.outputs):
        x, y, w, h = out.region
        if w < 1 or h < 1 or x < 0 or y < 0 or x + w > cw or y + h > ch:
            problems.append(
                (
                    ("outputs", i, "region"),
                    f"region {[x, y, w, h]} must lie inside the canvas {cw}x{ch} with positive size",
                )
            )
        b = out.blend
        if b.left.width + b.right.width > w:
            problems.append((("outputs", i, "blend"), f"left + right blend widths exceed the region width {w}"))
        if b.top.width + b.bottom.width > h:
            problems.append((("outputs", i, "blend"), f"top + bottom blend widths exceed the region height {h}"))
        if out.name:
            if out.name in seen:
                problems.append(
                    (("outputs", i, "name"), f"name {out.name!r} is already used by outputs[{seen[out.name]}]")
                )
            seen[out.name] = i
        if out.mesh is not None:
            w_coord = geometry.homogeneous(out.homography(), out.mesh.grid())[..., 2]
            if np.any(w_coord <= 1e-6):
                problems.append(
                    (
                        ("outputs", i, "mesh", "points"),
                        "a mesh point falls beyond the corner pin's horizon; bring it closer to the quad",
                    )
                )
    problems += _host_problems(profile, seen)
    return problems


def _host_problems(profile: CalibrationProfile, names: dict[str, int]) -> list[tuple[tuple, str]]:
    """``[[hosts]]``: unique names, outputs that exist, no output driven by two hosts."""
    problems: list[tuple[tuple, str]] = []
    host_seen: dict[str, int] = {}
    driven: dict[str, str] = {}
    for i, host in enumerate(profile.hosts):
        if host.name in host_seen:
            problems.append(
                (("hosts", i, "name"), f"name {host.name!r} is already used by hosts[{host_seen[host.name]}]")
            )
        host_seen[host.name] = i
        for j, out in enumerate(host.outputs):
            if out not in names:
                known = ", ".join(names) or "none: give the outputs names"
                problems.append((("hosts", i, "outputs", j), f"no output is named {out!r} (outputs: {known})"))
            elif out in driven:
                problems.append(
                    (("hosts", i, "outputs", j), f"output {out!r} is already driven by host {driven[out]!r}")
                )
            else:
                driven[out] = host.name
    return problems


def format_loc(loc) -> str:
    """``("outputs", 1, "corners", 2)`` → ``outputs[1].corners[2]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(profile)"
