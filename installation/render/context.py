"""OpenGL contexts: a pygame window when there is a display, EGL when headless.

Mesa's llvmpipe gives a GL 4.5 EGL context on machines without a GPU, so the same shaders
run in CI, on a headless render host and on the gallery's machine.  Never create an EGL and a
GLX context in one process: the drivers do not share well.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import moderngl

from ..problems import Unavailable

GL_VERSION = 330


class NoDisplayError(Unavailable):
    """Raised when a window is asked for but no display is available."""


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def create_headless_context() -> moderngl.Context:
    """A standalone EGL context (no window, no X)."""
    try:
        # moderngl's stub types **settings as dicts; the backend setting is a string
        return moderngl.create_standalone_context(require=GL_VERSION, backend="egl")  # type: ignore[arg-type]
    except Exception as exc:
        raise RuntimeError(
            f"cannot create a headless EGL OpenGL context ({exc}); install Mesa EGL "
            "(apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri) or a GPU driver with EGL"
        ) from exc


def load_shader(name: str) -> str:
    """Source of ``installation/render/shaders/NAME`` (one program per .glsl file)."""
    from importlib.resources import files

    return files("installation.render.shaders").joinpath(name).read_text()


def load_program(ctx: moderngl.Context, name: str) -> moderngl.Program:
    """Build a program from ``shaders/NAME.glsl`` holding ``#ifdef VERTEX_SHADER`` / ``FRAGMENT_SHADER`` parts."""
    src = load_shader(f"{name}.glsl")
    header = f"#version {GL_VERSION}\n"
    return ctx.program(
        vertex_shader=header + "#define VERTEX_SHADER\n" + src,
        fragment_shader=header + "#define FRAGMENT_SHADER\n" + src,
    )


@dataclass
class FullscreenQuad:
    """A two-triangle strip covering clip space with ``in_pos`` and ``in_uv`` attributes."""

    vao: moderngl.VertexArray

    @classmethod
    def create(cls, ctx: moderngl.Context, program: moderngl.Program) -> FullscreenQuad:
        import numpy as np

        data = np.array(
            [
                -1,
                -1,
                0,
                0,
                1,
                -1,
                1,
                0,
                -1,
                1,
                0,
                1,
                1,
                1,
                1,
                1,
            ],
            dtype="f4",
        )
        vbo = ctx.buffer(data.tobytes())
        vao = ctx.vertex_array(program, [(vbo, "2f 2f", "in_pos", "in_uv")])
        return cls(vao)

    def render(self) -> None:
        self.vao.render(moderngl.TRIANGLE_STRIP)
