"""Art-Net and sACN outputs: a real run sends the picture's region colours and a parameter to a
receiver on 127.0.0.1; the levels match the recorded frames, no universe exceeds 44 packets/s,
and bad map entries are file:line:field errors."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from installation.output.video import read_video
from plugins.dmx.packets import artdmx, e131, parse_artdmx, parse_e131

ROOT = Path(__file__).parent.parent


def plugin_args(tmp_path: Path) -> list[str]:
    if any(ep.name == "dmx" for ep in entry_points(group="installation.plugins")):
        return []
    shim = tmp_path / "plugins"
    shim.mkdir(exist_ok=True)
    (shim / "dmx_out.py").write_text("from plugins.dmx import register_outputs  # noqa: F401\n")
    return ["--plugins-dir", str(shim)]


class Receiver:
    """Every UDP datagram to 127.0.0.1:port, with its arrival time."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[tuple[float, bytes]] = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data, _ = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            self.packets.append((time.monotonic(), data))

    def close(self):
        time.sleep(0.3)
        self.stop = True
        self.thread.join()
        self.sock.close()


def dmx_show(small_show: Path, kind: str, port: int, maps: str, extra: str = "") -> Path:
    path = small_show.with_name(f"{kind}.toml")
    path.write_text(
        small_show.read_text()
        + textwrap.dedent(f"""
        [[outputs]]
        type = "{kind}"
        target = "127.0.0.1"
        port = {port}
        {extra}
    """)
        + textwrap.dedent(maps)
    )
    return path


MAPS = """
    [[outputs.map]]
    region = [0, 0, 0.5, 0.5]
    universe = {u0}
    channel = 1

    [[outputs.map]]
    region = [0.5, 0.25, 0.5, 0.75]
    universe = {u1}
    channel = 10

    [[outputs.map]]
    parameter = "/output/brightness"
    range = [0, 2]
    universe = {u0}
    channel = 100
"""


def region_means(frame: np.ndarray, x, y, w, h) -> np.ndarray:
    H, W = frame.shape[:2]
    return frame[round(y * H) : round((y + h) * H), round(x * W) : round((x + w) * W)].reshape(-1, 3).mean(0)


def run_and_receive(small_show, tmp_path, kind, u0, u1):
    rx = Receiver()
    show = dmx_show(small_show, kind, rx.port, MAPS.format(u0=u0, u1=u1))
    video = tmp_path / "run.mp4"
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "installation",
                "run",
                show,
                "--headless",
                "--record",
                video,
                "--duration",
                "20",
                *plugin_args(tmp_path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        rx.close()
    assert done.returncode == 0, done.stderr
    frames, _ = read_video(video)
    return rx.packets, frames, done.stdout


def check_levels(packets, frames, u0, u1):
    expected = np.array(
        [np.concatenate([region_means(f, 0, 0, 0.5, 0.5), region_means(f, 0.5, 0.25, 0.5, 0.75)]) for f in frames]
    )
    by_universe = {u0: [], u1: []}
    for at, (universe, _seq, data) in packets:
        assert universe in by_universe, universe
        by_universe[universe].append((at, data))
    assert len(by_universe[u0]) == len(by_universe[u1]) > 10
    matched = []
    for (_, a), (_, b) in zip(by_universe[u0], by_universe[u1]):
        got = np.array(list(a[0:3]) + list(b[9:12]), float)
        err = np.abs(expected - got).max(axis=1)
        # H.264 (crf 18) moves a region's mean by a level or two; another frame is far off
        assert err.min() <= 4, f"levels {got} match no recorded frame (closest {err.min():.1f})"
        # the show loops (the same pictures recur): take the first matching frame not before the last match
        later = [i for i in np.flatnonzero(err <= 4) if i >= (matched[-1] if matched else 0)]
        assert later, f"packet {len(matched)} matches only frames before frame {matched[-1]}: out of order"
        matched.append(int(later[0]))
        assert a[99] == 128, a[99]  # /output/brightness 1.0 of [0, 2]
        assert not any(a[3:99]) and not any(b[:9]), "channels outside the map are 0"
    assert matched[-1] > matched[0], "the levels followed the show"
    for universe, items in by_universe.items():
        times = [t for t, _ in items]
        peak = max(sum(1 for t in times[i:] if t - t0 < 1.0) for i, t0 in enumerate(times))
        assert peak <= 45, f"universe {universe}: {peak} packets in one second"  # 44 a second, one of slack for timing
    return len(by_universe[u0]), matched


@pytest.mark.gl
@pytest.mark.slow
def test_artnet_follows_the_picture(small_show, tmp_path):
    packets, frames, out = run_and_receive(small_show, tmp_path, "artnet", 0, 257)
    parsed = [(at, parse_artdmx(p)) for at, p in packets]
    assert all(p is not None for _, p in parsed), "every datagram is an ArtDmx packet"
    assert all(len(p) == 8 + 2 + 2 + 4 + 2 + 512 for _, p in packets)
    seqs = [p[1] for _, p in parsed]
    assert 0 not in seqs
    n, matched = check_levels(parsed, frames, 0, 257)
    print(f"Art-Net: {n} packets per universe for {len(frames)} frames ({out.strip()})")


@pytest.mark.gl
@pytest.mark.slow
def test_sacn_follows_the_picture(small_show, tmp_path):
    packets, frames, _ = run_and_receive(small_show, tmp_path, "sacn", 1, 2)
    parsed = [(at, parse_e131(p)) for at, p in packets]
    assert all(p is not None for _, p in parsed), "every datagram is an E1.31 data packet"
    assert all(len(p) == 638 for _, p in packets)
    assert len({p[22:38] for _, p in packets}) == 1, "one CID per run"
    check_levels(parsed, frames, 1, 2)


def test_packets_are_laid_out_as_the_specs_say():
    p = artdmx(0x1234 & 0x7FFF, 7, bytes([1, 2, 3]))
    assert p[:8] == b"Art-Net\x00" and p[8:10] == b"\x00\x50" and p[10:12] == b"\x00\x0e"
    assert p[12] == 7 and p[14] == 0x34 and p[15] == 0x12 and p[16:18] == b"\x00\x04" and p[18:] == b"\x01\x02\x03\x00"
    s = e131(5, 9, bytes(512), b"c" * 16, "me")
    assert len(s) == 638 and s[:2] == b"\x00\x10" and s[16:18] == bytes([0x72, 0x6E])  # 0x7000 | 622
    assert s[38:40] == bytes([0x72, 0x58]) and s[115:117] == bytes([0x72, 0x0B])  # 600, 523
    assert s[113:115] == b"\x00\x05" and s[111] == 9 and s[108] == 100
    with pytest.raises(ValueError):
        artdmx(0x8000, 1, bytes(2))
    with pytest.raises(ValueError):
        e131(0, 1, bytes(2), b"c" * 16, "me")


@pytest.mark.parametrize(
    "entry, field, words",
    [
        ("region = [0, 0, 1.5, 1]\nuniverse = 0\nchannel = 1", "outputs[0].map[1].region", "inside the frame"),
        ("region = [0, 0, 1, 1]\nuniverse = 0\nchannel = 511", "outputs[0].map[1].channel", "past 512"),
        ("region = [0, 0, 1, 1]\nuniverse = 0\nchannel = 2", "outputs[0].map[1].channel", "already sent"),
        ('parameter = "output/brightness"\nuniverse = 0\nchannel = 9', "outputs[0].map[1].parameter", "OSC address"),
        ("region = [0, 0, 1, 1]\nuniverse = 40000\nchannel = 50", "outputs[0].map[1].universe", "0 … 32767"),
        ("region = [0, 0, 1, 1]\nuniverse = 0\nchannel = 50\nchanel = 3", "outputs[0].map[1].chanel", "unknown key"),
    ],
)
def test_bad_map_entries_name_file_line_and_field(small_show, tmp_path, entry, field, words):
    maps = "\n[[outputs.map]]\nregion = [0, 0, 1, 1]\nuniverse = 0\nchannel = 1\n\n[[outputs.map]]\n" + entry + "\n"
    show = dmx_show(small_show, "artnet", 9, maps)
    lines = show.read_text().splitlines()
    bad_key = field.rsplit(".", 1)[1]
    line = max(i for i, text in enumerate(lines, 1) if text.startswith(bad_key + " "))
    from installation.output.setup import OutputSlot, build_outputs, select_outputs
    from installation.problems import ProblemError
    from installation.show.loader import load_show
    from plugins.dmx import register_outputs

    factories = {**register_outputs(), "headless": object}
    with pytest.raises(ProblemError) as err:
        build_outputs(select_outputs(load_show(show), headless=True), factories)
    text = str(err.value)
    assert f"{show.name}:{line}: {field}:" in text or f"{show}:{line}: {field}:" in text, text
    assert words in text, text
    assert isinstance(OutputSlot, type)


def test_bad_map_entry_through_the_cli(small_show, tmp_path):
    show = dmx_show(small_show, "artnet", 9, "\n[[outputs.map]]\nregion = [0, 0, 1, 1]\nuniverse = 0\nchannel = 0\n")
    line = len(show.read_text().splitlines())
    done = subprocess.run(
        [sys.executable, "-m", "installation", "run", show, "--headless", "--duration", "0.1", *plugin_args(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert f":{line}: outputs[0].map[0].channel: must be an integer 1 … 512, got 0" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
