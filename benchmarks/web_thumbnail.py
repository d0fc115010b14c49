"""What the web page's thumbnail costs the render thread, and what its encoder thread spends.

Prints, for 720p and 1080p frames: milliseconds per ``Thumbnailer.offer`` on the render thread
when a thumbnail is due (the copy of the shared RGB readback; the readback itself is paid once
per frame by whichever output asks first and is not counted), the encoder's milliseconds per
JPEG (scale + mjpeg), and the JPEG size.  Run: ``python benchmarks/web_thumbnail.py``.
"""
from __future__ import annotations

import time

import numpy as np

from installation.web.thumbnail import Thumbnailer, encode_jpeg


class _Frame:
    def __init__(self, rgb, index):
        self._rgb, self.index = rgb, index

    def rgb(self):
        return self._rgb


def main(n: int = 20) -> None:
    rng = np.random.default_rng(0)
    for w, h in ((1280, 720), (1920, 1080)):
        rgb = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        thumbs = Thumbnailer(fps=1e6, width=320).start()
        offers = []
        for i in range(n):
            t0 = time.perf_counter()
            thumbs.offer(_Frame(rgb, i))
            offers.append(time.perf_counter() - t0)
            time.sleep(0.03)
        thumbs.close()
        t0 = time.perf_counter()
        for _ in range(n):
            jpeg = encode_jpeg(rgb, 320)
        enc = (time.perf_counter() - t0) / n
        print(f"{w}x{h}: offer on the render thread {1000 * np.median(offers):.2f} ms (max {1000 * max(offers):.2f}), "
              f"encode {1000 * enc:.1f} ms in the encoder thread, {len(jpeg) / 1024:.1f} KiB JPEG, "
              f"{thumbs.encoded} encoded / {thumbs.replaced} replaced while busy")


if __name__ == "__main__":
    main()
