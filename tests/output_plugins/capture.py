"""A third-party output plugin for the output tests (loaded with ``--plugins-dir``).

``type = "capture"`` writes every frame it is handed to ``path`` as raw RGB bytes and a line per
frame to ``path.log``: index, show time, readbacks so far of this frame, and the id of the RGB
array it got (two capture outputs of one run must see the same array: one readback per frame).
``fail_open = true`` makes ``open`` fail the way a real output would (a path it cannot write).
"""
from __future__ import annotations

from pathlib import Path

from installation import hookimpl


class Capture:
    def __init__(self, path: str, fail_open: bool = False):
        self.path = Path(path)
        self.fail_open = fail_open
        self.raw = self.log = None

    def open(self, canvas):
        if self.fail_open:
            raise PermissionError(f"cannot write {self.path}: permission denied")
        self.path = canvas.resolve(self.path)
        self.raw = self.path.open("wb")
        self.log = self.path.with_suffix(".log").open("w")
        self.log.write(f"size {canvas.size[0]} {canvas.size[1]} fps {canvas.fps}\n")

    def write(self, frame):
        rgb = frame.rgb()
        self.raw.write(rgb.tobytes())
        self.log.write(f"{frame.index} {frame.t!r} {frame.readbacks} {id(rgb)}\n")

    def close(self):
        for f in (self.raw, self.log):
            if f is not None:
                f.close()


@hookimpl
def register_outputs():
    return {"capture": Capture}
