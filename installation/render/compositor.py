"""The compositor: scene layers crossfaded into a canvas at display rate, then presented.

Each frame the app hands over a list of :class:`LayerDraw` (one per visible scene: two keyframes,
their mix and the layer's opacity).  Layers are drawn in order with alpha blending into the
canvas framebuffer, so a scene transition is just two layers with complementary opacity.  The
canvas is then presented to an output framebuffer (the window, or an offscreen target) by a
final pass that the calibration pass replaces on site.

How a layer fills the canvas (fit, anchor, background, trim) is :mod:`.fit`; the show's
``[output]`` sets :attr:`Compositor.fit` and a scene may override it per layer
(:attr:`LayerDraw.fit`).  Upscaling is Catmull-Rom bicubic in the shader (``filter``; the
bilinear sampler stays selectable for comparison: benchmarks/compositor.py measures both).
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from ..engine.buffer import Keyframe
from .context import FullscreenQuad, load_program
from .fit import Fit, cover_scale, place  # noqa: F401  (cover_scale: kept importable from here)
from .upload import TextureUploader

FILTERS = ("catmull-rom", "bilinear")


@dataclass
class LayerDraw:
    a: Keyframe | None
    b: Keyframe | None
    mix: float
    opacity: float = 1.0
    fit: Fit | None = None  # None: the compositor's (the show's [output])


class Compositor:
    def __init__(
        self, ctx: moderngl.Context, size: tuple[int, int], fit: Fit | None = None, filter: str = "catmull-rom"
    ):
        if filter not in FILTERS:
            raise ValueError(f"filter must be one of {FILTERS}, got {filter!r}")
        self.ctx = ctx
        self.fit = fit or Fit()
        self.filter = filter
        self.size = (int(size[0]), int(size[1]))
        self.canvas = ctx.texture(self.size, 4, dtype="f1")
        self.canvas.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self.fbo = ctx.framebuffer(color_attachments=[self.canvas])
        # what outputs show and recordings read: the canvas after the present/calibration pass
        self.output_size = self.size  # the canvas, or the calibrated outputs (see set_offscreen_calibration)
        self.output = ctx.texture(self.size, 4, dtype="f1")
        self.output_fbo = ctx.framebuffer(color_attachments=[self.output])
        self._offscreen: tuple | None = None  # (CalibrationPass, WindowSpec) the offscreen output is drawn through
        self.layer_prog = load_program(ctx, "layer")
        self.present_prog = load_program(ctx, "present")
        self.layer_quad = FullscreenQuad.create(ctx, self.layer_prog)
        self.present_quad = FullscreenQuad.create(ctx, self.present_prog)
        self.layer_prog["u_tex_a"].value = 0
        self.layer_prog["u_tex_b"].value = 1
        self.layer_prog["u_canvas"].value = tuple(float(v) for v in self.size)
        self.present_prog["u_canvas"].value = 0
        self.uploader = TextureUploader(ctx)
        self.brightness = 1.0
        self.frames = 0
        self.calibration = None  # CalibrationPass drawing the window outputs (see set_calibration)
        self.calibration_window = None
        self._presented = -1  # the frame whose canvas the offscreen output holds

    def texture_of(self, kf: Keyframe) -> moderngl.Texture:
        if kf.texture is None:
            kf.texture = self.uploader.upload(kf.frame)
        return kf.texture

    def release(self, kf: Keyframe) -> None:
        if kf.texture is not None:
            kf.texture.release()
            kf.texture = None

    def compose(self, layers: list[LayerDraw]) -> None:
        """Draw the layers into the canvas (black where nothing is ready yet)."""
        self.fbo.use()
        self.ctx.viewport = (0, 0, *self.size)
        self.ctx.clear(0.0, 0.0, 0.0, 1.0)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        for layer in layers:
            if layer.b is None or layer.opacity <= 0.0:
                continue
            a = layer.a or layer.b
            ta, tb = self.texture_of(a), self.texture_of(layer.b)
            single = ta is tb or layer.mix <= 0.0 or layer.mix >= 1.0
            if single and layer.mix <= 0.0:
                tb = ta  # all of a: sample it alone
            ta.use(0)
            tb.use(1)
            self._set_fit(layer.fit or self.fit, tb.size)
            prog = self.layer_prog
            prog["u_single"].value = int(single)
            prog["u_mix"].value = float(layer.mix)
            prog["u_opacity"].value = float(min(layer.opacity, 1.0))
            self.layer_quad.render()
        self.ctx.disable(moderngl.BLEND)
        self.frames += 1

    def _set_fit(self, fit: Fit, src: tuple[int, int]) -> None:
        p = place(src, self.size, fit)
        prog = self.layer_prog
        prog["u_rect"].value = (p.x, p.y, p.w, p.h)
        prog["u_uv"].value = (p.u0, p.v0, p.u1, p.v1)
        prog["u_background"].value = fit.background
        # bicubic where the frame is enlarged; the bilinear sampler where it is reduced
        texels = (p.u1 - p.u0) * src[0]
        prog["u_cubic"].value = int(self.filter == "catmull-rom" and p.w >= texels)

    def set_calibration(self, calibration, window) -> None:
        """Present to windows through ``calibration`` (a CalibrationPass), drawing the outputs of
        ``window`` (a calibration WindowSpec) at their viewports.  The offscreen output, which
        recordings read, stays the uncalibrated canvas."""
        self.calibration = calibration
        self.calibration_window = window

    def set_offscreen_calibration(self, calibration, window) -> None:
        """Draw the offscreen output (what recordings and streams read) through ``calibration``:
        the outputs of ``window`` (a WindowSpec: one host's projectors) at their viewports, so a
        headless host records exactly what its projectors show, blends included."""
        self.output_fbo.release()
        self.output.release()
        self.output_size = (int(window.size[0]), int(window.size[1]))
        self.output = self.ctx.texture(self.output_size, 4, dtype="f1")
        self.output_fbo = self.ctx.framebuffer(color_attachments=[self.output])
        self._offscreen = (calibration, window)
        self._presented = -1

    def present(
        self, target: moderngl.Framebuffer | None = None, size: tuple[int, int] | None = None, calibration=None
    ) -> None:
        """Draw the canvas to ``target`` (default: the offscreen output) filling ``size``.

        With a calibration — ``calibration=(CalibrationPass, WindowSpec)``, or the one given to
        :meth:`set_calibration` — a given ``target`` gets every output of the calibration window,
        warped, blended and colour-corrected: one draw per output.
        """
        calibration = calibration or ((self.calibration, self.calibration_window) if self.calibration else None)
        if target is None and self._offscreen is not None:
            calibration, target = self._offscreen, self.output_fbo
            target.use()
            target.clear(0.0, 0.0, 0.0, 1.0)  # between outputs that do not tile the image
            self._presented = self.frames
        if target is not None and calibration is not None:
            cal, window = calibration
            cal.gain = float(self.brightness)
            for index in window.outputs:
                cal.render(self.canvas, index, target, viewport=window.viewport(cal.profile, index))
            return
        (target or self.output_fbo).use()
        self.ctx.viewport = (0, 0, *(size or self.size))
        self.canvas.use(0)
        self.present_prog["u_brightness"].value = float(self.brightness)
        self.present_quad.render()
        if target is None:
            self._presented = self.frames

    def ensure_output(self) -> moderngl.Texture:
        """The offscreen output of the frame composed last, presented at most once per frame.

        Only outputs that need it (a recording, a network stream) pay for this pass: a window
        presents the canvas straight to its screen.
        """
        if self._presented != self.frames:
            self.present()
        return self.output

    def read_output(self) -> np.ndarray:
        """The presented output as RGB uint8 ``[H, W, 3]``, top row first (what is shown and recorded).

        With no offscreen calibration and brightness 1 the present pass would copy the canvas
        texel for texel (same size, same 8-bit format, gain 1): a recording then reads the canvas
        itself and skips that full-frame draw (on llvmpipe about a third of a 1080p render's time)."""
        if self._offscreen is None and self.brightness == 1.0 and self.output_size == self.size:
            data = self.fbo.read(components=3, alignment=1)
            return np.frombuffer(data, np.uint8).reshape(self.size[1], self.size[0], 3)[::-1]
        self.ensure_output()
        data = self.output_fbo.read(components=3, alignment=1)
        return np.frombuffer(data, np.uint8).reshape(self.output_size[1], self.output_size[0], 3)[::-1]
