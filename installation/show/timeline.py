"""The timeline: which scenes are visible at show time ``t``, at what opacity.

A pure function of (show, t): seeking is computing, never playing from the start.  Scenes play
in order; a scene's ``transition`` is the crossfade from the previous scene, starting at the
scene's own start time.  A looping show wraps, fading the last scene into the first.
"""
from __future__ import annotations

from dataclasses import dataclass

from .schema import Scene, Show


@dataclass(frozen=True)
class LayerState:
    index: int        # scene index in the show
    scene: Scene
    local_t: float    # seconds since this scene started (keeps running through the fade out)
    opacity: float


def ease(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


class Timeline:
    def __init__(self, show: Show):
        self.show = show
        self.starts: list[float] = []
        acc = 0.0
        for scene in show.scenes:
            self.starts.append(acc)
            acc += scene.duration
        self.length = acc

    def scene_index_at(self, t: float) -> tuple[int, float, int]:
        """(scene index, local time, loop count) at show time ``t``."""
        if t < 0:
            t = 0.0
        loops = 0
        if self.show.loop:
            loops = int(t // self.length)
            t = t - loops * self.length
        elif t >= self.length:
            last = len(self.show.scenes) - 1
            return last, t - self.starts[last], 0
        i = max(k for k, s in enumerate(self.starts) if s <= t)
        return i, t - self.starts[i], loops

    def layers_at(self, t: float) -> list[LayerState]:
        i, local, loops = self.scene_index_at(t)
        scene = self.show.scenes[i]
        has_prev = i > 0 or (self.show.loop and loops > 0)
        if scene.transition > 0 and local < scene.transition and has_prev:
            j = (i - 1) % len(self.show.scenes)
            prev = self.show.scenes[j]
            return [
                LayerState(j, prev, prev.duration + local, 1.0),
                LayerState(i, scene, local, ease(local / scene.transition)),
            ]
        return [LayerState(i, scene, local, 1.0)]
