"""The headless output: an offscreen EGL context, and no picture of its own.

It is what remains when a run has no window (``--headless``, or a show whose ``[[outputs]]``
lists none): the compositor draws through its context, and the other outputs (recordings,
network streams) take the frames.
"""

from __future__ import annotations

from .base import Canvas, Frame


class HeadlessOutput:
    #: this output creates the GL context the show draws with (at most one output per run may)
    provides_context = True

    def __init__(self):
        self.context = None

    def open(self, canvas: Canvas) -> None:
        from ..render.context import create_headless_context

        self.context = create_headless_context()

    def write(self, frame: Frame) -> None:
        pass

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return "headless"
