"""A pygame OpenGL window (windowed or fullscreen, on a chosen display).

Creates the GL context the whole show renders with; keys become control events, so the same
show reacts identically to a keyboard GO and an OSC GO.
"""
from __future__ import annotations

import os
import warnings

import moderngl

from ..render.context import NoDisplayError, has_display

KEY_ACTIONS = {"space": "/cue/go", "right": "/scene/next", "left": "/scene/prev"}


class Window:
    def __init__(self, size: tuple[int, int], fullscreen: bool = False, display: int = 0, title: str = "installation",
                 vsync: bool = True, position: tuple[int, int] | None = None, borderless: bool = False):
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
