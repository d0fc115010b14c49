"""A pygame OpenGL window (windowed or fullscreen, on a chosen display).

Creates the GL context the whole show renders with; keys become control events, so the same
show reacts identically to a keyboard GO and an OSC GO.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

import moderngl

from ..render.context import NoDisplayError, has_display

if TYPE_CHECKING:
    from ..calibration.glpass import CalibrationPass
    from ..calibration.profile import CalibrationProfile
    from ..calibration.window import WindowSpec

KEY_ACTIONS = {"space": "/cue/go", "right": "/scene/next", "left": "/scene/prev"}


class Window:
    def __init__(
        self,
        size: tuple[int, int],
        fullscreen: bool = False,
        display: int = 0,
        title: str = "installation",
        vsync: bool = True,
        position: tuple[int, int] | None = None,
        borderless: bool = False,
    ):
        """``position`` (desktop pixels) and ``borderless`` place a calibrated window exactly over
        the projectors; ``fullscreen`` instead fills one display."""
        if not has_display():
            raise NoDisplayError("no display found (DISPLAY is not set): run with --headless to render through EGL")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        if position is not None:
            os.environ["SDL_VIDEO_WINDOW_POS"] = f"{position[0]},{position[1]}"
        import pygame

        self.pygame = pygame
        pygame.display.init()
        n = pygame.display.get_num_displays()
        if not 0 <= display < n:
            raise NoDisplayError(f"display {display} does not exist (found {n})")
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, 3)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, 3)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
        flags = pygame.OPENGL | pygame.DOUBLEBUF | (pygame.FULLSCREEN if fullscreen else 0)
        if borderless and not fullscreen:
            flags |= pygame.NOFRAME
        if fullscreen:
            size = pygame.display.get_desktop_sizes()[display]
        self.vsync = vsync
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.surface = pygame.display.set_mode(size, flags, display=display, vsync=int(vsync))
        if any("vsync" in str(w.message) for w in caught):
            self.vsync = False  # the runner paces frames itself
        pygame.display.set_caption(title)
        pygame.mouse.set_visible(not (fullscreen or borderless))
        self.size = size
        self.ctx = moderngl.create_context()
        self.closed = False

    def poll(self) -> list[str]:
        """Handle window events; return control addresses for pressed keys. Esc or close quits."""
        actions = []
        for event in self.pygame.event.get():
            if event.type == self.pygame.QUIT:
                self.closed = True
            elif event.type == self.pygame.KEYDOWN:
                name = self.pygame.key.name(event.key)
                if name == "escape":
                    self.closed = True
                elif name in KEY_ACTIONS:
                    actions.append(KEY_ACTIONS[name])
        return actions

    def flip(self) -> None:
        self.pygame.display.flip()

    def close(self) -> None:
        self.pygame.display.quit()


class WindowOutput:
    """A window output: the show's frames on a display (``type = "window"`` in ``[[outputs]]``).

    Options: ``display`` (monitor index), ``fullscreen``, ``position`` (``[x, y]`` desktop
    pixels).  With a calibration profile the window is placed and sized by the profile and the
    frame is warped and edge-blended per projector.  The window creates the GL context the show
    renders with, and its keys become control events (space GO, arrows next/previous).
    """

    provides_context = True

    def __init__(
        self,
        display: int = 0,
        fullscreen: bool = False,
        position: list[int] | tuple[int, int] | None = None,
        vsync: bool = True,
    ):
        if isinstance(display, bool) or not isinstance(display, int) or display < 0:
            raise ValueError(f"display must be a monitor index (0, 1, ...), got {display!r}")
        if not isinstance(fullscreen, bool):
            raise ValueError(f"fullscreen must be true or false, got {fullscreen!r}")
        if position is not None and (
            len(position) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in position)
        ):
            raise ValueError(f"position must be [x, y] in desktop pixels, got {position!r}")
        self.display, self.fullscreen, self.vsync = display, fullscreen, vsync
        self.position: tuple[int, int] | None = (position[0], position[1]) if position is not None else None
        self.window: Window | None = None
        self.context: moderngl.Context | None = None
        self._calibration: tuple[CalibrationProfile, WindowSpec] | None = None
        self._pass: CalibrationPass | None = None  # made from the profile on the first frame

    def open(self, canvas) -> None:
        profile = canvas.calibration
        if profile is not None:
            from ..calibration.window import window_plan

            plan = window_plan(profile, canvas.calibration_output, canvas.calibration_outputs)
            if len(plan) > 1:  # pygame opens one GL window per process
                raise NoDisplayError(
                    f"the calibration profile opens one window per display ({len(plan)} outputs): start one "
                    f"`installation run {canvas.show_path} --output N` per display, N = 0..{len(plan) - 1}"
                )
            spec = plan[0]
            self.window = Window(
                spec.size,
                display=spec.display,
                title=canvas.title,
                position=spec.position,
                borderless=self.fullscreen,
                vsync=self.vsync,
            )
            self._calibration = (profile, spec)
        else:
            self.window = Window(
                canvas.size,
                fullscreen=self.fullscreen,
                display=self.display,
                title=canvas.title,
                vsync=self.vsync,
                position=self.position,
            )
        self.context = self.window.ctx

    @property
    def paced(self) -> bool:
        """The window waits for the display's refresh (vsync): the runner need not pace frames."""
        return self.window is not None and self.window.vsync

    @property
    def closed(self) -> bool:
        return self.window is not None and self.window.closed

    def _opened(self) -> tuple[Window, moderngl.Context]:
        if self.window is None or self.context is None:
            raise RuntimeError("the window output is not open (call open() first)")
        return self.window, self.context

    def poll(self) -> list[str]:
        return self._opened()[0].poll()

    def write(self, frame) -> None:
        window, context = self._opened()
        screen = context.screen
        if self._calibration is not None:
            if self._pass is None:
                from ..calibration.glpass import CalibrationPass

                self._pass = CalibrationPass(context, self._calibration[0])
            frame.present(screen, window.size, calibration=(self._pass, self._calibration[1]))
        else:
            frame.present(screen, window.size)
        window.flip()

    def close(self) -> None:
        if self.window is not None:
            self.window.close()

    def describe(self) -> str:
        return f"window on display {self.display}"
