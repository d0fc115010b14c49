"""Opening hours on the venue's wall clock whatever the host's ``TZ``: the real CLI in subprocesses.

``installation show at FILE --when`` and a running show's ``/status`` are asked under ``TZ=UTC``,
``TZ=Pacific/Auckland`` and the venue's own zone (Europe/Berlin), on the days the clocks change
(last Sunday of March and of October), on closed days and in the fade windows.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zoneinfo
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "shows" / "gallery-waves.toml"
H = 3600.0
ZONES = ["UTC", "Pacific/Auckland", "Europe/Berlin"]
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def cli(args: list[str], tz: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, TZ=tz, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "installation", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def at_json(show: Path, moments: list[str], tz: str) -> dict[str, dict]:
    args = ["show", "at", str(show), "--json"]
    for m in moments:
        args += ["--when", m]
    proc = cli(args, tz)
    assert proc.returncode == 0, proc.stderr
    docs = [json.loads(line) for line in proc.stdout.splitlines()]
    return {d["when"]: d for d in docs}


# gallery-waves: Europe/Berlin, daily 10-18, Thursday 10-22, Mondays and 24/25 Dec closed, 30 s fades.
# (moment, open, show time, fade); a moment with an offset or Z is that instant, without one Berlin wall time
GALLERY_CASES = [
    ("2026-03-28T09:00:15Z", True, 15.0, 0.5),            # Saturday before the change: 10:00:15 CET
    ("2026-03-28T10:00:15", True, 15.0, 0.5),
    ("2026-03-29T08:00:15Z", True, 15.0, 0.5),            # the clocks went forward: 10:00:15 CEST
    ("2026-03-29T07:59:59Z", False, None, 0.0),           # 09:59:59 CEST
    ("2026-03-29T09:00:15Z", True, H + 15, 1.0),
    ("2026-03-29T15:59:45Z", True, 8 * H - 15, 0.5),      # fading down before 18:00 CEST
    ("2026-03-29T16:00:00Z", False, None, 0.0),
    ("2026-03-29T23:00:15+13:00", True, 2 * H + 15, 1.0),  # an Auckland instant: 12:00:15 CEST
    ("2026-10-24T08:00:15Z", True, 15.0, 0.5),            # Saturday, still summer time
    ("2026-10-25T08:00:15Z", False, None, 0.0),           # the clocks went back: 09:00:15 CET
    ("2026-10-25T09:00:15Z", True, 15.0, 0.5),
    ("2026-10-25T10:00:15+01:00", True, 15.0, 0.5),
    ("2026-12-03T21:30", True, 11.5 * H, 1.0),            # Thursday's late opening
    ("2026-12-07T12:00", False, None, 0.0),               # a Monday
    ("2026-12-24T11:00:00Z", False, None, 0.0),           # a closed date (Thursday)
]


@pytest.mark.slow
@pytest.mark.parametrize("tz", ZONES)
def test_show_at_when_follows_the_venue_clock_under_any_host_zone(tz):
    got = at_json(GALLERY, [c[0] for c in GALLERY_CASES], tz)
    for moment, is_open, show_t, fade in GALLERY_CASES:
        doc = got[moment]
        assert doc["timezone"] == "Europe/Berlin"
        assert doc["open"] is is_open, (tz, moment, doc)
        assert doc["fade"] == pytest.approx(fade), (tz, moment, doc)
        if is_open:
            assert doc["show_time_s"] == pytest.approx(show_t), (tz, moment, doc)
            assert doc["layers"] and max(l["opacity"] for l in doc["layers"]) == pytest.approx(fade)
        else:
            assert doc["show_time_s"] is None and doc["layers"] == []  # outside = "blackout"
    # the closed date: the last close was Wednesday 23 Dec 18:00 CET, 18 hours before
    assert got["2026-12-24T11:00:00Z"]["since_close_s"] == pytest.approx(18 * H)
    assert got["2026-12-07T12:00"]["since_close_s"] == pytest.approx(18 * H)  # Sunday 18:00 → Monday noon
    assert got["2026-03-29T08:00:15Z"]["venue_time"].endswith("+02:00")
    assert got["2026-10-25T09:00:15Z"]["venue_time"].endswith("+01:00")


NIGHT = """
[show]
name = "night"
[[scenes]]
name = "a"
duration = 86400
[scenes.generator]
plugin = "noisefield"
[schedule]
timezone = "Europe/Berlin"
hours = { daily = ["00:00-06:00"] }
"""


@pytest.mark.slow
def test_daylight_saving_nights_and_ambiguous_wall_times(tmp_path):
    show = tmp_path / "night.toml"
    show.write_text(NIGHT)
    got = at_json(show, ["2026-03-29T05:00", "2026-10-25T05:00", "2026-10-25T02:30", "2026-10-25T02:30+01:00",
                         "2026-03-29T02:30", "2026-03-28T05:00"], "Pacific/Auckland")
    assert got["2026-03-29T05:00"]["show_time_s"] == pytest.approx(4 * H)  # 02:00 → 03:00: an hour shorter
    assert got["2026-10-25T05:00"]["show_time_s"] == pytest.approx(6 * H)  # 03:00 → 02:00: an hour longer
    assert got["2026-03-28T05:00"]["show_time_s"] == pytest.approx(5 * H)
    # a wall time that happens twice is its first occurrence (summer time); an offset picks the second
    assert got["2026-10-25T02:30"]["show_time_s"] == pytest.approx(2.5 * H)
    assert got["2026-10-25T02:30"]["venue_time"].endswith("+02:00")
    assert got["2026-10-25T02:30+01:00"]["show_time_s"] == pytest.approx(3.5 * H)
    # a wall time the clocks skip is moved on by the gap: 02:30 "CET" is 03:30 CEST
    assert got["2026-03-29T02:30"]["venue_time"].startswith("2026-03-29T03:30:00")
    assert got["2026-03-29T02:30"]["show_time_s"] == pytest.approx(2.5 * H)


def test_when_needs_a_schedule_and_an_iso_time(tmp_path):
    show = tmp_path / "plain.toml"
    show.write_text(NIGHT.split("[schedule]")[0])
    proc = cli(["show", "at", str(show), "--when", "2026-03-29T05:00"], "UTC")
    assert proc.returncode == 1 and "no [schedule]" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli(["show", "at", str(GALLERY), "--when", "half past ten"], "UTC")
    assert proc.returncode == 2 and "ISO 8601" in proc.stderr and "Traceback" not in proc.stderr


# -- a running show's /status ------------------------------------------------------------

TINY = """
[show]
name = "tz"
[output]
width = 64
height = 64
fps = 10
[[scenes]]
name = "a"
duration = 86400
keyframe_rate = 2
[scenes.generator]
plugin = "noisefield"
size = 32
[schedule]
timezone = "Europe/Berlin"
hours = {{ daily = ["{open}-{close}"] }}
fade = 5
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


def hours_around(wall: dt.datetime, before: dt.timedelta, after: dt.timedelta) -> dict:
    return {"open": (wall - before).strftime("%H:%M"), "close": (wall + after).strftime("%H:%M")}


def run_and_ask(show: Path, tz: str) -> tuple[dict, float, float]:
    port = free_port()
    env = dict(os.environ, TZ=tz, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "installation", "run", str(show), "--headless", "--health-port",
                             str(port), "--duration", "300"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        end = time.time() + 120
        while time.time() < end:
            assert proc.poll() is None, proc.communicate()[0]
            before = time.time()
            doc = status(port)
            after = time.time()
            if doc and doc.get("status") == "running" and doc.get("schedule") and doc.get("frames", 0) > 3:
                return doc, before, after
            time.sleep(0.3)
        raise AssertionError("no /status with a schedule")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("tz", ZONES)
def test_status_agrees_with_show_at_under_any_host_zone(tmp_path, tz):
    # open from 30 minutes ago (Berlin wall time): a host reading its own wall clock as venue time
    # would be dark here under UTC (an hour behind) and under Auckland
    show = tmp_path / "open.toml"
    show.write_text(TINY.format(**hours_around(dt.datetime.now(BERLIN), dt.timedelta(minutes=30),
                                               dt.timedelta(hours=2))))
    doc, before, after = run_and_ask(show, tz)
    sched = doc["schedule"]
    assert sched["timezone"] == "Europe/Berlin" and sched["open"] is True
    venue = dt.datetime.fromisoformat(sched["venue_time"])
    assert venue.utcoffset() == dt.datetime.now(BERLIN).utcoffset()
    # the frame reported is at most a frame interval (+ 0.5 s slack for a loaded machine) old
    assert before - 0.1 - 0.5 <= venue.timestamp() <= after
    assert doc["show_time_s"] == pytest.approx(sched["show_time_s"], abs=1e-3)
    expect = (venue - dt.datetime.fromisoformat(sched["period_start"])).total_seconds()
    # venue_time is cut to whole milliseconds and show_time_s rounded to them: up to 1.5 ms apart
    assert sched["show_time_s"] == pytest.approx(expect, abs=2e-3)
    assert 29 * 60 < sched["show_time_s"] < 32 * 60 + 120
    (again,) = at_json(show, [venue.astimezone(dt.timezone.utc).isoformat()], tz).values()
    for key in ("open", "fade", "period_start", "venue_time"):
        assert again[key] == sched[key], key
    assert again["show_time_s"] == pytest.approx(sched["show_time_s"], abs=2e-3)  # venue_time is to the ms
    assert [l["opacity"] for l in again["layers"]] == [l["opacity"] for l in doc["layers"]]


@pytest.mark.slow
@pytest.mark.parametrize("tz", ["UTC", "Pacific/Auckland"])
def test_hours_on_the_host_wall_clock_are_not_the_venue_hours(tmp_path, tz):
    # open around the *host's* wall time: in Berlin that is an hour (UTC) or ~12 hours (Auckland) away
    host_now = dt.datetime.now(zoneinfo.ZoneInfo(tz))
    show = tmp_path / "closed.toml"
    show.write_text(TINY.format(**hours_around(host_now, dt.timedelta(minutes=20), dt.timedelta(minutes=20))))
    doc, _, _ = run_and_ask(show, tz)
    assert doc["schedule"]["open"] is False and doc["layers"] == []
    (again,) = at_json(show, ["now"], tz).values()
    assert again["open"] is False
