"""Run inside a network namespace: start the real CLI with an NDI output and receive its frames.

``python3 receive.py OUT_DIR SOURCE_NAME -- CLI ARGS...``: finds the source (the finder given
``extra_ips="127.0.0.1"`` with local sources shown, as a receiver on the machine would), receives
video until the CLI exits, and writes ``frames.npy`` (RGB uint8), ``meta.json`` (each frame's
timecode and the wall time it arrived) and the CLI's output.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import NDIlib as ndi
import numpy as np


def main() -> int:
    out, name = Path(sys.argv[1]), sys.argv[2]
    cli = sys.argv[sys.argv.index("--") + 1 :]
    assert ndi.initialize()
    settings = ndi.FindCreate()
    settings.show_local_sources = True
    settings.extra_ips = "127.0.0.1"
    finder = ndi.find_create_v2(settings)
    proc = subprocess.Popen(
        [sys.executable, "-m", "installation", *cli], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    source, t0 = None, time.monotonic()
    while source is None and proc.poll() is None and time.monotonic() - t0 < 120:
        ndi.find_wait_for_sources(finder, 100)
        source = next((s for s in ndi.find_get_current_sources(finder) if s.ndi_name.endswith(f"({name})")), None)
    frames, meta, names = [], [], []
    if source is not None:
        names.append(source.ndi_name)
        rc = ndi.RecvCreateV3()
        rc.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
        rc.bandwidth = ndi.RECV_BANDWIDTH_HIGHEST
        receiver = ndi.recv_create_v3(rc)
        ndi.recv_connect(receiver, source)
        idle_after_exit = None
        while True:
            kind, video, _, _ = ndi.recv_capture_v2(receiver, 100)
            if kind == ndi.FRAME_TYPE_VIDEO:
                frames.append(np.array(video.data[..., :3]))
                meta.append(
                    {
                        "timecode": int(video.timecode),
                        "at": time.monotonic(),
                        "xres": video.xres,
                        "yres": video.yres,
                        "N": video.frame_rate_N,
                        "D": video.frame_rate_D,
                    }
                )
                ndi.recv_free_video_v2(receiver, video)
                idle_after_exit = None
            elif proc.poll() is not None:
                idle_after_exit = idle_after_exit or time.monotonic()
                if time.monotonic() - idle_after_exit > 1.0:
                    break
        ndi.recv_destroy(receiver)
    log, _ = proc.communicate(timeout=120)
    ndi.find_destroy(finder)
    ndi.destroy()
    if frames:
        np.save(out / "frames.npy", np.stack(frames))
    (out / "meta.json").write_text(json.dumps({"frames": meta, "source": names, "rc": proc.returncode}))
    (out / "cli.log").write_text(log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
