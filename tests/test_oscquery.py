"""OSCQuery: the tree as the Vidvox proposal describes it, and a real runtime found by mDNS.

The unit tests build trees from a real registry.  The end-to-end test makes its own network
namespace (``unshare -n``: loopback up, multicast routed to it), starts
``python3 -m installation run SHOW --headless`` inside it, finds the service with a zeroconf
browser, reads HOST_INFO and single nodes with python-oscquery's client, LISTENs over a
WebSocket, sends one OSC packet over UDP to 127.0.0.1 and reads the changed VALUE back (and gets
it by LISTEN).  No packet leaves the namespace.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from installation.control.config import ControlConfig
from installation.control.oscquery import OscQueryServer, build_tree, find_node, method_node
from installation.control.standard import ShowLayout, build_registry

ROOT = Path(__file__).resolve().parents[1]


def registry():
    return build_registry(ShowLayout(scenes=["dawn", "dusk"], cues=["dawn", "dusk"], layers=2,
                                     post_stages=["levels"], directions=2), ControlConfig())


def test_tree_has_access_everywhere_and_type_range_value_on_methods():
    reg = registry()
    reg.set("/walk/speed", 2.5)
    tree = build_tree(reg.describe(), "a show")
    assert tree["FULL_PATH"] == "/" and tree["ACCESS"] == 0 and tree["DESCRIPTION"] == "a show"

    def walk(node):
        assert "ACCESS" in node and "FULL_PATH" in node, node
        for child in node.get("CONTENTS", {}).values():
            yield from walk(child)
        yield node

    nodes = {n["FULL_PATH"]: n for n in walk(tree)}
    assert set(reg) <= set(nodes)  # every parameter is a node
    speed = nodes["/walk/speed"]
    assert speed["TYPE"] == "f" and speed["ACCESS"] == 3 and speed["VALUE"] == [2.5]
    assert speed["RANGE"] == [{"MIN": 0.0, "MAX": 8.0}] and "walk speed" in speed["DESCRIPTION"]
    assert nodes["/walk"]["ACCESS"] == 0 and "TYPE" not in nodes["/walk"]
    assert nodes["/cue/go"]["TYPE"] == "N" and nodes["/cue/go"]["ACCESS"] == 2 and "VALUE" not in nodes["/cue/go"]
    assert nodes["/scene"]["RANGE"] == [{"VALS": ["dawn", "dusk"]}] and "next" in nodes["/scene"]["CONTENTS"]
    assert nodes["/status/scene"]["ACCESS"] == 1  # state the show writes: read only
    assert nodes["/output/blackout"]["TYPE"] == "T" and nodes["/output/blackout"]["VALUE"] == [False]
    assert nodes["/layer/2/opacity"]["TYPE"] == "f"
    assert find_node(tree, "/walk/speed") is speed and find_node(tree, "/walk/nope") is None
    assert method_node(reg.describe("/walk/truncation")[0]).get("VALUE") is None  # unset: no VALUE


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_server_answers_nodes_attributes_and_errors_over_http():
    reg = registry()
    server = OscQueryServer(reg.describe, "unit", "127.0.0.1", 9999, port=0, advertise=False).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        code, body = _get(base + "/?HOST_INFO")
        info = json.loads(body)
        assert code == 200 and info["NAME"] == "unit" and info["OSC_PORT"] == 9999
        assert info["OSC_TRANSPORT"] == "UDP" and info["OSC_IP"] == "127.0.0.1" and info["EXTENSIONS"]["RANGE"]
        code, body = _get(base + "/walk/speed")
        assert code == 200 and json.loads(body)["VALUE"] == [1.0]
        reg.set("/walk/speed", 3.0)  # the tree is read per request: always current
        assert json.loads(_get(base + "/walk/speed?VALUE")[1]) == {"VALUE": [3.0]}
        assert json.loads(_get(base + "/walk/speed?RANGE")[1]) == {"RANGE": [{"MIN": 0.0, "MAX": 8.0}]}
        assert _get(base + "/cue/go?VALUE")[0] == 204
        assert _get(base + "/walk/nothing")[0] == 404
        assert _get(base + "/walk/speed?COLOUR")[0] == 400
    finally:
        server.close()


def test_listen_over_websocket_sends_each_new_value_as_osc():
    websocket = pytest.importorskip("websocket", reason="websocket-client is not installed (the test extra)")
    from pythonosc.osc_message import OscMessage

    reg = registry()
    server = OscQueryServer(reg.describe, "unit", "127.0.0.1", 9999, port=0, advertise=False,
                            values=reg.values).start()
    try:
        info = json.loads(_get(f"http://127.0.0.1:{server.port}/?HOST_INFO")[1])
        assert info["EXTENSIONS"]["LISTEN"] is True
        conn = websocket.create_connection(f"ws://127.0.0.1:{server.port}/", timeout=5)
        conn.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/walk/speed"}))
        conn.send("not json")  # ignored, the connection stays
        conn.ping(b"hi")
        time.sleep(0.2)
        reg.set("/walk/direction", -1.0)  # not listened to
        reg.set("/walk/speed", 2.0)
        opcode, data = conn.recv_data()
        msg = OscMessage(data)
        assert opcode == 2 and msg.address == "/walk/speed" and msg.params == [2.0]
        conn.send(json.dumps({"COMMAND": "IGNORE", "DATA": "/walk/speed"}))
        conn.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/output/blackout"}))
        time.sleep(0.2)
        reg.set("/walk/speed", 3.0)
        reg.set("/output/blackout", True)
        msg = OscMessage(conn.recv_data()[1])
        assert msg.address == "/output/blackout" and msg.params == [True]
        conn.close()
    finally:
        server.close()


def test_no_tree_without_a_running_osc_input():
    from installation.control.oscquery import start_for
    from installation.control.system import Control

    control = Control(ShowLayout(scenes=["dawn"]))  # inputs never started: no OSC server
    assert start_for(control, "show") is None


def _netns_available() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip (util-linux, iproute2) not installed"
    res = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if res.returncode != 0:
        return f"cannot make a network namespace here: {res.stderr.strip()}"
    return None


SHOW = """
[show]
name = "query show"
[output]
width = 96
height = 64
fps = 10
[control.osc]
host = "127.0.0.1"
port = 0
[[scenes]]
name = "dawn"
duration = 60
[scenes.generator]
plugin = "noisefield"
size = 32
"""

PROBE = r'''
import json, socket, subprocess, sys, time
from zeroconf import ServiceBrowser, ServiceListener, Zeroconf
from pythonoscquery.osc_query_client import OSCQueryClient
from installation.control.osc_out import build_message

show, duration = sys.argv[1], sys.argv[2]
proc = subprocess.Popen([sys.executable, "-m", "installation", "run", show, "--headless", "--duration", duration],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
found = {}

class Listener(ServiceListener):
    def add_service(self, zc, type_, name):
        info = zc.get_service_info(type_, name, timeout=3000)
        if info is not None:
            found[type_] = info
    update_service = add_service
    def remove_service(self, zc, type_, name):
        pass

zc = Zeroconf(interfaces=["127.0.0.1"])
browsers = [ServiceBrowser(zc, t, Listener()) for t in ("_oscjson._tcp.local.", "_osc._udp.local.")]
deadline = time.monotonic() + 40
while len(found) < 2 and time.monotonic() < deadline and proc.poll() is None:
    time.sleep(0.1)
out = {"found": sorted(found)}
if "_oscjson._tcp.local." in found:
    info = found["_oscjson._tcp.local."]
    out["name"] = info.name
    client = OSCQueryClient(info)
    host = client.get_host_info()
    out["host_info"] = {"name": host.name, "osc_ip": host.osc_ip, "osc_port": host.osc_port,
                        "transport": host.osc_transport}
    out["osc_udp_port"] = found["_osc._udp.local."].port if "_osc._udp.local." in found else None
    node = client.query_node("/walk/speed")
    out["node"] = client.last_json
    out["node_value"] = node.value
    base = f"http://127.0.0.1:{info.port}"
    import urllib.request
    def value():
        with urllib.request.urlopen(base + "/walk/speed?VALUE", timeout=5) as r:
            return json.loads(r.read())["VALUE"]
    out["before"] = value()
    import websocket
    from pythonosc.osc_message import OscMessage
    conn = websocket.create_connection(f"ws://127.0.0.1:{info.port}/", timeout=10)
    conn.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/walk/speed"}))
    time.sleep(0.3)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(build_message("/walk/speed", [2.75]), ("127.0.0.1", host.osc_port))
    t0 = time.monotonic()
    while value() == out["before"] and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    out["after"] = value()
    msg = OscMessage(conn.recv_data()[1])
    out["listened"] = [msg.address, msg.params]
    conn.close()
zc.close()
proc.terminate()
out["log"] = proc.communicate(timeout=30)[0][-2000:]
out["rc"] = proc.returncode
print("PROBE " + json.dumps(out))
'''


@pytest.mark.gl
@pytest.mark.slow
def test_runtime_is_found_by_mdns_and_its_tree_follows_osc(tmp_path):
    reason = _netns_available()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("zeroconf", reason="zeroconf is not installed (pip install 'installation[web]')")
    pytest.importorskip("pythonoscquery", reason="python-oscquery is not installed (the test extra)")
    show = tmp_path / "show.toml"
    show.write_text(SHOW)
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(PROBE))
    env = {**os.environ, "INSTALLATION_MDNS": "1", "PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    script = ("ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && "
              f'exec "{sys.executable}" "{probe}" "{show}" 60')
    res = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=150)
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("PROBE ")), None)
    assert line is not None, res.stdout + res.stderr
    out = json.loads(line[6:])
    assert out["found"] == ["_osc._udp.local.", "_oscjson._tcp.local."], out
    assert out["name"] == "query show._oscjson._tcp.local."
    host = out["host_info"]
    assert host["name"] == "query show" and host["osc_ip"] == "127.0.0.1" and host["transport"] == "UDP"
    assert host["osc_port"] == out["osc_udp_port"] and host["osc_port"] > 0
    node = out["node"]
    assert node["FULL_PATH"] == "/walk/speed" and node["TYPE"] == "f" and node["ACCESS"] == 3
    assert node["RANGE"] == [{"MIN": 0.0, "MAX": 8.0}] and node["DESCRIPTION"]
    assert out["node_value"] == [1.0] and out["before"] == [1.0]
    assert out["after"] == [2.75], out["log"]
    assert out["listened"] == ["/walk/speed", [2.75]]
