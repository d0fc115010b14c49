"""Windows for calibrated output: where they go on the desktop and the live calibration loop.

Two layouts (``profile.window``):

* ``spanning``: one borderless window covering every output (the desktop spans the displays,
  as X11/Xinerama, macOS with "displays have separate spaces" off, or a GPU's mosaic mode
  give it); each output is drawn into its viewport at its ``position``.  One process, one GL
  context, every output refreshed together.
* ``per-display``: one window per output on display ``display`` at its resolution.  pygame
  opens one GL window per process, so each output runs its own process (``--output N``); saving
  then merges that output into the file so the processes do not overwrite each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .profile import CalibrationProfile


@dataclass(frozen=True)
class WindowSpec:
    """A window to open: desktop position and size, display index and the outputs it shows."""

    position: tuple[int, int]
    size: tuple[int, int]
    display: int
    outputs: tuple[int, ...]

    def viewport(self, profile: CalibrationProfile, index: int) -> tuple[int, int, int, int]:
        """GL viewport (y up) of output ``index`` inside this window."""
        out = profile.outputs[index]
        w, h = out.resolution
        if len(self.outputs) == 1:
            return (0, 0, w, h)
        x = out.position[0] - self.position[0]
        y = out.position[1] - self.position[1]
        return (x, self.size[1] - y - h, w, h)

    def output_at(self, profile: CalibrationProfile, mx: int, my: int) -> tuple[int, float, float] | None:
        """Which output a mouse position (window pixels, y down) falls on, and where (normalised)."""
        for i in self.outputs:
            vx, vy, w, h = self.viewport(profile, i)
            top = self.size[1] - vy - h
            if vx <= mx < vx + w and top <= my < top + h:
                return i, (mx - vx + 0.5) / w, (my - top + 0.5) / h
        return None


def window_plan(
    profile: CalibrationProfile, only_output: int | None = None, outputs: tuple[int, ...] | None = None
) -> list[WindowSpec]:
    """The windows a profile needs: one spanning window, or one per output.

    ``outputs`` limits the plan to those outputs (a host's, ``--host``); ``only_output`` to one.
    """
    chosen = tuple(range(len(profile.outputs))) if outputs is None else tuple(outputs)
    if only_output is not None or profile.window == "per-display":
        picked = [only_output] if only_output is not None else chosen
        return [
            WindowSpec(
                profile.outputs[i].position,
                profile.outputs[i].resolution,  # validated tuples
                profile.outputs[i].display,
                (i,),
            )
            for i in picked
        ]
    return [spanning(profile, chosen)]


def spanning(profile: CalibrationProfile, outputs: tuple[int, ...]) -> WindowSpec:
    """One window (or offscreen image) covering ``outputs`` at their desktop positions."""
    outs = [profile.outputs[i] for i in outputs]
    x0 = min(o.position[0] for o in outs)
    y0 = min(o.position[1] for o in outs)
    x1 = max(o.position[0] + o.resolution[0] for o in outs)
    y1 = max(o.position[1] + o.resolution[1] for o in outs)
    return WindowSpec((x0, y0), (x1 - x0, y1 - y0), outs[0].display, tuple(outputs))


def open_window(spec: WindowSpec, fullscreen: bool = True, title: str = "installation"):
    """Open a pygame OpenGL window for ``spec`` and return ``(moderngl context, pygame module)``."""
    from ..render.context import NoDisplayError, has_display

    if not has_display():
        raise NoDisplayError(
            "no display: live calibration needs a screen (or Xvfb); "
            "use --snapshot DIR to render the outputs to images headless"
        )
    os.environ["SDL_VIDEO_WINDOW_POS"] = f"{spec.position[0]},{spec.position[1]}"
    import moderngl
    import pygame

    pygame.init()
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, 3)
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, 3)
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
    flags = pygame.OPENGL | pygame.DOUBLEBUF | (pygame.NOFRAME if fullscreen else 0)
    try:
        pygame.display.set_mode(spec.size, flags, display=spec.display, vsync=1)
    except pygame.error:
        pygame.display.set_mode(spec.size, flags, display=spec.display)
    pygame.display.set_caption(title)
    return moderngl.create_context(), pygame


def run_live(
    profile_path: Path,
    editor,
    content: Callable | None = None,
    osc=None,
    only_output: int | None = None,
    fullscreen: bool = True,
    max_frames: int | None = None,
) -> None:
    """The live calibration loop: keys, mouse and OSC edit the profile while outputs redraw.

    ``content`` is a callable ``(ctx) -> moderngl.Texture`` giving the running show's canvas for
    this frame (same context); without it the "content" view shows the grid pattern.
    """
    from ..render.patterns import make_pattern, to_texture
    from .glpass import CalibrationPass
    from .keys import HELP, handle_key
    from .overlay import CalibrationOverlay

    spec = window_plan(editor.profile, only_output)[0]
    ctx, pygame = open_window(spec, fullscreen, title=f"calibrate {profile_path}")
    cal = CalibrationPass(ctx, editor.profile)
    overlay = CalibrationOverlay(ctx)
    pattern_tex, pattern_name, seen_version = None, None, editor.version
    show_help, frames = True, 0
    dragging: bool | str = False  # "start" on the press, True once moved (the first move records undo)
    cw, ch = editor.profile.canvas
    mods_of = lambda m: {
        n for n, bit in (("shift", pygame.KMOD_SHIFT), ("ctrl", pygame.KMOD_CTRL), ("alt", pygame.KMOD_ALT)) if m & bit
    }
    running = True
    while running:
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                running = False
            elif event.type == pygame.KEYDOWN:
                action = handle_key(editor, pygame.key.name(event.key), mods_of(event.mod))
                if action == "quit":
                    running = False
                elif action == "help":
                    show_help = not show_help
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                hit = spec.output_at(editor.profile, *event.pos)
                if hit:
                    editor.pick(hit[1], hit[2], output=hit[0])
                    dragging = "start"
            elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
                dragging = False
            elif event.type == pygame.MOUSEMOTION and dragging:
                hit = spec.output_at(editor.profile, *event.pos)
                if hit and hit[0] == editor.output:
                    editor.move_to(hit[1], hit[2], label="drag", record=dragging == "start")
                    dragging = True
        if editor.drain() and osc is not None:
            osc.send_status()
        if editor.version != seen_version:
            cal.update(editor.profile)
            seen_version = editor.version
        if editor.pattern is None and content is not None:
            canvas = content(ctx)
        else:
            name = editor.pattern or "grid"
            if name != pattern_name:
                pattern_tex = to_texture(ctx, make_pattern(name, cw, ch, editor.profile), pattern_tex)
                pattern_name = name
            canvas = pattern_tex
        ctx.screen.use()
        ctx.screen.clear(0.0, 0.0, 0.0, 1.0)
        for i in spec.outputs:
            vp = spec.viewport(editor.profile, i)
            cal.render(canvas, i, ctx.screen, viewport=vp)
            overlay.draw(editor, i, selected=i == editor.output)
            if show_help and i == editor.output:
                overlay.draw_card(HELP + "\n\n" + editor.status().replace(" · ", "\n"), vp[2], vp[3])
        pygame.display.set_caption(editor.status())
        pygame.display.flip()
        frames += 1
        if max_frames is not None and frames >= max_frames:
            running = False
    if editor.dirty:
        print(f"unsaved changes to {profile_path} were discarded (Ctrl+S saves)")
    if hasattr(content, "close"):
        content.close()
    overlay.release()
    cal.release()
    pygame.quit()
