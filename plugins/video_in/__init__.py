"""``video_in``: a live feed (NDI, a camera through OpenCV) or a video file played as a scene.

```toml
[scenes.generator]
plugin = "video_in"
source = "ndi:stage cam"     # or camera = 0, or source = "clip.mp4"
size = [640, 360]            # frames are scaled to this (default 640x360; a file: its own size)
[scenes.walk]
type = "clock"               # latent = scene time: a file plays frame-exact, also in --record
```

Live feeds are read by the generator's own thread, latest frame wins; ``generate`` returns the
newest frame and ignores the latent.  A file maps the latent to time (``clock`` walk), so a
fixed-step render shows frame ``floor(t · fps)`` of it, looping.
"""

from installation.api import hookimpl


@hookimpl
def register_generators():
    from .generator import make_video_in

    return {"video_in": make_video_in}


@hookimpl
def register_walks():
    from .generator import ClockWalk

    return {"clock": ClockWalk}
