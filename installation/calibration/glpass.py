"""The calibration pass: draw output N of a profile from the canvas texture in one draw call.

Geometry carries the warp: a grid tessellated from the mesh (or a single quad without one),
placed through the corner-pin homography with ``w`` kept, so interpolation is projective.  The
fragment stage does blend, colour and mask (see ``shaders/calibration.glsl``).  Rebuilding after
an edit (``update``) rewrites a few kilobytes of vertices; masks are re-baked only when they change.
"""
from __future__ import annotations

import moderngl
import numpy as np

from ..render.context import load_program
from . import geometry
from .masks import rasterize_masks
from .profile import CalibrationProfile, Output


def output_vertices(output: Output) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved ``(X, Y, W, u, v)`` float32 vertices and uint32 triangle indices for one output."""
    if output.mesh is None:
        params = geometry.flat_grid(2, 2)
        warped = params
    else:
        sub = output.mesh.subdivisions
        warped = geometry.mesh_surface(output.mesh.grid(), sub)
        rows, cols = warped.shape[:2]
        params = geometry.flat_grid(cols, rows)
    pos = geometry.homogeneous(output.homography(), warped)
    data = np.concatenate([pos, params], axis=-1).reshape(-1, 5).astype("f4")
    rows, cols = params.shape[:2]
    return data, geometry.grid_indices(rows, cols)


class _OutputResources:
    def __init__(self, ctx: moderngl.Context, program: moderngl.Program, output: Output, profile):
        self.ctx = ctx
        data, indices = output_vertices(output)
        self.vbo = ctx.buffer(data.tobytes())
        self.ibo = ctx.buffer(indices.tobytes())
        self.vao = ctx.vertex_array(program, [(self.vbo, "3f 2f", "in_pos", "in_uv")], self.ibo, index_element_size=4)
        self.masks = list(output.masks)
        self.mask = self._mask_texture(output, profile)

    def _mask_texture(self, output: Output, profile) -> moderngl.Texture:
        img = rasterize_masks(output, profile)
        if img is None:
            img = np.full((1, 1), 255, dtype=np.uint8)
        tex = self.ctx.texture((img.shape[1], img.shape[0]), 1, np.ascontiguousarray(img[::-1]).tobytes(), alignment=1)
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        tex.repeat_x = tex.repeat_y = False
        return tex

    def update(self, program, output: Output, profile) -> None:
        data, indices = output_vertices(output)
        if data.nbytes == self.vbo.size and indices.nbytes == self.ibo.size:
            self.vbo.write(data.tobytes())
        else:
            self.release(keep_mask=True)
            self.vbo = self.ctx.buffer(data.tobytes())
            self.ibo = self.ctx.buffer(indices.tobytes())
            self.vao = self.ctx.vertex_array(program, [(self.vbo, "3f 2f", "in_pos", "in_uv")], self.ibo,
                                             index_element_size=4)
        if list(output.masks) != self.masks or output.resolution != getattr(self, "_res", output.resolution):
            self.mask.release()
            self.mask = self._mask_texture(output, profile)
            self.masks = list(output.masks)
        self._res = output.resolution

    def release(self, keep_mask: bool = False) -> None:
        self.vao.release()
        self.vbo.release()
        self.ibo.release()
        if not keep_mask:
            self.mask.release()


class CalibrationPass:
    """Warp, blend and colour-correct the canvas for each output of ``profile``.

    ``render(canvas, i, framebuffer)`` clears output ``i``'s viewport to black and draws it
    with a single indexed draw.  ``canvas`` is an RGBA texture in GL convention (row 0 at the
    bottom, as rendered into an FBO); its size should equal ``profile.canvas``.  The pass leaves
    blending, depth test and face culling disabled (a mirrored quad flips its winding).
    """

    def __init__(self, ctx: moderngl.Context, profile: CalibrationProfile):
        self.ctx = ctx
        self.program = load_program(ctx, "calibration")
        self.program["u_canvas"].value = 0
        self.program["u_mask"].value = 1
        self.sampler = ctx.sampler(filter=(moderngl.LINEAR, moderngl.LINEAR), repeat_x=False, repeat_y=False)
        self.profile = profile
        self._outputs = [_OutputResources(ctx, self.program, out, profile) for out in profile.outputs]

    def update(self, profile: CalibrationProfile) -> None:
        """Take a changed profile (from the editor); cheap when only points moved."""
        if len(profile.outputs) != len(self._outputs):
            for res in self._outputs:
                res.release()
            self._outputs = [_OutputResources(self.ctx, self.program, out, profile) for out in profile.outputs]
        else:
            for res, out in zip(self._outputs, profile.outputs):
                res.update(self.program, out, profile)
        self.profile = profile

    def viewport(self, output_index: int, framebuffer) -> tuple[int, int, int, int]:
        """Where output N goes in ``framebuffer``: its ``position`` in a spanning window, else the whole target."""
        out = self.profile.outputs[output_index]
        fw, fh = framebuffer.size
        w, h = out.resolution
        x, y = out.position
        if (w, h) == (fw, fh) or x + w > fw or y + h > fh:
            return (0, 0, fw, fh)
        return (x, fh - y - h, w, h)  # profile positions are y-down, GL viewports y-up

    def render(self, canvas: moderngl.Texture, output_index: int, framebuffer, viewport=None) -> None:
        """Draw output ``output_index`` into ``framebuffer`` (an FBO or ``ctx.screen``): one draw."""
        out = self.profile.outputs[output_index]
        res = self._outputs[output_index]
        vp = tuple(viewport) if viewport is not None else self.viewport(output_index, framebuffer)
        prog = self.program
        prog["u_canvas_size"].value = tuple(float(s) for s in self.profile.canvas)
        prog["u_region"].value = tuple(float(v) for v in out.region)
        prog["u_viewport"].value = tuple(float(v) for v in vp)
        sides = out.blend.sides().values()
        prog["u_blend_width"].value = tuple(float(e.width) for e in sides)
        prog["u_blend_curve"].value = tuple(float(e.curve) for e in sides)
        prog["u_blend_gamma"].value = tuple(float(e.gamma) for e in sides)
        prog["u_gamma"].value = tuple(float(v) for v in out.color.gamma)
        prog["u_brightness"].value = tuple(float(v) for v in out.color.brightness)
        prog["u_black"].value = tuple(float(v) for v in out.color.black_level)
        prog["u_black_everywhere"].value = out.color.black_level_mode == "everywhere"
        framebuffer.viewport = vp
        framebuffer.use()
        framebuffer.clear(0.0, 0.0, 0.0, 1.0, viewport=vp)
        self.ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        canvas.use(location=0)
        self.sampler.use(location=0)
        res.mask.use(location=1)
        res.vao.render(moderngl.TRIANGLES)
        self.sampler.clear(location=0)

    def release(self) -> None:
        for res in self._outputs:
            res.release()
        self._outputs = []
        self.sampler.release()
        self.program.release()
