"""Under ``[sync] link = true`` the beat comes from the Link session: a GO on a cue ``at_beat = 4``
lands on the next bar of show time (at 120 BPM, a multiple of 2 s), on a real runtime in a
network namespace of its own, with the GO sent as a real OSC packet to its loopback."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from installation.sync.lab import unavailable

SHOW = """
[show]
name = "link beat"
[output]
width = 64
height = 36
fps = 30
[sync]
link = true
tempo = 120
join_wait = 0.5
cue_lead = 0.1
[control.osc]
port = 9000
[web]
oscquery = false
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
"""


@pytest.mark.gl
@pytest.mark.slow
def test_a_go_on_an_at_beat_cue_lands_on_the_link_bar(tmp_path):
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("aalink", reason="aalink is not installed (pip install 'installation[link]')")
    (tmp_path / "show.toml").write_text(SHOW)
    script = f"""
ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo
cd {tmp_path}
{sys.executable} -m installation run show.toml --headless --no-isolation --duration 6 --log-file log.jl --log-frames 2>err.txt &
P=$!
i=0; while [ ! -s log.jl ] || ! grep -q '"event": "frame"' log.jl; do sleep 0.2; i=$((i+1)); [ $i -gt 600 ] && break; done
sleep 1.3
{sys.executable} -m installation osc send /cue/go
wait $P
"""
    r = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr + (tmp_path / "err.txt").read_text()[-2000:]
    records = [json.loads(line) for line in (tmp_path / "log.jl").read_text().splitlines()]
    frames = [x for x in records if x.get("event") == "frame"]
    (cue,) = [x["at"] for x in records if x.get("event") == "sync_cue"]
    switch = [b["show_time_s"] for a, b in zip(frames, frames[1:]) if a["scene"] != b["scene"]]
    assert len(switch) == 1, switch
    bar = 2.0 * (cue // 2.0 + 1)  # the next bar after the GO's show time: 4 beats at 120 BPM
    assert bar - 1e-6 <= switch[0] < bar + 1 / 30 + 1e-3, (cue, switch)
