"""What the technician sees on top of an output while calibrating: the pinned outline, the mesh,
every handle, the selected one highlighted, and an optional help card.

Only drawn in ``installation calibrate``; a running show pays for the calibration pass alone.
"""

from __future__ import annotations

import moderngl
import numpy as np

from ..render.context import load_program
from . import geometry
from .editor import CalibrationEditor

HANDLE_PX = 9
COLOURS = {
    "outline": (0.2, 0.9, 1.0, 1.0),
    "mesh": (1.0, 0.8, 0.2, 0.8),
    "handle": (1.0, 1.0, 1.0, 1.0),
    "selected": (1.0, 0.2, 0.3, 1.0),
}


class CalibrationOverlay:
    """Draws the editor's handles for one output into the current viewport."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.program = load_program(ctx, "calibration_overlay")
        self.vbo = ctx.buffer(reserve=4 * 4 * 4096, dynamic=True)
        self.vao = ctx.vertex_array(self.program, [(self.vbo, "2f 2f", "in_pos", "in_uv")])
        self._card: moderngl.Texture | None = None
        self._card_text = ""

    def _lines(self, points: np.ndarray, colour, mode=moderngl.LINES) -> None:
        if len(points) == 0:
            return
        data = np.zeros((len(points), 4), dtype="f4")
        data[:, :2] = points
        if data.nbytes > self.vbo.size:
            self.vbo.orphan(data.nbytes)
        self.vbo.write(data.tobytes())
        self.program["u_textured"].value = False
        self.program["u_color"].value = colour
        self.vao.render(mode, vertices=len(points))

    def draw(self, editor: CalibrationEditor, output_index: int, selected: bool) -> None:
        """Overlay for output ``output_index`` (the framebuffer and viewport must already be set)."""
        out = editor.profile.outputs[output_index]
        w, h = out.resolution
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self._lines(np.asarray(out.corners), COLOURS["outline"], moderngl.LINE_LOOP)
        if out.mesh is not None:
            surf = geometry.apply_homography(out.homography(), geometry.mesh_surface(out.mesh.grid(), 8))
            sub = 8
            segs = []
            for r in range(0, surf.shape[0], sub):
                row = surf[r]
                segs.append(np.repeat(row, 2, axis=0)[1:-1])
            for c in range(0, surf.shape[1], sub):
                col = surf[:, c]
                segs.append(np.repeat(col, 2, axis=0)[1:-1])
            self._lines(np.concatenate(segs), COLOURS["mesh"])
        for target in ("corners", "mesh"):
            pts = editor.handles(output_index, target)
            if len(pts):
                self._lines(_squares(pts, HANDLE_PX / w, HANDLE_PX / h), COLOURS["handle"])
        if selected:
            p = np.asarray([editor.selected_position()])
            big = _squares(p, 2 * HANDLE_PX / w, 2 * HANDLE_PX / h)
            cross = np.array(
                [
                    [p[0, 0] - 4 * HANDLE_PX / w, p[0, 1]],
                    [p[0, 0] + 4 * HANDLE_PX / w, p[0, 1]],
                    [p[0, 0], p[0, 1] - 4 * HANDLE_PX / h],
                    [p[0, 0], p[0, 1] + 4 * HANDLE_PX / h],
                ]
            )
            self._lines(np.concatenate([big, cross]), COLOURS["selected"])
        self.ctx.disable(moderngl.BLEND)

    def draw_card(self, text: str, width: int, height: int) -> None:
        """A translucent text card in the top-left of the current viewport (help, status)."""
        if text != self._card_text or self._card is None:
            if self._card is not None:
                self._card.release()
            img = text_card(text)
            self._card = self.ctx.texture((img.shape[1], img.shape[0]), 4, np.ascontiguousarray(img[::-1]).tobytes())
            self._card_text = text
        cw, ch = self._card.size
        x1, y1 = min(1.0, (cw + 16) / width), min(1.0, (ch + 16) / height)
        x0, y0 = 16 / width, 16 / height
        quad = np.array([[x0, y0, 0, 1], [x1, y0, 1, 1], [x0, y1, 0, 0], [x1, y1, 1, 0]], dtype="f4")
        self.vbo.write(quad.tobytes())
        self.ctx.enable(moderngl.BLEND)
        self._card.use(location=0)
        self.program["u_texture"].value = 0
        self.program["u_textured"].value = True
        self.program["u_color"].value = (1.0, 1.0, 1.0, 1.0)
        self.vao.render(moderngl.TRIANGLE_STRIP, vertices=4)
        self.ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        self.vao.release()
        self.vbo.release()
        self.program.release()
        if self._card is not None:
            self._card.release()


def _squares(pts: np.ndarray, hw: float, hh: float) -> np.ndarray:
    """Line-segment outlines of a small square around each point."""
    out = []
    for x, y in pts:
        a, b, c, d = (x - hw, y - hh), (x + hw, y - hh), (x + hw, y + hh), (x - hw, y + hh)
        out.extend([a, b, b, c, c, d, d, a])
    return np.asarray(out, dtype=np.float64)


def text_card(text: str, scale: float = 0.55) -> np.ndarray:
    """Render monospace-ish text lines onto a translucent dark card, ``[H, W, 4] uint8`` top-down."""
    import cv2

    lines = text.splitlines() or [""]
    font = cv2.FONT_HERSHEY_SIMPLEX
    sizes = [cv2.getTextSize(line, font, scale, 1)[0] for line in lines]
    lh = max(s[1] for s in sizes) + 10
    w = max(s[0] for s in sizes) + 20
    h = lh * len(lines) + 10
    img = np.zeros((h, w, 4), np.uint8)
    img[..., 3] = 190
    for i, line in enumerate(lines):
        cv2.putText(img, line, (10, 5 + lh * (i + 1) - 5), font, scale, (255, 255, 255, 255), 1, cv2.LINE_AA)
    return img
