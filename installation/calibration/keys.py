"""Keyboard map of the live calibration window, as plain key names so tests need no window.

Names are pygame's ``pygame.key.name`` strings ("left", "tab", "z", "1"); modifiers are a set
of "shift", "ctrl", "alt".  Arrows nudge by the fine step, with Shift by the coarse step and
with Alt by a tenth of a pixel.
"""

from __future__ import annotations

from .editor import SUBPIXEL_STEP, CalibrationEditor

ARROWS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}

HELP = """\
arrows          nudge the selected point (Shift: coarse, Alt: 0.1 px)
Tab / Shift+Tab next / previous point        1-4  corner 1-4 (TL TR BR BL)
O / Shift+O     next / previous output        M    edit corners <-> mesh (adds a 5x5 mesh)
R               reset the selected point      P / Shift+P  next / previous test pattern
C               show the running content      Ctrl+Z / Ctrl+Y  undo / redo
G / Shift+G     soft-edge gamma +/- 0.05      B / Shift+B  black level +/- 0.002
Ctrl+S          save the profile              Ctrl+R  reload the file (after editing it)
H               hide this help                Esc  quit (twice if unsaved)
mouse           click picks the nearest point, drag moves it"""


def handle_key(editor: CalibrationEditor, key: str, mods: frozenset[str] | set[str] = frozenset()) -> str | None:
    """Apply one key press; returns ``"quit"`` or ``"help"`` for the window to act on, else ``None``."""
    key = key.lower()
    shift, ctrl, alt = "shift" in mods, "ctrl" in mods, "alt" in mods
    if key == "escape":
        # with unsaved changes the first Esc only warns; a second one in a row quits
        if editor.dirty and not editor._quit_armed:
            editor._quit_armed = True
            editor.message = "unsaved changes: Esc again to quit without saving, Ctrl+S to save"
            return None
        return "quit"
    editor._quit_armed = False
    if key in ARROWS:
        dx, dy = ARROWS[key]
        if alt:
            editor.nudge(dx, dy, step=SUBPIXEL_STEP)
        else:
            editor.nudge(dx, dy, coarse=shift)
    elif key == "tab":
        editor.select_next(-1 if shift else 1)
    elif ctrl and key == "z":
        editor.redo() if shift else editor.undo()
    elif ctrl and key == "y":
        editor.redo()
    elif ctrl and key == "s":
        editor.save()
    elif ctrl and key == "r":
        editor.reload()
    elif key in ("1", "2", "3", "4") and not ctrl:
        editor.select(target="corners", point=int(key) - 1)
    elif key == "o":
        editor.select_output(-1 if shift else 1)
    elif key == "m":
        if editor.target == "mesh":
            editor.select(target="corners", point=0)
        elif editor.current.mesh is None:
            editor.set_mesh(5, 5)
        else:
            editor.select(target="mesh", point=0)
    elif key == "r":
        editor.reset_point()
    elif key == "g":
        editor.adjust_blend_gamma(-0.05 if shift else 0.05)
    elif key == "b":
        editor.adjust_black_level(-0.002 if shift else 0.002)
    elif key == "p":
        editor.cycle_pattern(-1 if shift else 1)
    elif key == "c":
        editor.set_pattern(None)
    elif key == "h":
        return "help"
    return None
