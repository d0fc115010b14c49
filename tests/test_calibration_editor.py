"""The live calibration controller driven by key names and by real OSC packets over UDP."""
from __future__ import annotations

import time

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.calibration import CalibrationProfile, load_profile, save_profile
from installation.calibration.editor import CalibrationEditor
from installation.calibration.keys import handle_key
from installation.calibration.osc import CalibrationOSC


@pytest.fixture
def editor(tmp_path):
    profile = CalibrationProfile.span(2, 1000, 500, 100)
    path = save_profile(profile, tmp_path / "venue.toml")
    return CalibrationEditor(load_profile(path))


def corner_px(ed, output=None, point=None):
    out = ed.profile.outputs[ed.output if output is None else output]
    x, y = out.corners[ed.point if point is None else point]
    return x * out.resolution[0], y * out.resolution[1]


def test_arrow_keys_nudge_fine_and_coarse(editor):
    handle_key(editor, "2")  # top-right corner
    assert (editor.target, editor.point) == ("corners", 1)
    handle_key(editor, "left")
    assert corner_px(editor) == pytest.approx((999.0, 0.0))
    handle_key(editor, "down", {"shift"})
    assert corner_px(editor) == pytest.approx((999.0, 10.0))
    handle_key(editor, "right", {"alt"})
    assert corner_px(editor) == pytest.approx((999.1, 10.0))
    assert editor.dirty and editor.version == 3


def test_undo_redo_walk_the_history(editor):
    original = editor.profile
    handle_key(editor, "3")
    for key in ("up", "up", "left"):
        handle_key(editor, key, {"shift"})
    assert corner_px(editor) == pytest.approx((990.0, 480.0))
    handle_key(editor, "z", {"ctrl"})
    assert corner_px(editor) == pytest.approx((1000.0, 480.0))
    handle_key(editor, "z", {"ctrl"})
    handle_key(editor, "z", {"ctrl"})
    assert editor.profile == original
    assert not editor.undo() and "nothing to undo" in editor.message
    handle_key(editor, "y", {"ctrl"})
    assert corner_px(editor) == pytest.approx((1000.0, 490.0))
    handle_key(editor, "left")  # a new edit clears the redo stack
    assert not editor.redo()


def test_a_nudge_that_would_fold_the_quad_is_refused(editor):
    editor.select(point=0)
    before = editor.profile
    assert editor.move_to(0.3, 0.3)
    assert editor.move_to(1.2, 1.2) is False  # top-left past bottom-right: self-crossing
    assert "refused: outputs[0].corners" in editor.message
    assert editor.profile.outputs[0].corners[0] == (0.3, 0.3)
    editor.undo()
    assert editor.profile == before


def test_points_are_clamped_to_the_allowed_range(editor):
    editor.select(point=0)
    for _ in range(80):
        editor.nudge(-1, 0, coarse=True)
    assert editor.profile.outputs[0].corners[0][0] == pytest.approx(-0.5)


def test_tab_outputs_and_pick(editor):
    handle_key(editor, "tab")
    handle_key(editor, "tab")
    assert editor.point == 2
    handle_key(editor, "tab", {"shift"})
    assert editor.point == 1
    handle_key(editor, "o")
    assert (editor.output, editor.point) == (1, 0)
    assert editor.pick(0.02, 0.97)
    assert (editor.target, editor.point) == ("corners", 3)


def test_mesh_editing_moves_points_in_output_pixels(editor):
    handle_key(editor, "m")
    assert editor.target == "mesh" and editor.current.mesh.cols == 5
    editor.select(point=12)  # centre of the 5x5 mesh
    x0, y0 = editor.selected_position()
    handle_key(editor, "right", {"shift"})
    x1, y1 = editor.selected_position()
    assert (x1 - x0) * 1000 == pytest.approx(10.0) and y1 == pytest.approx(y0)
    handle_key(editor, "r")
    assert np.allclose(editor.selected_position(), (x0, y0))
    assert not editor.set_mesh(1, 1)
    assert editor.set_mesh(0, 0) and editor.current.mesh is None and editor.target == "corners"


def test_mesh_points_follow_the_corner_pin(editor):
    editor.select(point=1)
    editor.move_to(0.9, 0.05)
    editor.set_mesh(3, 3)
    handles = editor.handles()
    assert np.allclose(handles[2], (0.9, 0.05))  # the mesh's top-right node sits on the pinned corner
    editor.select(point=4)
    editor.nudge(0, 1, step=25)
    assert editor.selected_position()[1] * 500 == pytest.approx(handles[4][1] * 500 + 25)


def test_save_writes_a_profile_that_reloads_identically(editor, tmp_path):
    editor.select(output=1, point=2)
    editor.nudge(-3, -2, coarse=True)
    editor.set_mesh(4, 3)
    editor.select(point=5)
    editor.nudge(1, 1)
    handle_key(editor, "s", {"ctrl"})
    assert editor.message.startswith("saved") and not editor.dirty
    assert load_profile(editor.path) == editor.profile
    assert editor.save(tmp_path / "copy.toml") and load_profile(tmp_path / "copy.toml") == editor.profile


def test_patterns_and_unknown_commands(editor):
    assert editor.pattern == "grid"
    handle_key(editor, "p")
    assert editor.pattern == "crosshair"
    handle_key(editor, "c")
    assert editor.pattern is None
    assert not editor.set_pattern("plaid")
    assert not editor.execute("explode")
    assert not editor.execute("nudge", "a", "b") and "bad arguments" in editor.message
    assert handle_key(editor, "escape") == "quit"  # nothing edited: quits at once
    handle_key(editor, "left")
    assert handle_key(editor, "escape") is None and "unsaved" in editor.message
    assert handle_key(editor, "escape") == "quit"


def wait_for(editor, count, timeout=3.0):
    deadline = time.monotonic() + timeout
    while editor.pending() < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return editor.drain()


def test_osc_messages_over_udp_drive_the_editor(editor):
    with CalibrationOSC(editor, host="127.0.0.1", port=0) as osc:
        client = SimpleUDPClient(*osc.address)
        client.send_message("/calibrate/select", [1, "corners", 3])
        client.send_message("/calibrate/nudge", [1, 0])
        client.send_message("/calibrate/nudge", [0, -1, 1])
        client.send_message("/calibrate/pattern", "ids")
        done = wait_for(editor, 4)
        assert [d[0] for d in done] == ["select", "nudge", "nudge", "pattern"] and all(d[2] for d in done)
        assert (editor.output, editor.point, editor.pattern) == (1, 3, "ids")
        assert corner_px(editor) == pytest.approx((1.0, 490.0))

        client.send_message("/calibrate/undo", [])
        client.send_message("/calibrate/mesh", [3, 3])
        client.send_message("/calibrate/select", 4)
        client.send_message("/calibrate/move", [0.55, 0.5])
        client.send_message("/calibrate/save", [])
        client.send_message("/calibrate/bogus", [1])
        done = wait_for(editor, 6)
        assert [d[2] for d in done] == [True, True, True, True, True, False]
        assert corner_px(editor, point=3) == pytest.approx((1.0, 500.0))
        assert editor.selected_position() == pytest.approx((0.55, 0.5))
        assert load_profile(editor.path) == editor.profile


def test_osc_burst_is_not_lost(editor):
    editor.select(point=1)
    with CalibrationOSC(editor, host="127.0.0.1", port=0) as osc:
        client = SimpleUDPClient(*osc.address)
        for _ in range(200):
            client.send_message("/calibrate/nudge", [-1, 0])
        done = wait_for(editor, 200)
    assert len(done) == 200
    assert corner_px(editor) == pytest.approx((800.0, 0.0))


def test_osc_status_feedback_reaches_the_tablet(editor):
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer
    import threading

    received = []
    tablet_dispatcher = Dispatcher()
    tablet_dispatcher.map("/calibrate/status", lambda address, *args: received.append(args))
    tablet = BlockingOSCUDPServer(("127.0.0.1", 0), tablet_dispatcher)
    thread = threading.Thread(target=tablet.handle_request, daemon=True)
    tablet.timeout = 3
    thread.start()
    with CalibrationOSC(editor, host="127.0.0.1", port=0, feedback=tablet.server_address) as osc:
        osc.send_status()
    thread.join(timeout=3)
    tablet.server_close()
    assert received and received[0][1:4] == (0, "corners", 0)
    assert "output 1/2" in received[0][0]


def test_window_plans_for_spanning_and_per_display():
    from installation.calibration.window import window_plan

    profile = CalibrationProfile.span(2, 1920, 1080, 240)
    (span,) = window_plan(profile)
    assert span.size == (3840, 1080) and span.outputs == (0, 1)
    assert span.viewport(profile, 1) == (1920, 0, 1920, 1080)
    hit = span.output_at(profile, 1920 + 959, 539)
    assert hit[0] == 1 and hit[1] == pytest.approx(959.5 / 1920) and hit[2] == pytest.approx(539.5 / 1080)
    data = profile.model_dump()
    data["window"] = "per-display"
    per = window_plan(CalibrationProfile.model_validate(data))
    assert [w.outputs for w in per] == [(0,), (1,)] and per[1].position == (1920, 0) and per[1].display == 1
    assert window_plan(profile, only_output=1)[0].viewport(profile, 1) == (0, 0, 1920, 1080)


def test_per_display_save_merges_only_its_output(tmp_path):
    profile = CalibrationProfile.span(2, 400, 300, 40)
    path = save_profile(profile, tmp_path / "p.toml")
    first = CalibrationEditor(load_profile(path), only_output=0)
    second = CalibrationEditor(load_profile(path), only_output=1)
    assert second.output == 1
    first.select(point=1)
    first.nudge(-5, 0)
    second.select(point=0)
    second.nudge(0, 7)
    first.save()
    second.save()
    merged = load_profile(path)
    assert merged.outputs[0].corners[1] == pytest.approx((395 / 400, 0.0))
    assert merged.outputs[1].corners[0] == pytest.approx((0.0, 7 / 300))


def test_blend_colour_and_black_level_edits(editor):
    handle_key(editor, "g")
    assert editor.profile.outputs[0].blend.right.gamma == pytest.approx(2.25)
    handle_key(editor, "g", {"shift"})
    handle_key(editor, "g", {"shift"})
    assert editor.profile.outputs[0].blend.right.gamma == pytest.approx(2.15)
    handle_key(editor, "b")
    handle_key(editor, "b")
    assert editor.profile.outputs[0].color.black_level == pytest.approx((0.004,) * 3)
    assert editor.execute("blend", "right", 120, 3.0)
    assert editor.profile.outputs[0].blend.right.width == 120 and editor.profile.outputs[0].blend.right.curve == 3.0
    assert not editor.execute("blend", "middle", 10) and "side" in editor.message
    assert not editor.execute("blend", "right", 2000) and "refused" in editor.message  # wider than the region
    assert editor.execute("color", "gamma", 1.1, 1.0, 0.9)
    assert editor.profile.outputs[0].color.gamma == (1.1, 1.0, 0.9)
    assert not editor.execute("color", "gamma", 0, 1, 1)


def test_reload_picks_up_hand_edits(editor):
    path = editor.path
    editor.select(point=0)
    editor.nudge(5, 5)
    text = path.read_text().replace("width = 100.0", "width = 50.0", 1)
    path.write_text(text)
    handle_key(editor, "r", {"ctrl"})
    assert editor.message.startswith("reloaded") and not editor.dirty
    assert editor.profile.outputs[0].blend.right.width == 50.0
    assert editor.profile.outputs[0].corners[0] == (0.0, 0.0)
    editor.undo()  # back to the unsaved edit made before the reload
    assert editor.profile.outputs[0].corners[0] == pytest.approx((5 / 1000, 5 / 500))
    path.write_text(text.replace("[[outputs]]", "[[outputz]]", 1))
    assert not editor.reload() and "reload refused" in editor.message
