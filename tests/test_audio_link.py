"""A Link session as the show's beat: two real Link peers, found over multicast, agree.

Both peers run inside a network namespace of their own (``unshare -n``, loopback with multicast
routed onto it), so nothing leaves this test: peer A is plain aalink, as another program (a DJ
deck, Ableton) would be, and sets the session's tempo; peer B is the show's
:class:`~installation.audio.link_beats.LinkBeats`.  B's beats at show time must be A's at the same
host time, a cue ``at_beat = 4`` fired by GO must land on one of A's bars, and B's tempo must be
the one A set.  The namespace ends with its processes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

PEER_A = """
import asyncio, json, sys, time
import aalink

async def main():
    link = aalink.Link(100.0)
    link.quantum = 4
    link.enabled = True
    t0 = time.monotonic()
    while link.num_peers < 1 and time.monotonic() - t0 < 20:
        await asyncio.sleep(0.01)
    link.tempo = 133.0
    samples, peers = [], link.num_peers
    for _ in range(800):  # 8 s: peer B samples, lands a bar and a cue meanwhile
        samples.append((link.time.total_seconds(), link.beat))
        peers = max(peers, link.num_peers)
        await asyncio.sleep(0.01)
    json.dump({"peers": peers, "samples": samples}, open(sys.argv[1], "w"))
    link.enabled = False

asyncio.run(main())
"""

PEER_B = """
import json, sys, time
from installation.audio.beats import next_beat_time
from installation.audio.link_beats import LinkBeats, beat_source_for, close_session, open_session
import tomllib
from installation.show.schema import Show
from installation.show.timeline import Timeline

session = open_session(120.0, quantum=4)
origin = time.monotonic()
now = lambda: time.monotonic() - origin  # the show clock: show time 0 when the show started
src = beat_source_for(None, session, now)
assert isinstance(src, LinkBeats)
deadline = time.monotonic() + 20
while (src.peers < 1 or abs(src.tempo_at(now()) - 133.0) > 0.01) and time.monotonic() < deadline:
    time.sleep(0.01)
out = {"peers": src.peers, "tempo": src.tempo_at(now()), "samples": []}
for _ in range(20):  # (Link host time, B's beat at this show time)
    t = now()
    out["samples"].append((session.time.total_seconds(), src.beat_at(t)))
    time.sleep(0.01)
t = now()
land = next_beat_time(src, t, 4)  # the next bar
out["bar"] = session.time.total_seconds() + (land - now())
# (the schema alone: `show validate` asks for [sync] link = true, which the runner's side adds)
show = Show.model_validate(tomllib.loads('''
[[scenes]]
name = "a"
[scenes.generator]
plugin = "noisefield"
[[scenes]]
name = "b"
[scenes.generator]
plugin = "noisefield"
[[cues]]
scene = "a"
continue = "manual"
[[cues]]
scene = "b"
at_beat = 4
'''))
tl = Timeline(show, beats=src)
tl.go(now())
while tl.current(now()).cue == 0 and time.monotonic() < deadline:
    tl.now = now()
    time.sleep(0.002)
seg = tl.current(now())
out["cue"] = seg.cue
out["cue_at"] = session.time.total_seconds() + (seg.start - now())
close_session(session)
json.dump(out, open(sys.argv[1], "w"))
"""


def unshare_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    return r.returncode == 0


@pytest.mark.slow
def test_two_link_peers_share_beat_tempo_and_bars(tmp_path):
    pytest.importorskip("aalink", reason="the link extra (aalink) is not installed")
    if not unshare_works():
        pytest.skip("unshare -n is not permitted here (needs root or user namespaces): Link needs its own network")
    (tmp_path / "a.py").write_text(PEER_A)
    (tmp_path / "b.py").write_text(PEER_B)
    net = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"
    script = f'{net} && {{ "$PY" a.py a.json & "$PY" b.py b.json; rb=$?; wait; exit $rb; }}'
    env = dict(os.environ, PY=sys.executable, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run(
        ["unshare", "-n", "sh", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["peers"] >= 1 and b["peers"] >= 1
    assert b["tempo"] == pytest.approx(133.0, abs=0.01)  # the tempo peer A set is the show's
    host, beat = np.array(a["samples"]).T
    for when, b_beat in b["samples"]:  # the same beat at the same moment (1 ms ≈ 0.002 beats)
        assert host[0] <= when <= host[-1]
        assert abs(np.interp(when, host, beat) - b_beat) < 0.02
    for key in ("bar", "cue_at"):  # both land on one of A's bars (quantum 4)
        on_a = np.interp(b[key], host, beat)
        assert abs(on_a - 4 * round(on_a / 4)) < 0.02, (key, on_a)
    assert b["cue"] == 1


def test_without_aalink_link_is_one_clear_line(monkeypatch):
    from installation.audio.link_beats import beat_source_for, open_session
    from installation.problems import Unavailable

    monkeypatch.setitem(sys.modules, "aalink", None)  # import aalink now raises ImportError
    with pytest.raises(Unavailable) as err:
        open_session()
    assert str(err.value) == (
        "[sync] link = true needs the Python package 'aalink' (Ableton Link), which is not installed: "
        "pip install 'installation[link]'"
    )
    grid = object()
    assert beat_source_for(grid) is grid  # no session: the show's own beat
