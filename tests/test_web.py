"""The web page: its HTTP side against a real control layer, the thumbnail encoder, and the page in
a real headless browser (Debian's chromium through chromedriver) against a real runtime process."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from installation.control.standard import ShowLayout
from installation.control.system import Control
from installation.show.web_types import WebConfig
from installation.web import Thumbnailer, WebServer, resolve_token
from installation.web.thumbnail import encode_jpeg

ROOT = Path(__file__).resolve().parents[1]


def request(url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def control():
    return Control(ShowLayout(scenes=["dawn", "dusk"], cues=["dawn", "dusk"], layers=2))


def test_control_requests_are_checked_then_enqueued_and_applied_by_update(control):
    server = WebServer(control, lambda: {"show": "unit"}, lambda: None, port=0).start()
    try:
        base = server.url
        code, body = request(base + "control", {"address": "/walk/speed", "value": 2.5})
        assert code == 202, body
        assert control.registry.get("/walk/speed") == 1.0  # enqueued only: nothing changes before update
        control.frame(0.0)
        assert control.registry.get("/walk/speed") == 2.5
        status = json.loads(request(base + "status")[1])
        assert status["show"] == "unit" and status["params"]["/walk/speed"] == 2.5
        assert set(status["params"]) == {a for a in control.registry if control.registry.param(a).type != "trigger"}
        assert request(base + "control", {"address": "/walk/speed", "value": 99})[0] == 400   # out of range
        assert request(base + "control", {"address": "/nothing", "value": 1})[0] == 400
        assert request(base + "control", {"address": "/status/scene", "value": "dusk"})[0] == 400  # state
        assert request(base + "control", {"address": "/cue/go"})[0] == 202
        control.frame(0.0)
        assert request(base + "thumbnail.jpg")[0] == 503  # no frame yet
        rows = json.loads(request(base + "parameters")[1])["parameters"]
        speed = next(r for r in rows if r["address"] == "/walk/speed")
        assert speed["range"] == [0.0, 8.0] and speed["writable"] is True
        page = request(base)[1].decode()
        assert "<title>" in page and "app.js" in page
    finally:
        server.close()


def test_off_loopback_every_request_needs_the_token(control):
    assert resolve_token(WebConfig(), "127.0.0.1") is None
    assert resolve_token(WebConfig(token="s3cret-token"), "0.0.0.0") == "s3cret-token"
    assert len(resolve_token(WebConfig(), "0.0.0.0")) >= 16  # a fresh random one
    server = WebServer(control, lambda: {}, lambda: None, port=0, token="s3cret-token").start()
    try:
        base = server.url
        assert request(base + "status")[0] == 401
        assert request(base)[0] == 401 and request(base + "thumbnail.jpg")[0] == 401
        assert request(base + "app.js")[0] == 200  # the page's script holds nothing of the show
        assert request(base + "status?token=wrong-token")[0] == 401
        assert request(base + "control", {"address": "/walk/speed", "value": 2.0})[0] == 401
        assert len(control.events) == 0
        assert request(base + "status?token=s3cret-token")[0] == 200
        assert request(base + "status", headers={"X-Token": "s3cret-token"})[0] == 200
        assert b"app.js" in request(base + "?token=s3cret-token")[1]
        assert request(base + "control", {"address": "/walk/speed", "value": 2.0},
                       {"Authorization": "Bearer s3cret-token"})[0] == 202
    finally:
        server.close()


def test_a_taken_port_is_one_clear_error(control):
    import socket

    from installation.problems import Unavailable

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(Unavailable, match=f"cannot serve the web page on 127.0.0.1:{port}"):
            WebServer(control, lambda: {}, lambda: None, port=port)


class _Frame:
    def __init__(self, rgb, index):
        self._rgb, self.index, self.calls = rgb, index, 0

    def rgb(self):
        self.calls += 1
        return self._rgb


def _decode(jpeg: bytes) -> np.ndarray:
    import av

    with av.open(io.BytesIO(jpeg), format="mjpeg") as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24")


def test_thumbnail_is_a_jpeg_of_the_latest_frame_at_a_low_rate():
    rgb = np.zeros((180, 320, 3), np.uint8)
    rgb[..., 0], rgb[..., 2] = 200, 40
    thumbs = Thumbnailer(fps=1000.0, width=160).start()
    try:
        frame = _Frame(rgb, 7)
        thumbs.offer(frame)
        t0 = time.monotonic()
        while thumbs.jpeg is None and time.monotonic() - t0 < 5:
            time.sleep(0.01)
        assert thumbs.jpeg[:2] == b"\xff\xd8" and thumbs.frame_index == 7
        back = _decode(thumbs.jpeg)
        assert back.shape == (90, 160, 3)
        assert np.abs(back.reshape(-1, 3).mean(0) - [200, 0, 40]).max() < 6
    finally:
        thumbs.close()
    slow = Thumbnailer(fps=1.0)
    first, second = _Frame(rgb, 0), _Frame(rgb, 1)
    slow.offer(first)
    slow.offer(second)  # within the second: not even read back
    assert first.calls == 1 and second.calls == 0
    assert encode_jpeg(np.zeros((7, 9, 3), np.uint8), 320)[:2] == b"\xff\xd8"  # odd sizes are fine


# -- the page in a real browser ------------------------------------------------------------------

SHOW = """
[show]
name = "web show"
[output]
width = 320
height = 180
fps = 15
[control.osc]
enabled = false
[control.params."/walk/speed"]
range = [0, 4]
[[cues]]
scene = "dawn"
continue = "manual"
[[cues]]
scene = "dusk"
continue = "manual"
[[scenes]]
name = "dawn"
duration = 120
[scenes.generator]
plugin = "noisefield"
size = 64
[[scenes]]
name = "dusk"
duration = 120
transition = 0.5
[scenes.generator]
plugin = "noisefield"
size = 64
"""


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the test extra: pip install 'installation[test]')"
    for name in ("chromium", "chromedriver"):
        if shutil.which(name) is None:
            return f"{name} is not installed (apt-get install chromium chromium-driver; scripts/setup.sh does)"
    return None


def _start_runtime(show: Path):
    proc = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless",
                             "--duration", "90", "--web-port", "0"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    found = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if "web page at" in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(60):
        proc.kill()
        raise AssertionError("the runtime printed no web page address:\n" + "".join(lines))
    url = re.search(r"web page at (http://\S+)", "".join(lines)).group(1)
    return proc, url, lines


def _wait(fn, timeout=20.0, what="condition"):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.gl
@pytest.mark.slow
def test_page_in_a_phone_sized_headless_browser_steers_the_show(tmp_path):
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    show = tmp_path / "show.toml"
    show.write_text(SHOW)
    proc, url, lines = _start_runtime(show)
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2}})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        driver.get(url)
        _wait(lambda: driver.find_element(By.ID, "scene").text == "dawn", what="the scene name on the page")
        assert driver.find_element(By.ID, "show").text == "web show"
        assert "dusk" in driver.find_element(By.ID, "cues-now").text  # standing by
        assert driver.execute_script("return window.innerWidth") == 390
        # a live thumbnail: a decoded JPEG of the show's frames
        _wait(lambda: driver.execute_script("return document.getElementById('thumb').naturalWidth") > 0,
              what="the thumbnail")
        # move the /walk/speed slider to its end: the change arrives as a control event
        slider = _wait(lambda: driver.find_elements(By.CSS_SELECTOR, '[data-address="/walk/speed"] input[type=range]'),
                       what="the /walk/speed slider")[0]
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
        slider.send_keys(Keys.END)
        status = lambda: json.loads(urllib.request.urlopen(url + "status", timeout=5).read())  # noqa: E731
        _wait(lambda: status()["params"]["/walk/speed"] == 4.0, what="/walk/speed = 4 in /status")
        # GO fires the standing-by cue: the page shows the next scene
        driver.execute_script("window.scrollTo(0, 0)")
        driver.find_element(By.ID, "go").click()
        _wait(lambda: driver.find_element(By.ID, "scene").text == "dusk", what="GO to reach dusk")
        assert status()["scene"] == "dusk"
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone: {width} px wide"
        shot = tmp_path / "phone.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        driver.execute_script("document.getElementById('controls').scrollIntoView()")
        driver.save_screenshot(str(tmp_path / "phone-controls.png"))
        if os.environ.get("WEB_SCREENSHOT"):  # to look at: WEB_SCREENSHOT=/tmp/phone.png
            shutil.copy(shot, os.environ["WEB_SCREENSHOT"])
            shutil.copy(tmp_path / "phone-controls.png", os.environ["WEB_SCREENSHOT"].replace(".png", "-controls.png"))
    finally:
        driver.quit()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0, "".join(lines)


@pytest.mark.gl
@pytest.mark.slow
def test_an_offline_render_serves_no_page_and_no_oscquery(tmp_path):
    show = tmp_path / "show.toml"
    show.write_text(SHOW.replace("[control.osc]\nenabled = false", "[control.osc]\nhost = \"127.0.0.1\"\nport = 0")
                    .replace("[control.params", "[web]\nport = 0\n[control.params"))
    res = subprocess.run([sys.executable, "-m", "installation", "run", str(show), "--headless", "--duration", "0.4",
                          "--record", str(tmp_path / "out.mp4"), "-v"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "recorded" in res.stdout
    assert "web page at" not in res.stderr and "OSCQuery" not in res.stderr
    # the same show live: both start (the log says where)
    res = subprocess.run([sys.executable, "-m", "installation", "run", str(show), "--headless", "--duration", "0.4",
                          "-v"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "web page at http://127.0.0.1:" in res.stderr and "OSCQuery tree at http://127.0.0.1:" in res.stderr
