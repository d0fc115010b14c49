"""The calibration pass: draw output N of a profile from the canvas texture in one draw call.

Geometry carries the warp: a grid tessellated from the mesh (or a single quad without one),
placed through the corner-pin homography with ``w`` kept, so interpolation is projective.  The
fragment stage does blend, colour and mask (see ``shaders/calibration.glsl``).  Rebuilding after
an edit (``update``) rewrites a few kilobytes of vertices; masks are re-baked only when they change.
"""

from __future__ import annotations

import moderngl
import numpy as np

from ..render.context import GL_VERSION, load_shader
from . import geometry
from .blendmap import blend_tables
from .masks import rasterize_masks
from .profile import Blend, CalibrationProfile, Output


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


def features(output: Output) -> tuple[str, ...]:
    """Shader stages output ``output`` needs; the others are compiled out."""
    used = []
    if any(g != 1.0 for g in output.color.gamma):
        used.append("USE_GAMMA")
    if any(b != 1.0 for b in output.color.brightness) or any(v != 0.0 for v in output.color.black_level):
        used.append("USE_COLOR")
    if output.blend.left.width > 0 or output.blend.right.width > 0:
        used.append("USE_BLEND_X")
    if output.blend.top.width > 0 or output.blend.bottom.width > 0:
        used.append("USE_BLEND_Y")
    if output.masks:
        used.append("USE_MASK")
    if minification(output) > SUPERSAMPLE_ABOVE:
        used.append("USE_SUPERSAMPLE")
    return tuple(used)


SUPERSAMPLE_ABOVE = 1.5


def minification(output: Output) -> float:
    """How many canvas pixels one output pixel spans, at most, along either axis (roughly)."""
    c = np.asarray(output.corners, dtype=np.float64) * output.resolution
    width = float(min(np.linalg.norm(c[1] - c[0]), np.linalg.norm(c[2] - c[3])))
    height = float(min(np.linalg.norm(c[3] - c[0]), np.linalg.norm(c[2] - c[1])))
    return max(output.region[2] / max(width, 1e-6), output.region[3] / max(height, 1e-6))


def _set(program: moderngl.Program, name: str, value) -> None:
    """Set a uniform the compiler kept (an unused one is optimised away)."""
    member = program.get(name, None)
    if member is not None:
        member.value = value


class _OutputResources:
    def __init__(self, ctx: moderngl.Context, program: moderngl.Program, output: Output, profile):
        self.ctx = ctx
        self.program = program
        data, indices = output_vertices(output)
        self.vbo = ctx.buffer(data.tobytes())
        self.ibo = ctx.buffer(indices.tobytes())
        self.vao = ctx.vertex_array(program, [(self.vbo, "3f 2f", "in_pos", "in_uv")], self.ibo, index_element_size=4)
        self.masks = list(output.masks)
        self.mask = self._mask_texture(output, profile)
        self._res = output.resolution
        self._blend_key: tuple[Blend, tuple[int, ...]] | None = None  # None: no blend textures yet
        self.blend_x: moderngl.Texture
        self.blend_y: moderngl.Texture
        self._blend_textures(output)

    def _blend_textures(self, output: Output) -> None:
        key = (output.blend, tuple(output.region))
        if key == self._blend_key:
            return
        if self._blend_key is not None:
            self.blend_x.release()
            self.blend_y.release()
        self.blend_x, self.blend_y = (self._table(t) for t in blend_tables(output))
        self._blend_key = key

    def _table(self, values: np.ndarray) -> moderngl.Texture:
        tex = self.ctx.texture((len(values), 1), 1, values.tobytes(), dtype="f4")
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        tex.repeat_x = tex.repeat_y = False
        return tex

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
        if data.nbytes == self.vbo.size and indices.nbytes == self.ibo.size and program is self.program:
            self.vbo.write(data.tobytes())
        else:
            self.release(geometry_only=True)
            self.vbo = self.ctx.buffer(data.tobytes())
            self.ibo = self.ctx.buffer(indices.tobytes())
            self.vao = self.ctx.vertex_array(
                program, [(self.vbo, "3f 2f", "in_pos", "in_uv")], self.ibo, index_element_size=4
            )
            self.program = program
        if list(output.masks) != self.masks or output.resolution != self._res:
            self.mask.release()
            self.mask = self._mask_texture(output, profile)
            self.masks = list(output.masks)
        self._res = output.resolution
        self._blend_textures(output)

    def release(self, geometry_only: bool = False) -> None:
        self.vao.release()
        self.vbo.release()
        self.ibo.release()
        if not geometry_only:
            self.mask.release()
            self.blend_x.release()
            self.blend_y.release()


class CalibrationPass:
    """Warp, blend and colour-correct the canvas for each output of ``profile``.

    ``render(canvas, i, framebuffer)`` clears output ``i``'s viewport to black and draws it
    with a single indexed draw.  ``canvas`` is an RGBA texture in GL convention (row 0 at the
    bottom, as rendered into an FBO); its size should equal ``profile.canvas``.  The pass leaves
    blending, depth test and face culling disabled (a mirrored quad flips its winding).
    """

    def __init__(self, ctx: moderngl.Context, profile: CalibrationProfile):
        self.ctx = ctx
        self._programs: dict[tuple[str, ...], moderngl.Program] = {}
        self.sampler = ctx.sampler(filter=(moderngl.LINEAR, moderngl.LINEAR), repeat_x=False, repeat_y=False)
        self.profile = profile
        self.gain = 1.0  # master brightness applied before the per-output correction
        self._outputs = [_OutputResources(ctx, self.program_for(out), out, profile) for out in profile.outputs]

    def program_for(self, output: Output) -> moderngl.Program:
        """The shader variant compiled with just the stages ``output`` uses (cached)."""
        key = features(output)
        if key not in self._programs:
            src = load_shader("calibration.glsl")
            header = f"#version {GL_VERSION}\n" + "".join(f"#define {name}\n" for name in key)
            prog = self.ctx.program(
                vertex_shader=header + "#define VERTEX_SHADER\n" + src,
                fragment_shader=header + "#define FRAGMENT_SHADER\n" + src,
            )
            _set(prog, "u_canvas", 0)
            _set(prog, "u_mask", 1)
            _set(prog, "u_blend_x", 2)
            _set(prog, "u_blend_y", 3)
            self._programs[key] = prog
        return self._programs[key]

    def update(self, profile: CalibrationProfile) -> None:
        """Take a changed profile (from the editor); cheap when only points moved."""
        if len(profile.outputs) != len(self._outputs):
            for res in self._outputs:
                res.release()
            self._outputs = [_OutputResources(self.ctx, self.program_for(out), out, profile) for out in profile.outputs]
        else:
            for res, out in zip(self._outputs, profile.outputs):
                res.update(self.program_for(out), out, profile)
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
        prog = res.program
        _set(prog, "u_gain", float(self.gain))
        _set(prog, "u_canvas_size", tuple(float(s) for s in self.profile.canvas))
        _set(prog, "u_region", tuple(float(v) for v in out.region))
        _set(prog, "u_viewport", tuple(float(v) for v in vp))
        _set(prog, "u_gamma", tuple(float(v) for v in out.color.gamma))
        _set(prog, "u_brightness", tuple(float(v) for v in out.color.brightness))
        _set(prog, "u_black", tuple(float(v) for v in out.color.black_level))
        _set(prog, "u_black_everywhere", out.color.black_level_mode == "everywhere")
        framebuffer.viewport = vp
        framebuffer.use()
        framebuffer.clear(0.0, 0.0, 0.0, 1.0, viewport=vp)
        self.ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        canvas.use(location=0)
        self.sampler.use(location=0)
        res.mask.use(location=1)
        res.blend_x.use(location=2)
        res.blend_y.use(location=3)
        res.vao.render(moderngl.TRIANGLES)
        self.sampler.clear(location=0)

    def release(self) -> None:
        for res in self._outputs:
            res.release()
        self._outputs = []
        self.sampler.release()
        for prog in self._programs.values():
            prog.release()
        self._programs = {}
