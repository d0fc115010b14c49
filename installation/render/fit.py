"""How a keyframe fills the canvas: fit mode, anchor, background, border trim.

Pure geometry, shared by the compositor (which turns a :class:`Placement` into shader uniforms)
and by tests (which compute where the letterbox bars must be).  Coordinates are canvas pixels
with the origin at the top-left corner, y down, like the frames themselves.

- ``cover``: the frame is scaled to fill the canvas, the excess cropped; ``anchor`` says which
  part stays (``"top"`` keeps the top rows, ``"center"`` the middle).
- ``contain``: the whole frame is shown, scaled to fit; the bars (letterbox or pillarbox) are
  painted ``background``; ``anchor`` says where the frame sits in the canvas.
- ``stretch``: the frame is scaled to the canvas on both axes, ignoring its aspect.

``trim`` cuts a fraction of the frame from each edge before fitting.  It exists because models
with zero-padded convolutions (the shipped StyleGAN2 among them) paint their outermost texels
unlike their interior: trimming them keeps those columns off the wall (see docs/shows.md).
"""

from __future__ import annotations

from dataclasses import dataclass

FIT_MODES = ("cover", "contain", "stretch")

#: anchor name -> (x, y) in [0, 1]: 0 = left/top, 1 = right/bottom
ANCHORS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.5),
    "top": (0.5, 0.0),
    "bottom": (0.5, 1.0),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "top-left": (0.0, 0.0),
    "top-right": (1.0, 0.0),
    "bottom-left": (0.0, 1.0),
    "bottom-right": (1.0, 1.0),
}


def parse_colour(text: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` -> (r, g, b) in [0, 1]; raises ValueError on anything else."""
    s = text.strip()
    if len(s) != 7 or s[0] != "#":
        raise ValueError(f'{text!r} is not a colour like "#000000" (#rrggbb)')
    try:
        return tuple(int(s[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]
    except ValueError:
        raise ValueError(f'{text!r} is not a colour like "#000000" (#rrggbb, hex digits)') from None


@dataclass(frozen=True)
class Fit:
    mode: str = "cover"
    anchor: str = "center"
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    trim: float = 0.0  # fraction of the frame cut from each edge before fitting

    def __post_init__(self):
        if self.mode not in FIT_MODES:
            raise ValueError(f"fit must be one of {FIT_MODES}, got {self.mode!r}")
        if self.anchor not in ANCHORS:
            raise ValueError(f"anchor must be one of {tuple(ANCHORS)}, got {self.anchor!r}")
        if not 0.0 <= self.trim < 0.5:
            raise ValueError(f"trim must be in [0, 0.5), got {self.trim!r}")

    @classmethod
    def of(cls, output, scene=None) -> Fit:
        """The fit of ``scene`` (a show Scene, or None) on ``output`` (the show's [output]):
        each of the scene's ``fit``, ``anchor``, ``background``, ``trim`` that is set wins."""

        def pick(name):
            value = getattr(scene, name, None) if scene is not None else None
            return getattr(output, name) if value is None else value

        return cls(pick("fit"), pick("anchor"), parse_colour(pick("background")), float(pick("trim")))


@dataclass(frozen=True)
class Placement:
    """Where the (trimmed) frame lands: ``x, y, w, h`` in canvas pixels (may exceed the canvas
    for cover), and the texture rectangle ``u0, v0, u1, v1`` it shows (v = 0 is the top row)."""

    x: float
    y: float
    w: float
    h: float
    u0: float
    v0: float
    u1: float
    v1: float

    def covers(self, canvas: tuple[int, int]) -> bool:
        return self.x <= 0 and self.y <= 0 and self.x + self.w >= canvas[0] and self.y + self.h >= canvas[1]


def place(src: tuple[int, int], dst: tuple[int, int], fit: Fit = Fit()) -> Placement:
    """Place a ``src`` (w, h) frame on a ``dst`` (w, h) canvas by ``fit``."""
    t = fit.trim
    sw, sh = src[0] * (1 - 2 * t), src[1] * (1 - 2 * t)
    dw, dh = float(dst[0]), float(dst[1])
    if fit.mode == "stretch":
        w, h = dw, dh
    else:
        scale = (max if fit.mode == "cover" else min)(dw / sw, dh / sh)
        w, h = sw * scale, sh * scale
    ax, ay = ANCHORS[fit.anchor]
    return Placement((dw - w) * ax, (dh - h) * ay, w, h, t, t, 1 - t, 1 - t)


def cover_scale(src: tuple[int, int], dst: tuple[int, int]) -> tuple[float, float]:
    """Fraction of ``src`` (w, h) shown per axis so that it fills ``dst`` (w, h), cropping the excess."""
    sa, da = src[0] / src[1], dst[0] / dst[1]
    return (da / sa, 1.0) if sa > da else (1.0, sa / da)
