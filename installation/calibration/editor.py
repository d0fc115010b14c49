"""The live calibration controller: selection, nudges, undo, save — no window, no sockets.

Key presses (from the pygame window) and OSC messages (from a tablet) both end up as calls on
:class:`CalibrationEditor`.  Network threads never touch it directly: they ``post`` commands to
a queue that the render loop ``drain``s once a frame, as every control input in the runtime does.
Each accepted edit produces a new, fully validated profile, so an edit can never leave a folded
quad behind; a refused edit leaves the profile as it was and says why in ``message``.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from ..render.patterns import PATTERNS
from . import geometry
from .io import save_profile
from .profile import COORD_MAX, COORD_MIN, CalibrationProfile, Mesh, format_loc

TARGETS = ("corners", "mesh")
FINE_STEP, COARSE_STEP, SUBPIXEL_STEP = 1.0, 10.0, 0.1  # output pixels
UNDO_LIMIT = 500


class CalibrationEditor:
    """Holds the profile being calibrated and what the technician has selected."""

    def __init__(
        self,
        profile: CalibrationProfile,
        path: Path | None = None,
        fine_step: float = FINE_STEP,
        coarse_step: float = COARSE_STEP,
        only_output: int | None = None,
    ):
        self.profile = profile
        self.only_output = only_output  # one process per display: save merges just this output
        self.path = Path(path) if path is not None else profile.source
        self.output = only_output or 0
        self.target = "corners"
        self.point = 0
        self.pattern: str | None = "grid"
        self.fine_step, self.coarse_step = fine_step, coarse_step
        self.version = 0  # bumps on every profile change: the render loop re-uploads then
        self.saved_version = 0
        self.message = "ready"
        self._quit_armed = False  # Esc pressed once with unsaved changes (see keys.handle_key)
        self._undo: list[tuple[CalibrationProfile, str, int, int]] = []
        self._redo: list[tuple[CalibrationProfile, str, int, int]] = []
        self._commands: queue.SimpleQueue[tuple[str, tuple]] = queue.SimpleQueue()

    # ------------------------------------------------------------------ queries
    @property
    def dirty(self) -> bool:
        return self.version != self.saved_version

    @property
    def current(self):
        return self.profile.outputs[self.output]

    def handles(self, output: int | None = None, target: str | None = None) -> np.ndarray:
        """Positions of the selectable points in normalised output coordinates, ``[N, 2]``."""
        out = self.profile.outputs[self.output if output is None else output]
        target = target or self.target
        if target == "corners":
            return np.asarray(out.corners, dtype=np.float64)
        if out.mesh is None:
            return np.zeros((0, 2))
        return geometry.apply_homography(out.homography(), np.asarray(out.mesh.points, dtype=np.float64))

    def selected_position(self) -> tuple[float, float]:
        x, y = self.handles()[self.point]
        return float(x), float(y)

    def status(self) -> str:
        out = self.current
        x, y = self.selected_position()
        w, h = out.resolution
        label = f"corner {self.point + 1}" if self.target == "corners" else self._mesh_label()
        return (
            f"output {self.output + 1}/{len(self.profile.outputs)} {out.name!r} · {label} at "
            f"({x * w:.1f}, {y * h:.1f}) px · pattern {self.pattern or 'content'}"
            f"{' · unsaved' if self.dirty else ''} · {self.message}"
        )

    def _mesh_label(self) -> str:
        mesh = self.current.mesh
        return f"mesh point row {self.point // mesh.cols}, column {self.point % mesh.cols}"

    # ------------------------------------------------------------------ selection
    def select(self, output: int | None = None, target: str | None = None, point: int | None = None) -> bool:
        output = self.output if output is None else int(output)
        target = self.target if target is None else _target(target)
        if not 0 <= output < len(self.profile.outputs):
            return self._refuse(f"no output {output + 1}: the profile has {len(self.profile.outputs)}")
        if target is None:
            return self._refuse("target must be 'corners' or 'mesh'")
        count = len(self.handles(output, target))
        if count == 0:
            return self._refuse(f"output {output + 1} has no mesh: add one first (key M or /calibrate/mesh)")
        point = (0 if target != self.target or output != self.output else self.point) if point is None else int(point)
        if not 0 <= point < count:
            return self._refuse(f"no point {point} in {target} (0..{count - 1})")
        self.output, self.target, self.point = output, target, point
        return self._ok(f"selected {target} point {point} of output {output + 1}")

    def select_next(self, step: int = 1) -> bool:
        count = len(self.handles())
        return self.select(point=(self.point + step) % count)

    def select_output(self, step: int = 1) -> bool:
        n = len(self.profile.outputs)
        target = (
            self.target
            if (self.target == "corners" or self.profile.outputs[(self.output + step) % n].mesh)
            else "corners"
        )
        return self.select(output=(self.output + step) % n, target=target, point=0)

    def pick(self, x: float, y: float, output: int | None = None) -> bool:
        """Select the handle nearest to normalised output position ``(x, y)`` (a mouse click)."""
        output = self.output if output is None else output
        best = None
        for target in TARGETS:
            pts = self.handles(output, target)
            if len(pts):
                d = np.hypot(pts[:, 0] - x, pts[:, 1] - y)
                i = int(np.argmin(d))
                if best is None or d[i] < best[0]:
                    best = (d[i], target, i)
        if best is None:  # no handles at all (an output always has corners, so not in practice)
            return False
        return self.select(output=output, target=best[1], point=best[2])

    # ------------------------------------------------------------------ edits
    def nudge(self, dx: float, dy: float, coarse: bool = False, step: float | None = None) -> bool:
        """Move the selected point by ``(dx, dy)`` steps of output pixels (y down)."""
        step = step if step is not None else (self.coarse_step if coarse else self.fine_step)
        w, h = self.current.resolution
        x, y = self.selected_position()
        return self.move_to(x + dx * step / w, y + dy * step / h, label=f"nudge {dx * step:+g},{dy * step:+g} px")

    def move_to(self, x: float, y: float, label: str = "move", record: bool = True) -> bool:
        """Put the selected point at normalised output position ``(x, y)`` (mouse drag, tablet XY pad)."""
        x = min(max(float(x), COORD_MIN), COORD_MAX)
        y = min(max(float(y), COORD_MIN), COORD_MAX)
        data = self.profile.model_dump()
        out = data["outputs"][self.output]
        if self.target == "corners":
            corners = [list(c) for c in out["corners"]]
            corners[self.point] = [x, y]
            out["corners"] = corners
        else:
            inv = np.linalg.inv(self.current.homography())
            u, v = geometry.apply_homography(inv, [x, y])
            if not (COORD_MIN <= u <= COORD_MAX and COORD_MIN <= v <= COORD_MAX):
                return self._refuse("that would take the mesh point too far outside the corner pin")
            points = [list(p) for p in out["mesh"]["points"]]
            points[self.point] = [float(u), float(v)]
            out["mesh"]["points"] = points
        return self._apply(data, label, record)

    def reset_point(self) -> bool:
        """Put the selected corner back on the output's corner, or the mesh point back on the flat grid."""
        if self.target == "corners":
            x, y = geometry.UNIT_SQUARE[self.point]
            return self.move_to(x, y, label="reset corner")
        mesh = self.current.mesh
        u, v = geometry.flat_grid(mesh.cols, mesh.rows).reshape(-1, 2)[self.point]
        x, y = geometry.apply_homography(self.current.homography(), [u, v])
        return self.move_to(x, y, label="reset mesh point")

    def set_mesh(self, cols: int, rows: int) -> bool:
        """Give the selected output a flat ``cols × rows`` mesh (0 × 0 removes it)."""
        data = self.profile.model_dump()
        cols, rows = int(cols), int(rows)
        if cols == 0 and rows == 0:
            data["outputs"][self.output]["mesh"] = None
            ok = self._apply(data, "remove mesh")
            if ok:
                self.target, self.point = "corners", 0
            return ok
        try:
            data["outputs"][self.output]["mesh"] = Mesh.flat(cols, rows).model_dump()
        except ValueError:
            return self._refuse("a mesh needs 2..64 columns and rows")
        ok = self._apply(data, f"flat {cols}x{rows} mesh")
        if ok:
            self.target, self.point = "mesh", 0
        return ok

    def set_blend(
        self, side: str, width: float | None = None, curve: float | None = None, gamma: float | None = None
    ) -> bool:
        """Change one soft edge of the selected output (``side``: left, right, top, bottom)."""
        if side not in ("left", "right", "top", "bottom"):
            return self._refuse(f"blend side must be left, right, top or bottom, got {side!r}")
        data = self.profile.model_dump()
        edge = data["outputs"][self.output]["blend"][side]
        for key, value in (("width", width), ("curve", curve), ("gamma", gamma)):
            if value is not None:
                edge[key] = float(value)
        return self._apply(
            data, f"blend {side}: width {edge['width']:g}, curve {edge['curve']:g}, gamma {edge['gamma']:g}"
        )

    def adjust_blend_gamma(self, delta: float) -> bool:
        """Nudge the gamma of every active soft edge of the selected output (overlap too bright: raise)."""
        data = self.profile.model_dump()
        edges = [e for e in data["outputs"][self.output]["blend"].values() if e["width"] > 0]
        if not edges:
            return self._refuse(f"output {self.output + 1} has no soft edge")
        for e in edges:
            e["gamma"] = round(min(max(e["gamma"] + delta, 0.5), 5.0), 4)
        return self._apply(data, f"blend gamma {edges[0]['gamma']:g}")

    def set_color(self, field: str, r: float, g: float, b: float) -> bool:
        """Set ``gamma``, ``brightness`` or ``black_level`` of the selected output per channel."""
        if field not in ("gamma", "brightness", "black_level"):
            return self._refuse(f"colour field must be gamma, brightness or black_level, got {field!r}")
        data = self.profile.model_dump()
        data["outputs"][self.output]["color"][field] = (float(r), float(g), float(b))
        return self._apply(data, f"{field} {float(r):g} {float(g):g} {float(b):g}")

    def adjust_black_level(self, delta: float) -> bool:
        """Raise or lower the black-level lift of the selected output on all channels."""
        lift = [round(min(max(c + delta, 0.0), 0.5), 4) for c in self.current.color.black_level]
        return self.set_color("black_level", *lift)

    def reload(self) -> bool:
        """Read the profile file again (after editing it by hand); undo returns to the edited state."""
        if self.path is None or not Path(self.path).is_file():
            return self._refuse("no profile file to reload")
        from .io import ProfileError, load_profile

        try:
            fresh = load_profile(self.path)
        except ProfileError as exc:
            return self._refuse(f"reload refused: {exc.problems[0].field}: {exc.problems[0].message}")
        if len(fresh.outputs) != len(self.profile.outputs):
            self.output, self.target, self.point = 0, "corners", 0
        self._undo.append((self.profile, self.target, self.output, self.point))
        self._redo.clear()
        self.profile = fresh
        self.version += 1
        self.saved_version = self.version
        if self.target == "mesh" and self.current.mesh is None:
            self.target, self.point = "corners", 0
        return self._ok(f"reloaded {self.path}")

    def _apply(self, data: dict, label: str, record: bool = True) -> bool:
        try:
            new = CalibrationProfile.model_validate(data)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            msg = err["msg"].removeprefix("Value error, ")
            return self._refuse(f"refused: {format_loc(err['loc'])}: {msg}" if err["loc"] else f"refused: {msg}")
        new._source = self.profile.source
        if record:
            self._undo.append((self.profile, self.target, self.output, self.point))
            del self._undo[:-UNDO_LIMIT]
            self._redo.clear()
        self.profile = new
        self.version += 1
        return self._ok(label)

    def undo(self) -> bool:
        return self._step(self._undo, self._redo, "undo", "undone")

    def redo(self) -> bool:
        return self._step(self._redo, self._undo, "redo", "redone")

    def _step(self, source: list, other: list, verb: str, done: str) -> bool:
        """Undo and redo are one move: the newest state of ``source`` back, the current onto ``other``."""
        if not source:
            return self._refuse(f"nothing to {verb}")
        other.append((self.profile, self.target, self.output, self.point))
        self.profile, self.target, self.output, self.point = source.pop()
        self.version += 1
        return self._ok(done)

    def save(self, path: str | Path | None = None) -> bool:
        target = Path(path) if path else self.path
        if target is None:
            return self._refuse("no file to save to: give a path")
        profile = self.profile
        if self.only_output is not None and target.is_file():
            from .io import load_profile

            on_disk = load_profile(target)  # other outputs may have been saved by their own processes
            data = on_disk.model_dump()
            data["outputs"][self.only_output] = self.profile.outputs[self.only_output].model_dump()
            profile = CalibrationProfile.model_validate(data)
        save_profile(profile, target)
        self.path = target
        self.saved_version = self.version
        return self._ok(f"saved {target}")

    def set_pattern(self, name: str | None) -> bool:
        """Show test pattern ``name``, or the running content for ``None``/``"content"``."""
        if name in (None, "", "content", "none"):
            self.pattern = None
            return self._ok("showing content")
        if name not in PATTERNS:
            return self._refuse(f"unknown pattern {name!r}; choose one of content, {', '.join(PATTERNS)}")
        self.pattern = name
        return self._ok(f"pattern {name}")

    def cycle_pattern(self, step: int = 1) -> bool:
        order = [None, *PATTERNS]
        i = order.index(self.pattern) if self.pattern in order else 0
        return self.set_pattern(order[(i + step) % len(order)])

    def set_steps(self, fine: float, coarse: float) -> bool:
        if not (0 < float(fine) <= float(coarse) <= 500):
            return self._refuse("steps need 0 < fine <= coarse <= 500 px")
        self.fine_step, self.coarse_step = float(fine), float(coarse)
        return self._ok(f"steps {fine:g} / {coarse:g} px")

    # ------------------------------------------------------------------ command queue
    def post(self, command: str, *args) -> None:
        """Queue a command from another thread (OSC); applied on the next :meth:`drain`."""
        self._commands.put((command, args))

    def pending(self) -> int:
        return self._commands.qsize()

    def drain(self) -> list[tuple[str, tuple, bool]]:
        """Apply queued commands in order (call from the render loop); returns what was done."""
        done: list[tuple[str, tuple, bool]] = []
        while True:
            try:
                command, args = self._commands.get_nowait()
            except queue.Empty:
                return done
            done.append((command, args, self.execute(command, *args)))

    def execute(self, command: str, *args) -> bool:
        handler: Callable | None = _COMMANDS.get(command)
        if handler is None:
            return self._refuse(f"unknown command {command!r}")
        try:
            return bool(handler(self, *args))
        except (TypeError, ValueError) as exc:
            return self._refuse(f"bad arguments for {command}: {exc}")

    def _ok(self, message: str) -> bool:
        self.message = message
        return True

    def _refuse(self, message: str) -> bool:
        self.message = message
        return False


def _target(name) -> str | None:
    name = str(name).lower()
    return {"corner": "corners", "corners": "corners", "mesh": "mesh", "pin": "corners"}.get(name)


def _select(ed: CalibrationEditor, *args) -> bool:
    if len(args) == 1:
        return ed.select(point=int(args[0]))
    if len(args) == 2:
        return ed.select(output=int(args[0]), point=int(args[1]))
    output, target, point = args
    return ed.select(output=int(output), target=str(target), point=int(point))


_COMMANDS: dict[str, Callable] = {
    "select": _select,
    "output": lambda ed, i: ed.select(output=int(i), target="corners", point=0),
    "mode": lambda ed, target: ed.select(target=str(target), point=0),
    "next": lambda ed, step=1: ed.select_next(int(step)),
    "nudge": lambda ed, dx, dy, coarse=0: ed.nudge(
        float(dx), float(dy), coarse=bool(coarse) and str(coarse) not in ("0", "fine")
    ),
    "move": lambda ed, x, y: ed.move_to(float(x), float(y)),
    "pick": lambda ed, x, y: ed.pick(float(x), float(y)),
    "reset": lambda ed: ed.reset_point(),
    "mesh": lambda ed, cols, rows: ed.set_mesh(int(cols), int(rows)),
    "undo": lambda ed: ed.undo(),
    "redo": lambda ed: ed.redo(),
    "save": lambda ed, path=None: ed.save(path),
    "pattern": lambda ed, name="content": ed.set_pattern(str(name)),
    "steps": lambda ed, fine, coarse: ed.set_steps(float(fine), float(coarse)),
    "blend": lambda ed, side, width=None, curve=None, gamma=None: ed.set_blend(str(side), width, curve, gamma),
    "color": lambda ed, field, r, g, b: ed.set_color(str(field), float(r), float(g), float(b)),
    "reload": lambda ed: ed.reload(),
}
