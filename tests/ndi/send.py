"""Run inside a network namespace: send a flat-colour NDI source while the real CLI runs.

``python3 send.py NAME R G B -- CLI ARGS...``: the source ``NAME`` sends 30 frames a second of
one colour until the CLI exits; the CLI's output goes to stdout and its exit status is ours.
"""

import subprocess
import sys
import threading
import time

import NDIlib as ndi
import numpy as np


def main() -> int:
    name, colour = sys.argv[1], [int(v) for v in sys.argv[2:5]]
    cli = sys.argv[sys.argv.index("--") + 1 :]
    assert ndi.initialize()
    settings = ndi.SendCreate()
    settings.ndi_name = name
    sender = ndi.send_create(settings)
    frame = np.zeros((120, 160, 4), np.uint8)
    frame[..., :3], frame[..., 3] = colour, 255
    stop = threading.Event()

    def send():
        while not stop.is_set():
            video = ndi.VideoFrameV2()
            video.data = frame
            video.FourCC = ndi.FOURCC_VIDEO_TYPE_RGBX
            ndi.send_send_video_v2(sender, video)
            time.sleep(1 / 30)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    done = subprocess.run([sys.executable, "-m", "installation", *cli])
    stop.set()
    thread.join()
    ndi.send_destroy(sender)
    ndi.destroy()
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
