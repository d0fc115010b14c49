"""A show's timeline as pictures: one frame every N seconds, scene names and cue times on them.

The plan (:func:`plan`) comes from the real :class:`~installation.show.timeline.Timeline`: the
layers visible at each sample time with their opacities, and the moments the playing cue or
scene changes.  A show that waits for GO is previewed as if GO came when each manual cue's
action ended.  Frames are made by a callable the caller supplies (the CLI builds each scene's
real generator, walk and post chain), blended by opacity as the compositor crossfades, and
fitted to the show's aspect by cover-cropping: a preview of what plays, not the GL output.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..show.timeline import INF, Timeline, compile_actions, cycle_length

LABEL_H = 30
GAP = 4


@dataclass(frozen=True)
class Stop:
    t: float
    layers: tuple[tuple[int, str, float, float], ...]  # (scene index, scene name, local t, opacity)


@dataclass(frozen=True)
class Mark:
    t: float
    cue: int
    cue_name: str
    scene: str


def clock(t: float) -> str:
    t = int(round(t))
    h, rest = divmod(t, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def preview_timeline(show) -> tuple[Timeline, float]:
    """The show's timeline (GO given where manual cues end) and the length of one pass."""
    timeline = Timeline(show)
    actions = compile_actions(show)
    length = cycle_length(actions)
    if length != INF:
        return timeline, length
    total = 0.0
    for a in actions:
        mode = a.cue.continue_
        total += a.cue.pre_wait + (
            a.cue.post_wait if mode == "auto-continue" else (a.pass_length if a.length == INF else a.length)
        )
        if mode == "manual":
            timeline.go(total)
    return timeline, total


def plan(timeline: Timeline, every: float, duration: float, start: float = 0.0) -> tuple[list[Stop], list[Mark]]:
    """Sample times ``start, start+every, ...`` below ``start+duration``, and where cues or scenes change."""
    if every <= 0 or duration <= 0:
        raise ValueError("every and duration must be positive")
    stops = []
    n = max(1, int(math.ceil(duration / every - 1e-9)))
    for k in range(n):
        t = start + k * every
        stops.append(Stop(t, tuple((la.index, la.scene.name, la.local_t, la.opacity) for la in timeline.layers_at(t))))
    marks: list[Mark] = []
    step = min(0.25, every / 4)
    last = None
    t = start
    while t < start + duration:
        seg = timeline.current(t)
        key = None if seg is None else (seg.cue, seg.scene, seg.start)
        if seg is not None and key != last:
            cue = timeline.actions[seg.cue].cue
            marks.append(Mark(max(seg.start, start), seg.cue, cue.name or "", timeline.show.scenes[seg.scene].name))
        last = key
        t += step
    return stops, marks


def cover(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """``frame`` (HWC uint8) scaled to cover ``height`` x ``width`` and centre-cropped."""
    import cv2

    h, w = frame.shape[:2]
    s = max(height / h, width / w)
    nh, nw = max(height, int(round(h * s))), max(width, int(round(w * s)))
    big = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    y, x = (nh - height) // 2, (nw - width) // 2
    return big[y : y + height, x : x + width]


def thumbnails(
    stops: Sequence[Stop], frame_of: Callable[[int, float], np.ndarray], height: int, width: int, progress=None
) -> list[np.ndarray]:
    """One thumbnail per stop: each layer's frame (``frame_of(scene index, local t)``) blended by opacity."""
    out = []
    for stop in stops:
        acc = np.zeros((height, width, 3), np.float32)
        for i, _name, local_t, opacity in stop.layers:  # bottom first: a new scene fades in over the last
            acc = acc * (1 - opacity) + cover(frame_of(i, local_t), height, width).astype(np.float32) * opacity
        out.append((acc + 0.5).clip(0, 255).astype(np.uint8))
        if progress is not None:
            progress.advance(1)
    return out


def caption(stop: Stop) -> str:
    names = [name for _i, name, _t, op in stop.layers if op > 0.0]
    return f"{clock(stop.t)} " + (" > ".join(names) if names else "black")


def marks_in(marks: Sequence[Mark], t0: float, t1: float) -> list[Mark]:
    return [m for m in marks if t0 <= m.t < t1]


def strip(
    thumbs: Sequence[np.ndarray],
    stops: Sequence[Stop],
    marks: Sequence[Mark],
    every: float,
    columns: int | None = None,
) -> np.ndarray:
    """The strip image: thumbnails left to right (wrapping after ``columns``), captions and cue marks."""
    import cv2

    th, tw = thumbs[0].shape[:2]
    cols = columns or len(thumbs)
    rows = int(math.ceil(len(thumbs) / cols))
    img = np.full((GAP + rows * (th + LABEL_H + GAP), GAP + cols * (tw + GAP), 3), 20, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for k, (thumb, stop) in enumerate(zip(thumbs, stops)):
        r, c = divmod(k, cols)
        y, x = GAP + r * (th + LABEL_H + GAP), GAP + c * (tw + GAP)
        img[y : y + th, x : x + tw] = thumb
        cv2.putText(
            img, caption(stop)[: max(4, tw // 6)], (x + 2, y + th + 12), font, 0.34, (235, 235, 235), 1, cv2.LINE_AA
        )
        for j, m in enumerate(marks_in(marks, stop.t, stop.t + every)):  # a cue in [t, t + every): a line at its time
            px = x + min(tw - 1, int((m.t - stop.t) / every * tw))
            cv2.line(img, (px, y), (px, y + th - 1), (255, 200, 0), 2)
            if j == 0:
                text = fit_label(cue_labels(m), tw - 4)
                cv2.putText(img, text, (x + 2, y + th + 25), font, 0.34, (255, 200, 0), 1, cv2.LINE_AA)
    return img


def cue_labels(m: Mark) -> list[str]:
    """A cue mark's label, longest first: each drops what a reader can best do without."""
    name = f" {m.cue_name}" if m.cue_name else ""
    return [
        f"{clock(m.t)} cue {m.cue + 1}{name}: {m.scene}",
        f"{clock(m.t)} cue {m.cue + 1}: {m.scene}",
        f"cue {m.cue + 1}: {m.scene}",
        f"{clock(m.t)} cue {m.cue + 1}",
    ]


def fit_label(candidates: Sequence[str], width: int, scale: float = 0.34) -> str:
    """The first candidate that fits ``width`` pixels in the strip's font, else the last one cut to fit."""
    import cv2

    def fits(t: str) -> bool:
        return cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] <= width

    for text in candidates:
        if fits(text):
            return text
    text = candidates[-1]
    while len(text) > 1 and not fits(text):
        text = text[:-1]
    return text


def _png_data(img: np.ndarray) -> str:
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(img[..., ::-1]))
    if not ok:
        raise ValueError("cannot encode a thumbnail")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode()


def page(title: str, thumbs: Sequence[np.ndarray], stops: Sequence[Stop], marks: Sequence[Mark], every: float) -> str:
    """A single HTML file (thumbnails embedded) a curator scrolls along: frames, times, scenes, cues."""
    esc = html.escape
    cells = []
    for thumb, stop in zip(thumbs, stops):
        cues = "".join(
            f'<div class="cue">cue {m.cue + 1} {esc(m.cue_name)} · {esc(m.scene)} at {clock(m.t)}</div>'
            for m in marks_in(marks, stop.t, stop.t + every)
        )
        cells.append(
            f'<figure id="t{int(stop.t)}"><img src="{_png_data(thumb)}" alt="{esc(caption(stop))}">'
            f"<figcaption><b>{clock(stop.t)}</b> "
            f"{esc(' > '.join(n for _i, n, _t, o in stop.layers if o > 0) or 'black')}"
            f"{cues}</figcaption></figure>"
        )
    rows = "".join(
        f"<tr><td>{clock(m.t)}</td><td>{m.cue + 1}</td><td>{esc(m.cue_name)}</td><td>{esc(m.scene)}</td></tr>"
        for m in marks
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}: timeline preview</title>
<style>
body {{ font: 14px system-ui, sans-serif; background: #111; color: #ddd; margin: 1em; }}
.strip {{ display: flex; gap: 6px; overflow-x: auto; padding-bottom: 1em; }}
figure {{ margin: 0; flex: none; }}
figure img {{ display: block; }}
figcaption {{ font-size: 12px; padding-top: 3px; }}
.cue {{ color: #fc0; }}
table {{ border-collapse: collapse; margin-top: 1em; }} td, th {{ padding: 2px 10px; text-align: left; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p>One frame every {every:g} s, {len(stops)} frames; scroll sideways.</p>
<div class="strip">{"".join(cells)}</div>
<h2>Cues and scenes</h2>
<table><tr><th>time</th><th>cue</th><th>name</th><th>scene</th></tr>{rows}</table>
</body></html>
"""
