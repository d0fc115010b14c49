"""Cost of the calibration pass at 1080p and 4K on a headless EGL context.

Prints milliseconds per output frame for a bare texture copy (the baseline), an identity
profile, a corner pin with one soft edge (the everyday case) and a full profile (corner pin,
9x9 mesh, soft edge, per-channel colour, a feathered polygon mask), timed two ways:
``finish`` — N draws then one glFinish (GPU/llvmpipe throughput, no readback), and
``readback`` — each draw followed by reading the RGBA8 output back to numpy (what a headless
recorder pays).  Run: ``python benchmarks/calibration.py [--frames N]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from installation.calibration import BlendEdge, CalibrationPass, CalibrationProfile, Color, Mask, Mesh, Output
from installation.calibration import geometry
from installation.render.context import create_headless_context
from installation.render.patterns import make_pattern, to_texture


def full_profile(w: int, h: int) -> CalibrationProfile:
    grid = geometry.flat_grid(9, 9)
    grid[4, 4] += (0.01, -0.008)
    grid[2, 6] += (-0.006, 0.01)
    out = Output(
        name="bench", resolution=(w, h), region=(0, 0, w, h),
        corners=((0.02, 0.01), (0.99, 0.03), (0.97, 0.98), (0.0, 0.96)),
        mesh=Mesh(cols=9, rows=9, points=[tuple(p) for p in grid.reshape(-1, 2)], subdivisions=8),
        blend={"right": BlendEdge(width=w / 8), "left": BlendEdge(width=w / 8)},
        color=Color(gamma=(1.1, 1.0, 0.95), brightness=(0.95, 1.0, 1.0), black_level=(0.02, 0.02, 0.02)),
        masks=[Mask(polygon=[(0.0, 0.0), (0.15, 0.0), (0.0, 0.2)], feather=4.0)],
    )
    return CalibrationProfile(canvas=(w, h), outputs=[out])


class CopyPass:
    """Baseline: a bare full-screen textured quad, to tell the pass's cost from the machine's."""

    def __init__(self, ctx):
        from installation.render.context import FullscreenQuad

        self.ctx = ctx
        self.program = ctx.program(
            vertex_shader="#version 330\nin vec2 in_pos; in vec2 in_uv; out vec2 uv;"
                          "void main() { uv = in_uv; gl_Position = vec4(in_pos, 0.0, 1.0); }",
            fragment_shader="#version 330\nuniform sampler2D t; in vec2 uv; out vec4 f;"
                            "void main() { f = texture(t, uv); }")
        self.quad = FullscreenQuad.create(ctx, self.program)

    def render(self, canvas, index, fbo) -> None:
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 1.0)
        canvas.use(location=0)
        self.quad.render()

    def release(self) -> None:
        self.program.release()


def typical_profile(w: int, h: int) -> CalibrationProfile:
    """The everyday case: one projector of a side-by-side pair, corner-pinned, one soft edge."""
    out = Output(name="bench", resolution=(w, h), region=(0, 0, w, h),
                 corners=((0.02, 0.01), (0.99, 0.03), (0.97, 0.98), (0.0, 0.96)),
                 blend={"right": BlendEdge(width=w / 8)})
    return CalibrationProfile(canvas=(w, h), outputs=[out])


def bench(ctx, profile: CalibrationProfile, frames: int, baseline: bool = False) -> tuple[float, float]:
    w, h = profile.canvas
    canvas = to_texture(ctx, make_pattern("grid", w, h))
    cal = CopyPass(ctx) if baseline else CalibrationPass(ctx, profile)
    fbo = ctx.simple_framebuffer(tuple(profile.outputs[0].resolution), components=4)
    for _ in range(3):
        cal.render(canvas, 0, fbo)
    ctx.finish()
    t0 = time.perf_counter()
    for _ in range(frames):
        cal.render(canvas, 0, fbo)
    ctx.finish()
    finish_ms = (time.perf_counter() - t0) * 1000 / frames
    buf = bytearray(w * h * 4)
    t0 = time.perf_counter()
    for _ in range(frames):
        cal.render(canvas, 0, fbo)
        fbo.read_into(buf, components=4)
        np.frombuffer(buf, np.uint8)
    readback_ms = (time.perf_counter() - t0) * 1000 / frames
    cal.release()
    fbo.release()
    canvas.release()
    return finish_ms, readback_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args()
    ctx = create_headless_context()
    print(f"renderer: {ctx.info['GL_RENDERER']} ({ctx.info['GL_VERSION']})")
    print(f"{'size':>10} {'profile':>9} {'finish ms':>10} {'readback ms':>12}")
    for label, (w, h) in (("1080p", (1920, 1080)), ("4K", (3840, 2160))):
        frames = args.frames if w <= 1920 else max(5, args.frames // 2)
        identity = CalibrationProfile.identity(w, h)
        for name, profile in (("copy", identity), ("identity", identity), ("pin+edge", typical_profile(w, h)),
                              ("full", full_profile(w, h))):
            finish_ms, readback_ms = bench(ctx, profile, frames, baseline=name == "copy")
            print(f"{label:>10} {name:>9} {finish_ms:10.2f} {readback_ms:12.2f}")


if __name__ == "__main__":
    main()
