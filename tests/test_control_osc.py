"""OSC in and out over real UDP on 127.0.0.1: routing, bursts, garbage, allowlist, queries, state out."""
from __future__ import annotations

import json
import os
import random
import socket
import time

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.control.config import BindingSpec
from installation.control.events import EventQueue
from installation.control.osc_out import OscOut, build_message
from installation.control.osc_server import OscServer, RateLimiter
from installation.control.router import ControlRouter
from installation.control.standard import ShowLayout, build_registry


def wait_for(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


@pytest.fixture
def client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2.0)
    yield s
    s.close()


@pytest.fixture
def server():
    q = EventQueue()
    srv = OscServer(q, host="127.0.0.1", port=0).start()
    yield srv
    srv.stop()


def test_messages_become_events_and_drive_bindings(server, client):
    reg = build_registry(ShowLayout(scenes=["a", "b"], layers=2))
    router = ControlRouter(reg, [BindingSpec(input="/1/fader1", param="/walk/speed", out_range=(0, 4))],
                           counters=server.counters)
    client.sendto(build_message("/1/fader1", [0.25]), server.address)
    client.sendto(build_message("/layer/2/opacity", [0.5]), server.address)
    client.sendto(build_message("/scene", ["b"]), server.address)
    client.sendto(build_message("/cue/go"), server.address)
    assert wait_for(lambda: server.counters["accepted"] == 4)
    events = server.events.drain()
    assert [e.address for e in events] == ["/1/fader1", "/layer/2/opacity", "/scene", "/cue/go"]
    assert events[0].source == "127.0.0.1:%d" % client.getsockname()[1]
    assert events[0].args == (0.25,) and events[0].arrival <= time.monotonic()
    router.update(events, dt=1 / 60)
    assert reg["/walk/speed"] == pytest.approx(1.0)
    assert reg["/layer/2/opacity"] == 0.5 and reg["/scene"] == "b"
    assert reg.pop_triggers() == {"/cue/go": 1}


def test_bundles_are_flattened(server, client):
    b = OscBundleBuilder(IMMEDIATELY)
    for i in range(5):
        m = OscMessageBuilder("/walk/speed")
        m.add_arg(float(i))
        b.add_content(m.build())
    client.sendto(b.build().dgram, server.address)
    assert wait_for(lambda: server.counters["accepted"] == 5)
    assert [e.value for e in server.events.drain()] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_burst_of_10000_loses_nothing_accepted(server, client):
    n = 10_000
    packets = [build_message("/burst", [i]) for i in range(n)]
    for p in packets:
        client.sendto(p, server.address)
    c = server.counters
    assert wait_for(lambda: c["datagrams"] + c["kernel_dropped"] >= n, timeout=20)
    time.sleep(0.05)
    client.sendto(build_message("/sentinel"), server.address)  # carries the kernel's final drop count
    assert wait_for(lambda: c["datagrams"] + c["kernel_dropped"] >= n + 1)
    events = server.events.drain()
    seqs = [e.value for e in events if e.address == "/burst"]
    snap = c.snapshot()
    # every datagram is accounted for: queued, rate-limited, or counted as dropped by the kernel
    assert snap["datagrams"] + snap.get("kernel_dropped", 0) == n + 1
    assert snap["accepted"] == len(events) and snap.get("rate_limited", 0) == 0
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    buf = server._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if buf >= 4 * 1024 * 1024:  # the kernel granted the buffer: the whole burst fits, nothing is lost
        assert seqs == list(range(n))


def test_burst_over_the_rate_limit_is_queued_or_counted(client):
    n = 10_000
    q = EventQueue()
    with OscServer(q, port=0, rate_limit=50.0, burst=4000) as srv:
        for i in range(n):
            client.sendto(build_message("/burst", [i]), srv.address)
        c = srv.counters
        assert wait_for(lambda: c["datagrams"] + c["kernel_dropped"] >= n, timeout=20)
        time.sleep(0.05)
        client.sendto(build_message("/sentinel"), srv.address)
        assert wait_for(lambda: c["datagrams"] + c["kernel_dropped"] >= n + 1)
        snap = c.snapshot()
        queued = q.drain()
        assert snap["accepted"] + snap["rate_limited"] == snap["messages"] == snap["datagrams"]
        assert snap["datagrams"] + snap.get("kernel_dropped", 0) == n + 1
        assert len(queued) == snap["accepted"] and 4000 <= snap["accepted"] < 4000 + 50 * 20
        seqs = [e.value for e in queued if e.address == "/burst"]
        assert seqs == sorted(seqs)
        if srv._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 4 * 1024 * 1024:
            assert snap["accepted"] + snap["rate_limited"] == n + 1  # nothing lost anywhere
            assert seqs[:4000] == list(range(4000))  # the bucket's burst passes whole, in order


def test_rate_limiter_refills():
    rl = RateLimiter(rate=10, burst=2)
    assert rl.allow("a", 0.0) and rl.allow("a", 0.0) and not rl.allow("a", 0.0)
    assert rl.allow("b", 0.0)  # per source
    assert rl.allow("a", 0.1) and not rl.allow("a", 0.1)


def test_garbage_does_not_crash_the_server(server, client):
    rng = random.Random(7)
    good = build_message("/walk/speed", [1.0])
    garbage = [b"", b"\x00", b"hello", b"#bundle\x00", b"#bundle\x00" + b"\xff" * 12, b"/a\x00\x00,f\x00\x00\x01",
               b"/a\x00\x00,zzz\x00\x00\x00\x00", good[:-3], b"/" * 3000, os.urandom(65000)]
    garbage += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(300)]
    garbage += [good[:k] + bytes([rng.randrange(256)]) + good[k + 1:] for k in range(len(good))]
    for g in garbage:
        client.sendto(g, server.address)
    client.sendto(good, server.address)
    assert wait_for(lambda: server.counters["datagrams"] == len(garbage) + 1)
    assert server._thread.is_alive()
    snap = server.counters.snapshot()
    assert snap["malformed"] > 300
    assert snap["malformed"] + snap["accepted"] == snap["datagrams"]
    # mutated-but-parseable packets are queued; the router counts their bad types or addresses
    reg = build_registry(ShowLayout())
    router = ControlRouter(reg, counters=server.counters)
    router.update(server.events.drain(), dt=0.0)
    assert reg["/walk/speed"] == 1.0
    assert server.counters["errors"] == 0


def test_allowlist_refuses_other_sources(client):
    q = EventQueue()
    with OscServer(q, port=0, allowlist=["10.0.0.0/8"]) as srv:
        client.sendto(build_message("/walk/speed", [2.0]), srv.address)
        assert wait_for(lambda: srv.counters["not_allowed"] == 1)
        assert len(q) == 0
    with OscServer(q, port=0, allowlist=["127.0.0.0/8"]) as srv:
        client.sendto(build_message("/walk/speed", [2.0]), srv.address)
        assert wait_for(lambda: srv.counters["accepted"] == 1)


def _receive(sock, until):
    out = []
    while True:
        msg = OscMessage(sock.recv(65535))
        out.append(msg)
        if msg.address == until:
            return out


def test_query_answers_with_the_address_tree(server, client):
    reg = build_registry(ShowLayout(scenes=["a"], layers=2, post_stages=["deblur"]))
    out = OscOut(counters=server.counters)
    router = ControlRouter(reg, counters=server.counters, responder=out)
    client.sendto(build_message("/query", ["/layer"]), server.address)
    assert wait_for(lambda: len(server.events) == 1)
    router.update(server.events.drain(), dt=0.0)
    replies = _receive(client, "/query/end")
    rows = [m.params for m in replies if m.address == "/query/param"]
    assert [r[0] for r in rows] == ["/layer/1/opacity", "/layer/2/opacity"]
    assert rows[0][1:5] == ["float", "f", 0.0, 1.0] and json.loads(rows[0][7]) == 1.0
    assert replies[-1].params == [2]
    # the whole tree, replied to another port
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    other.settimeout(2.0)
    client.sendto(build_message("/query", ["/", other.getsockname()[1]]), server.address)
    assert wait_for(lambda: len(server.events) == 1)
    router.update(server.events.drain(), dt=0.0)
    rows = [m.params for m in _receive(other, "/query/end") if m.address == "/query/param"]
    other.close()
    assert [r[0] for r in rows] == [d["address"] for d in reg.describe()]
    out.close()


def test_state_is_sent_on_change_and_at_heartbeat(client):
    now = [0.0]
    out = OscOut([client.getsockname()], heartbeat=1.0, clock=lambda: now[0])
    state = {"scene": "dawn", "cue": "intro", "fps": 60.0, "health": "ok"}
    out.publish(state, changes={"/walk/speed": 2.0})
    first = {m.address: m.params for m in (OscMessage(client.recv(1024)) for _ in range(6))}
    assert first == {"/status/scene": ["dawn"], "/status/cue": ["intro"], "/status/fps": [60.0],
                     "/status/health": ["ok"], "/walk/speed": [2.0], "/status/heartbeat": [1]}
    now[0] = 0.5
    out.publish(dict(state, fps=59.7, cue="storm"))  # fps jitter below 1 is not news
    assert OscMessage(client.recv(1024)).address == "/status/cue"
    client.settimeout(0.1)
    with pytest.raises(socket.timeout):
        client.recv(1024)
    now[0] = 1.0
    out.publish(dict(state, fps=59.7, cue="storm"))
    beat = {OscMessage(client.recv(1024)).address for _ in range(5)}
    assert beat == {"/status/scene", "/status/cue", "/status/fps", "/status/health", "/status/heartbeat"}
    out.close()


def test_unreachable_target_never_raises():
    out = OscOut(["127.0.0.1:9"], heartbeat=0.01)
    for _ in range(100):
        out.publish({"scene": "x"})
    out.close()


def test_osc_listens_only_when_the_show_declares_it_and_never_offline():
    from installation.control.system import Control
    from installation.show.loader import parse_show

    base = '[[scenes]]\nname = "a"\n[scenes.generator]\nplugin = "noisefield"\n'
    assert "osc" not in Control.from_show(parse_show(base)).wanted_inputs()
    declared = Control.from_show(parse_show(base + "[control.osc]\nport = 0\n"))
    assert "osc" in declared.wanted_inputs() and declared.wanted_inputs(offline=True) == {}
    off = Control.from_show(parse_show(base + "[control.osc]\nenabled = false\n"))
    assert "osc" not in off.wanted_inputs()


def test_a_render_of_an_osc_show_opens_no_port_a_live_run_does(tmp_path):
    """Real processes: the test holds the show's OSC port.  A live run tries to bind it (and says
    it could not); the offline render of the same show never tries."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    held.bind(("127.0.0.1", 0))
    port = held.getsockname()[1]
    show = tmp_path / "show.toml"
    show.write_text('[output]\nwidth = 32\nheight = 32\nfps = 8\n[[scenes]]\nname = "a"\n[scenes.generator]\n'
                    f'plugin = "noisefield"\nsize = 16\n[control.osc]\nhost = "127.0.0.1"\nport = {port}\n')
    env = dict(os.environ, PYTHONPATH=str(root))
    base = [sys.executable, "-m", "installation"]
    try:
        render = subprocess.run(base + ["render", str(show), str(tmp_path / "o.mp4"), "--duration", "0.5", "-v"],
                                cwd=root, env=env, capture_output=True, text=True, timeout=300)
        live = subprocess.run(base + ["run", str(show), "--headless", "--duration", "0.5", "-v"],
                              cwd=root, env=env, capture_output=True, text=True, timeout=300)
    finally:
        held.close()
    assert render.returncode == 0 and "cannot listen for OSC" not in render.stderr, render.stderr
    assert live.returncode == 0 and f"cannot listen for OSC on 127.0.0.1:{port}" in live.stderr, live.stderr


def test_a_running_show_shrugs_off_a_lying_bundle_and_reports_it_in_status(tmp_path):
    """Operator view: a live headless run with OSC and the status endpoint.  One bundle whose
    element size is negative (python-osc alone loops on it forever) is counted as malformed, the
    next valid message is accepted, /status shows the counts and the age of the last packet."""
    import json
    import os
    import signal
    import socket
    import struct
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        osc_port = s.getsockname()[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        http_port = s.getsockname()[1]
    show = tmp_path / "show.toml"
    show.write_text('[output]\nwidth = 32\nheight = 32\nfps = 10\n[[scenes]]\nname = "a"\n[scenes.generator]\n'
                    f'plugin = "noisefield"\nsize = 16\n[control.osc]\nhost = "127.0.0.1"\nport = {osc_port}\n')
    env = dict(os.environ, PYTHONPATH=str(root), INSTALLATION_STATE_DIR=str(tmp_path / "state"))
    proc = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--duration", "120",
                             "--health-port", str(http_port)], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def status():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/status", timeout=2) as resp:
                return json.loads(resp.read())
        except OSError:
            return None

    def wait(pred, timeout=60.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            snap = status()
            if snap and pred(snap):
                return snap
            time.sleep(0.2)
        raise AssertionError(f"timed out; last status {status()}")

    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        wait(lambda s: s["control"]["inputs"].get("osc") == "ok")
        fader = b"/output/brightness\x00\x00,f\x00\x00" + struct.pack(">f", 0.5)
        lying = b"#bundle\x00" + b"\x00" * 7 + b"\x01" + struct.pack(">i", -4) + fader
        tx.sendto(lying, ("127.0.0.1", osc_port))
        tx.sendto(fader, ("127.0.0.1", osc_port))
        snap = wait(lambda s: s["control"]["accepted"] >= 1)
        assert snap["control"]["received"] == 2 and snap["control"]["malformed"] == 1
        assert snap["control"]["dropped"] == 1 and snap["control"]["last_packet_age_s"] < 30
        assert snap["control"]["inputs"]["osc"] == "ok"
    finally:
        tx.close()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
