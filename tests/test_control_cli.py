"""``installation osc``: map, send, query, learn; and a fuzz of the datagram path."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st
from pythonosc.osc_message import OscMessage
from typer.testing import CliRunner

from installation.cli import build_app
from installation.control.events import EventQueue
from installation.control.osc_out import build_message
from installation.control.osc_server import OscServer
from installation.control.system import Control
from installation.show.loader import load_show

SHOW = """
[show]
name = "cli show"
[control.osc]
host = "127.0.0.1"
port = {port}
[control.params."/walk/speed"]
range = [0, 2]
[[bindings]]
input = "/1/fader1"
param = "/walk/speed"
curve = "exp"
smoothing = "onepole"
time = 0.2
[[scenes]]
name = "dawn"
[scenes.generator]
plugin = "noisefield"
[[scenes]]
name = "dusk"
[scenes.generator]
plugin = "noisefield"
[[scenes.post]]
stage = "levels"
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_show(tmp_path, port=9000):
    path = tmp_path / "show.toml"
    path.write_text(SHOW.format(port=port))
    return path


def test_osc_map_prints_the_tree(tmp_path):
    path = write_show(tmp_path)
    res = CliRunner().invoke(build_app(), ["osc", "map", str(path)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "/walk/speed  float (f) [0, 2] = 1.0" in out
    assert "/scene  str (s) {dawn, dusk}" in out
    assert "/post/levels/mix  float (f) [0, 1]" in out
    assert "/1/fader1[0] [0, 1] -> /walk/speed exp smoothing onepole 0.2s" in out
    res = CliRunner().invoke(build_app(), ["osc", "map", str(path), "--json", "--prefix", "/layer"])
    rows = json.loads(res.output)
    assert [r["address"] for r in rows] == ["/layer/1/opacity", "/layer/2/opacity"]


def test_osc_map_bad_control_table_names_file_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SHOW.format(port=9000).replace('curve = "exp"', 'curve = "cubic"'))
    res = CliRunner().invoke(build_app(), ["osc", "map", str(path)])
    assert res.exit_code == 1
    assert "bad.toml:12" in res.output and "bindings[0].curve" in res.output


def test_osc_send(tmp_path):
    q = EventQueue()
    with OscServer(q, port=0) as srv:
        res = CliRunner().invoke(build_app(), ["osc", "send", "/walk/speed", "1.5", "--port", str(srv.address[1])])
        assert res.exit_code == 0
        res = CliRunner().invoke(build_app(), ["osc", "send", "/scene", "dusk", "3", "--port", str(srv.address[1])])
        deadline = time.monotonic() + 5
        while len(q) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        evs = q.drain()
    assert [(e.address, e.args) for e in evs] == [("/walk/speed", (1.5,)), ("/scene", ("dusk", 3))]


def run_control_loop(control, stop):
    while not stop.is_set():
        control.events.wait(0.02)
        control.frame(0.02)


def test_osc_query_against_a_running_control(tmp_path):
    show = load_show(write_show(tmp_path, port=0))
    control = Control.from_show(show)
    control.start_inputs()
    stop = threading.Event()
    th = threading.Thread(target=run_control_loop, args=(control, stop), daemon=True)
    th.start()
    try:
        port = control.inputs["osc"].address[1]
        res = CliRunner().invoke(build_app(), ["osc", "query", "/walk", "--port", str(port)])
    finally:
        stop.set()
        th.join()
        control.stop()
    assert res.exit_code == 0, res.output
    assert "/walk/speed  float [0, 2] = 1.0" in res.output
    assert len(res.output.strip().splitlines()) == 3


def test_osc_learn_prints_a_binding(tmp_path):
    port = free_port()
    path = write_show(tmp_path, port=port)
    result = {}

    def invoke():
        result["res"] = CliRunner().invoke(build_app(), ["osc", "learn", str(path), "/output/brightness", "--timeout", "10"])

    th = threading.Thread(target=invoke)
    th.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        while th.is_alive():
            s.sendto(build_message("/2/rotary3", [0.5]), ("127.0.0.1", port))
            th.join(0.05)
    res = result["res"]
    assert res.exit_code == 0, res.output
    assert '[[bindings]]\ninput = "/2/rotary3"\nparam = "/output/brightness"' in res.output


def test_query_reply_round_trips_through_osc(tmp_path):
    show = load_show(write_show(tmp_path, port=0))
    control = Control.from_show(show)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2)
    from installation.control.events import ControlEvent

    control.events.put(ControlEvent("/query", ("/scene",), f"127.0.0.1:{rx.getsockname()[1]}"))
    control.frame(0.0)
    msgs = []
    while not msgs or msgs[-1].address != "/query/end":
        msgs.append(OscMessage(rx.recv(65535)))
    rx.close()
    control.stop()
    rows = {m.params[0]: m.params for m in msgs[:-1]}
    # /scene and /scene/index are requests: they hold no value (the scene playing is /status/scene)
    assert rows["/scene"][5] == "dawn|dusk" and json.loads(rows["/scene/index"][7]) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_any_datagram_is_counted_never_raised(data):
    q = EventQueue()
    srv = OscServer(q, port=0)
    n = srv.handle_datagram(data, ("127.0.0.1", 1), 0.0)
    snap = srv.counters.snapshot()
    assert snap["datagrams"] == 1
    assert n == len(q) == snap.get("accepted", 0)
    assert snap.get("malformed", 0) + snap.get("accepted", 0) + snap.get("rate_limited", 0) >= 1


def test_example_live_show_loads_and_binds():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "shows" / "live_control.toml"
    show = load_show(path)
    control = Control.from_show(show)  # every binding resolves to a parameter of this show
    assert len(control.router.inputs) == 6 and len(control.router.groups["/walk/speed"].bindings) == 2
    control.stop()
    res = CliRunner().invoke(build_app(), ["osc", "map", str(path)])
    assert res.exit_code == 0 and "/serial/dist[0] [3, 0.5] -> /layer/2/opacity" in res.output


def test_show_validate_reports_bindings_to_missing_parameters(tmp_path):
    path = tmp_path / "show.toml"
    path.write_text(SHOW.format(port=9000).replace('param = "/walk/speed"', 'param = "/walk/sped"')
                    + '\n[control.combine]\n"/layer/9/opacity" = "sum"\n')
    res = CliRunner().invoke(build_app(), ["show", "validate", "--schema-only", str(path)])
    assert res.exit_code == 1
    assert "show.toml:11: bindings[0].param: no parameter '/walk/sped' (did you mean '/walk/speed'?)" in res.output
    assert "control.combine./layer/9/opacity: no parameter" in res.output
    ok = tmp_path / "ok.toml"
    ok.write_text(SHOW.format(port=9000))
    res = CliRunner().invoke(build_app(), ["show", "validate", "--schema-only", str(ok)])
    assert res.exit_code == 0, res.output


def test_run_refuses_a_binding_to_a_missing_parameter(tmp_path):
    path = tmp_path / "show.toml"
    path.write_text(SHOW.format(port=0).replace('param = "/walk/speed"', 'param = "/walk/sped"'))
    res = CliRunner().invoke(build_app(), ["run", str(path), "--headless", "--record", str(tmp_path / "o.mp4"),
                                           "--duration", "0.1"])
    assert res.exit_code == 1 and "bindings[0].param: no parameter '/walk/sped'" in res.output
