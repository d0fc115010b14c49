"""Hot reload: a valid edit applies at the next cue boundary, an invalid one keeps the running show."""
from __future__ import annotations

import os

import pytest

from installation.show.loader import load_show
from installation.show.playhead import Playhead

SHOW = """
loop = true
[[scenes]]
name = "a"
duration = {a_duration}
transition = 0
[scenes.generator]
plugin = "noisefield"
[scenes.walk]
type = "loop"
seed = 1
[[scenes]]
name = "b"
duration = 10
transition = 2
[scenes.generator]
plugin = "noisefield"
[scenes.walk]
type = "loop"
seed = {b_seed}
{cues}
"""


def write(path, a_duration=10, b_seed=2, cues="", text=None):
    path.write_text(text if text is not None else SHOW.format(a_duration=a_duration, b_seed=b_seed, cues=cues))
    st = path.stat()  # make sure the watcher sees a new modification time even within one tick
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def names(layers):
    return [(l.scene.name, round(l.local_t, 3), round(l.opacity, 3)) for l in layers]


@pytest.fixture
def running(tmp_path):
    path = tmp_path / "show.toml"
    write(path)
    return path, Playhead(load_show(path), watch=path, watch_interval=0.0)


def test_valid_edit_applies_at_the_next_cue(running):
    path, ph = running
    ph.update(3.0)
    write(path, a_duration=20, b_seed=9)          # a longer; b's walk changed
    assert names(ph.update(3.5)) == [("a", 3.5, 1.0)]
    assert ph.pending is not None and ph.boundary == 10.0
    assert names(ph.update(9.9)) == [("a", 9.9, 1.0)]
    assert ph.show.scenes[0].duration == 10                 # not yet
    layers = ph.update(10.5)
    assert ph.show.scenes[0].duration == 20 and ph.pending is None
    assert ph.remap == {0: 0, 1: None}                      # a's worker kept, b's rebuilt
    assert names(layers) == [("a", 10.5, 1.0), ("b", 0.5, 0.156)]  # the crossfade from a still runs
    assert names(ph.update(25.0)) == [("a", 5.0, 1.0)]      # new loop: b (10 s) then a, now 20 s long
    assert names(ph.update(39.0)) == [("a", 19.0, 1.0)]
    assert names(ph.update(41.0))[-1][0] == "b"


def test_invalid_edit_keeps_the_running_show_and_reports(running, caplog):
    path, ph = running
    ph.update(1.0)
    write(path, text=SHOW.format(a_duration=10, b_seed=2, cues="").replace("transition = 2", "transiton = 2"))
    with caplog.at_level("ERROR"):
        assert names(ph.update(2.0)) == [("a", 2.0, 1.0)]
    assert ph.pending is None
    assert "transiton" in ph.watcher.error and "did you mean 'transition'" in ph.watcher.error
    assert str(path) in ph.watcher.error and ":" in ph.watcher.error
    assert "rejected" in caplog.text
    assert names(ph.update(12.0))[-1][0] == "b"             # the show goes on as before
    write(path, a_duration=30)                               # fixed: applies at the next cue (20 s)
    ph.update(12.5)
    assert ph.watcher.error is None and ph.pending is not None
    ph.update(20.5)
    assert ph.show.scenes[0].duration == 30


def test_a_manual_show_takes_the_edit_on_go(tmp_path):
    cues = '[[cues]]\nscene = "a"\ncontinue = "manual"\n[[cues]]\nscene = "b"\ncontinue = "manual"\n'
    path = tmp_path / "show.toml"
    write(path, cues=cues)
    ph = Playhead(load_show(path), watch=path, watch_interval=0.0)
    ph.update(5.0)
    write(path, cues=cues, b_seed=4)
    ph.update(100.0)
    assert ph.pending is not None and ph.show.scenes[1].walk.seed == 2   # no cue boundary without GO
    ph.go()
    assert ph.show.scenes[1].walk.seed == 4 and ph.pending is None
    assert names(ph.update(101.0)) == [("a", 101.0, 1.0), ("b", 1.0, 0.5)]


def test_invalid_schema_in_a_reload_does_not_touch_the_timeline(running):
    path, ph = running
    ph.update(1.0)
    before = ph.timeline
    write(path, text="[[scenes]]\nname = 3\n")
    ph.update(1.5)
    assert ph.timeline is before and ph.watcher.error


@pytest.mark.gl
def test_app_keeps_unchanged_workers_across_a_reload(tmp_path):
    from installation.app import App
    from installation.clock import FixedStepClock
    from installation.plugins import make_plugin_manager
    from installation.render.compositor import Compositor
    from installation.render.context import create_headless_context

    path = tmp_path / "show.toml"
    write(path, text=SHOW.format(a_duration=2, b_seed=2, cues="").replace("transition = 2", "transition = 0.5")
          .replace('plugin = "noisefield"', 'plugin = "noisefield"\nsize = 16'))
    ctx = create_headless_context()
    app = App(load_show(path), make_plugin_manager(), Compositor(ctx, (32, 32)), FixedStepClock(10),
              preload=0.5, playhead=Playhead(load_show(path), watch=path, watch_interval=0.0))
    try:
        for _ in range(18):                     # t = 0 .. 1.7: b is preloaded
            app.frame()
        rt_a, rt_b = app.runtimes[0], app.runtimes[1]
        write(path, text=path.read_text().replace("seed = 2", "seed = 7"))
        app.frame()
        assert app.playhead.pending is not None and app.runtimes[1] is rt_b   # staged, not applied
        for _ in range(6):                      # through the cue at t = 2 into b's crossfade (t = 2.4)
            app.frame()
        assert app.show.scenes[1].walk.seed == 7 and app.playhead.pending is None
        assert app.runtimes[0] is rt_a          # a's source did not change: same worker
        assert app.runtimes[1] is not rt_b      # b's walk changed: rebuilt
        assert [l.scene.name for l in app.layers] == ["a", "b"]
    finally:
        app.close()
        ctx.release()


def test_standby_moves_without_firing_and_go_fires_it(tmp_path):
    cues = ('[[cues]]\nscene = "a"\ncontinue = "manual"\n[[cues]]\nscene = "b"\ncontinue = "manual"\n'
            '[[cues]]\nname = "third"\nscene = "a"\nduration = 5\ntransition = 0\ncontinue = "manual"\n')
    path = tmp_path / "show.toml"
    write(path, cues=cues)
    ph = Playhead(load_show(path))
    ph.update(1.0)
    assert ph.standing_by() == 1
    ph.move_standby(1)
    assert ph.standing_by() == 2 and names(ph.update(2.0)) == [("a", 2.0, 1.0)]
    ph.go()
    assert ph.standby is None and ph.timeline.current(2.0).cue == 2
    assert ph.cue_index("third") == 2 and ph.cue_index("b") == 1 and ph.cue_index("nope") is None


def test_editing_an_included_venue_file_reloads(tmp_path):
    venue = tmp_path / "venue.toml"
    venue.write_text("[output]\nbrightness = 1.0\n")
    path = tmp_path / "show.toml"
    write(path, text='include = ["venue.toml"]\n' + SHOW.format(a_duration=10, b_seed=2, cues=""))
    ph = Playhead(load_show(path), watch=path, watch_interval=0.0)
    ph.update(1.0)
    write(venue, text="[output]\nbrightness = 0.5\nfsp = 3\n")
    ph.update(2.0)
    assert "venue.toml:3: output.fsp" in ph.watcher.error
    write(venue, text="[output]\nbrightness = 0.5\n")
    ph.update(3.0)
    ph.update(10.5)
    assert ph.show.output.brightness == 0.5


def test_an_edit_that_cannot_play_is_rejected_by_the_shared_check(running):
    """A hold list of the wrong length parses (the schema cannot know the seed count) but the walk
    cannot be built: the watcher's check (the one run and validate use) rejects it, the show goes
    on, and status() names file, line, field and problem."""
    from installation.checks import check_show

    path, ph = running
    ph.watcher.check = lambda show: check_show(show, None, path)
    ph.update(1.0)
    bad = SHOW.format(a_duration=10, b_seed=2, cues="").replace('type = "loop"\nseed = 1\n',
                                                                   'type = "slerp"\nseed = 1\nseeds = [1, 2, 3]\nhold = [1, 2]\n', 1)
    write(path, text=bad)
    assert names(ph.update(2.0)) == [("a", 2.0, 1.0)] and ph.pending is None
    status = ph.watcher.status()
    line = bad.split("\n").index("hold = [1, 2]") + 1
    assert status["state"] == "rejected" and status["problems"][0]["file"] == str(path)
    assert status["problems"][0]["line"] == line and status["problems"][0]["field"] == "scenes[0].walk.hold"
    assert "2 entries for 3 seeds" in status["problems"][0]["problem"]
    write(path, a_duration=12)
    ph.update(3.0)
    assert ph.watcher.status() == {"path": str(path), "state": "ok", "playing": "file"} and ph.pending is not None


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(port):
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as resp:
            return json.loads(resp.read())
    except OSError:
        return None


def _wait(pred, timeout=60.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_running_show_reports_a_rejected_edit_and_a_restart_plays_the_last_good_copy(tmp_path):
    """The real CLI: a live headless run with the status endpoint.  A broken edit is rejected (the
    show keeps rendering, /status names file:line and field); the runtime restarted on the
    broken file plays the last good copy, says so in the log, and /status says which it plays."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), INSTALLATION_STATE_DIR=str(tmp_path / "state"))
    path = tmp_path / "show.toml"
    good = SHOW.format(a_duration=10, b_seed=2, cues="") + "[output]\nwidth = 32\nheight = 32\nfps = 10\n"
    write(path, text=good)
    port = _free_port()
    cmd = [sys.executable, "-m", "installation", "run", str(path), "--headless", "--health-port", str(port)]
    proc = subprocess.Popen(cmd + ["--duration", "120"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: proc.poll() is not None or (_status(port) or {}).get("show_file", {}).get("state") == "ok")
        assert proc.poll() is None, proc.communicate()
        bad = good.replace('type = "loop"\nseed = 1\n', 'type = "slerp"\nseed = 1\nseeds = [4, 5]\nhold = [1, 2, 3]\n', 1)
        write(path, text=bad)
        snap = _wait(lambda: (s := _status(port)) and s["show_file"]["state"] == "rejected" and s)
        problem = snap["show_file"]["problems"][0]
        assert problem["file"] == str(path) and problem["line"] == bad.split("\n").index("hold = [1, 2, 3]") + 1
        assert problem["field"] == "scenes[0].walk.hold" and snap["show_file"]["playing"] == "file"
        frames = snap["frames"]
        _wait(lambda: _status(port)["frames"] > frames + 5)  # the old show plays on
        assert "control" in snap and snap["control"]["received"] == 0 and snap["control"]["inputs"] == {}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert list((tmp_path / "state").glob("last-good-show-*.json"))

    proc = subprocess.Popen(cmd + ["--duration", "6"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        snap = _wait(lambda: (s := _status(port)) and s.get("show_file") and s)
        assert snap["show_file"]["playing"] == "last good copy" and snap["show_file"]["state"] == "rejected"
        assert snap["show_file"]["problems"][0]["field"] == "scenes[0].walk.hold"
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "playing the last good copy" in err and "scenes[0].walk.hold" in err


def test_a_supervised_runtime_killed_while_its_file_is_broken_comes_back_on_the_last_good_copy(tmp_path):
    """kill -9 of the runtime after a broken edit: the supervisor's restart (same file, now
    broken) plays the last good copy instead of crash-looping dark."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), INSTALLATION_STATE_DIR=str(tmp_path / "state"))
    path = tmp_path / "show.toml"
    good = SHOW.format(a_duration=10, b_seed=2, cues="") + "[output]\nwidth = 32\nheight = 32\nfps = 10\n"
    write(path, text=good)
    port = _free_port()
    sup = subprocess.Popen([sys.executable, "-m", "installation", "run", str(path), "--headless", "--supervise",
                            "--health-port", str(port), "--heartbeat", str(tmp_path / "hb.json")],
                           cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = _wait(lambda: (s := _status(port)) and s.get("show_file", {}).get("state") == "ok" and s, timeout=90)
        write(path, text=good.replace("duration = 10", "duration = -1", 1))
        _wait(lambda: (_status(port) or {}).get("show_file", {}).get("state") == "rejected")
        os.kill(first["pid"], signal.SIGKILL)
        again = _wait(lambda: (s := _status(port)) and s["pid"] != first["pid"] and s, timeout=120)
        assert again["show_file"]["playing"] == "last good copy" and again["show_file"]["state"] == "rejected"
        assert again["show_file"]["problems"][0]["field"] == "scenes[0].duration"
        assert again["supervisor_restarts"] >= 1
        frames = again["frames"]
        _wait(lambda: (_status(port) or {"frames": 0})["frames"] > frames + 5)  # it plays, not dark
    finally:
        sup.send_signal(signal.SIGTERM)
        out, err = sup.communicate(timeout=60)
    assert "playing the last good copy" in err
