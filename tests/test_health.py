"""Health: the snapshot, GET /status, and JSON-lines logs with rotation."""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from installation.health import HealthMonitor, JsonFormatter, RateLimit, StatusServer, setup_logging

PLUGINS = Path(__file__).parent / "fault_plugins"


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_status_server_serves_json_on_loopback():
    calls = {"n": 0}

    def snap():
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("boom")
        return {"status": "running", "fps": 30.0}

    server = StatusServer(snap, port=0).start()
    try:
        assert server.host == "127.0.0.1"
        assert get(server.url) == (200, {"status": "running", "fps": 30.0})
        assert get(server.url.replace("/status", "/healthz")) == (200, {"status": "running"})
        code, doc = get(server.url)  # a failing snapshot is reported, the server lives on
        assert code == 500 and "boom" in doc["error"]
        assert get(server.url.replace("/status", "/nope"))[0] == 404
        assert get(server.url)[0] == 200
    finally:
        server.close()


@pytest.mark.gl
def test_snapshot_reports_show_scene_plugins_and_memory(tmp_path):
    from installation.app import App
    from installation.clock import FixedStepClock
    from installation.engine.worker import RestartPolicy
    from installation.plugins import make_plugin_manager
    from installation.render.compositor import Compositor
    from installation.render.context import create_headless_context
    from installation.show.loader import parse_show

    # the plugin runs in a fresh worker process after each fault: it keeps its call count in a file
    show = parse_show(f"""
[show]
name = "health"
[output]
width = 32
height = 32
fps = 10
[[scenes]]
name = "flaky"
duration = 5
keyframe_rate = 2
transition = 0
[scenes.generator]
plugin = "faulty"
mode = "raise"
fault_at = 2
fault_count = 1
counter = "{tmp_path / 'counter.json'}"
[[scenes]]
name = "calm"
duration = 5
transition = 0
[scenes.generator]
plugin = "noisefield"
size = 16
""")
    registry = make_plugin_manager(PLUGINS, entry_points_enabled=False)
    app = App(show, registry, Compositor(create_headless_context(), (32, 32)), FixedStepClock(10),
              policy=RestartPolicy(backoff=0.2))
    monitor = HealthMonitor(app, 10).activate()
    try:
        for _ in range(70):  # into the second scene: the first one's worker is retired
            app.frame()
            monitor.frame(0.01)
        assert app.health == monitor.snapshot  # handed over, not found through module state
        snap = app.health()
        assert snap["status"] == "running" and snap["show"] == "health"
        assert snap["frames"] == 70 and snap["dropped_frames"] == 0
        assert snap["scene"]["name"] == "calm" and snap["scene"]["local_t"] == pytest.approx(1.9)
        assert snap["plugins"]["calm"]["state"] == "ok" and snap["plugins"]["fallback"]["scene_index"] < 0
        assert snap["plugin_history"]["flaky"] == {"produced": snap["plugin_history"]["flaky"]["produced"],
                                                   "restarts": 1, "faults": 1}
        assert snap["plugin_restarts"] == 1 and snap["plugin_faults"] == 1
        assert snap["memory"]["rss_mb"] > 10 and snap["uptime_s"] >= 0
        assert snap["frame_ms"]["mean"] == pytest.approx(10.0)
        json.dumps(snap)  # plain data: any channel can send it
    finally:
        monitor.deactivate()
        app.close()
    assert app.health() == {"status": "idle"}


def test_json_logs_carry_event_fields_and_rotate(tmp_path):
    log_file = tmp_path / "logs" / "show.jsonl"
    setup_logging(log_file=log_file, max_bytes=2000, backups=2)
    try:
        log = logging.getLogger("installation.test")
        log.warning("fault in %s", "scene a", extra={"event": "plugin_fault", "scene": "a", "kind": "hang"})
        try:
            raise ValueError("bad frame")
        except ValueError:
            log.exception("with traceback")
        first = [json.loads(line) for line in log_file.read_text().splitlines()]
        assert first[0]["event"] == "plugin_fault" and first[0]["kind"] == "hang" and first[0]["message"] == "fault in scene a"
        assert first[0]["level"] == "WARNING" and first[0]["time"].endswith("Z")
        assert "ValueError: bad frame" in first[1]["exception"]
        for i in range(100):  # distinct messages: the rate limit lets them all through
            log.info(f"filler {i}", extra={"event": "filler"})
        assert (tmp_path / "logs" / "show.jsonl.1").exists() and (tmp_path / "logs" / "show.jsonl.2").exists()
        assert not (tmp_path / "logs" / "show.jsonl.3").exists()
        for path in (tmp_path / "logs").iterdir():
            for line in path.read_text().splitlines():
                json.loads(line)  # every line is a whole JSON document
    finally:
        setup_logging()


def test_json_formatter_survives_unserialisable_extras():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hi", (), None)
    record.thing = object()
    doc = json.loads(JsonFormatter().format(record))
    assert doc["message"] == "hi" and "object" in doc["thing"]


def test_rate_limit_keeps_a_noisy_source_from_flooding_the_log():
    now = [0.0]
    limit = RateLimit(burst=3, window=60.0, clock=lambda: now[0])

    def rec(msg):
        return logging.LogRecord("root", logging.WARNING, __file__, 1, msg, ("x",), None)

    passed = [limit.filter(rec("Unhandled parameter type: %s")) for _ in range(10)]
    assert passed == [True] * 3 + [False] * 7
    assert limit.filter(rec("another message %s"))  # other messages are not affected
    now[0] = 61.0
    first = rec("Unhandled parameter type: %s")
    assert limit.filter(first) and first.suppressed == 7 and "7 similar messages suppressed" in first.getMessage()


def test_rate_limit_counts_each_message_once_across_console_and_file(tmp_path, capfd):
    """setup_logging shares one limit between the console and the file handler: a message logged
    30 times with a burst of 20 reaches each of them 20 times (it used to be counted twice, so
    each handler saw only 10)."""
    log_file = tmp_path / "show.jsonl"
    setup_logging(log_file=log_file)
    try:
        log = logging.getLogger("installation.test.ratelimit")
        for i in range(30):
            log.warning("noisy source %d", i)
        file_lines = [json.loads(line)["message"] for line in log_file.read_text().splitlines()]
        console = [line for line in capfd.readouterr().err.splitlines() if "noisy source" in line]
    finally:
        setup_logging()
    assert file_lines == [f"noisy source {i}" for i in range(20)]
    assert len(console) == 20 and console[-1].endswith("noisy source 19")


def test_status_server_survives_idle_rude_and_slow_clients(caplog):
    """200 idle sockets, 50 clients that reset the connection (RST), half-open ones that shut their
    side before asking, and a slowloris trickling a header byte at a time: a normal GET /status
    still answers at once, no thread is started per client, nothing logs a traceback, and the
    idle ones are closed after the request timeout."""
    import socket
    import struct
    import threading
    import time

    server = StatusServer(lambda: {"status": "running", "fps": 30.0}, port=0, request_timeout=1.5).start()
    threads_before = threading.active_count()
    idle, others = [], []
    try:
        with caplog.at_level(logging.DEBUG):
            for _ in range(200):
                idle.append(socket.create_connection((server.host, server.port)))
            for i in range(50):  # connect, maybe send half a request, then reset (SO_LINGER 0)
                s = socket.create_connection((server.host, server.port))
                if i % 2:
                    s.sendall(b"GET /sta")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            for _ in range(20):  # half-open: our side shut for writing, never reading the answer
                s = socket.create_connection((server.host, server.port))
                s.shutdown(socket.SHUT_WR)
                others.append(s)
            slow = socket.create_connection((server.host, server.port))
            others.append(slow)
            slow.sendall(b"GET /status HTTP/1.1\r\n")
            assert get(server.url) == (200, {"status": "running", "fps": 30.0})
            assert threading.active_count() <= threads_before  # one loop thread, whatever the clients
            for _ in range(3):  # the slowloris keeps trickling, but its deadline is fixed
                time.sleep(0.6)
                try:
                    slow.sendall(b"X")
                except OSError:
                    break
            time.sleep(1.0)
            assert server.connections <= 1  # idle, half-open and slow ones were closed
            assert server.counts["timed_out"] >= 200
            assert get(server.url)[0] == 200
        assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    finally:
        for s in idle + others:
            s.close()
        server.close()
