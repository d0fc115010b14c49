"""`show preview`: the timeline as a strip of real frames with scene names and cue marks; render progress."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from installation.app import build_source
from installation.cli import build_app
from installation.plugins import make_plugin_manager
from installation.show.loader import load_show
from installation.studio import preview as pv
from installation.studio.sheet import read_png, to_uint8

ROOT = Path(__file__).resolve().parents[1]

SHOW = """
[show]
name = "Preview test"
[output]
width = 128
height = 64
fps = 10
[[scenes]]
name = "bikes"
duration = 6
keyframe_rate = 2
transition = 0
[scenes.generator]
plugin = "wgan"
[scenes.walk]
type = "slerp"
seeds = [1, 2]
transition = 2
[[scenes]]
name = "watches"
duration = 4
keyframe_rate = 2
transition = {{ duration = 2, curve = "linear" }}
[scenes.generator]
plugin = "vae"
[[cues]]
name = "open"
scene = "bikes"
[[cues]]
name = "faces"
scene = "watches"
continue = "{cont}"
"""


@pytest.fixture
def show_file(tmp_path) -> Path:
    p = tmp_path / "show.toml"
    p.write_text(SHOW.format(cont="auto-follow"))
    return p


def test_plan_follows_the_timeline_with_crossfades_and_cue_marks(show_file):
    timeline, length = pv.preview_timeline(load_show(show_file))
    assert length == 10
    stops, marks = pv.plan(timeline, 1.0, length)
    assert [s.t for s in stops] == [float(t) for t in range(10)]
    assert [(m.t, m.cue, m.cue_name, m.scene) for m in marks] == [(0.0, 0, "open", "bikes"), (6.0, 1, "faces", "watches")]
    assert [(name, op) for _i, name, _t, op in stops[7].layers] == [("bikes", 1.0), ("watches", 0.5)]  # linear, 1 s into 2
    assert pv.caption(stops[7]) == "0:07 bikes > watches"


def test_a_manual_cue_is_previewed_as_if_go_came_when_its_action_ended(tmp_path):
    p = tmp_path / "manual.toml"
    p.write_text(SHOW.format(cont="manual").replace('name = "open"', 'name = "open"\ncontinue = "manual"'))
    timeline, length = pv.preview_timeline(load_show(p))
    assert length == 10
    _stops, marks = pv.plan(timeline, 1.0, length)
    assert [m.scene for m in marks] == ["bikes", "watches"] and marks[1].t == 6.0


def test_preview_command_draws_real_frames_and_writes_a_page(show_file, tmp_path):
    out, page = tmp_path / "strip.png", tmp_path / "page.html"
    res = CliRunner().invoke(build_app(), ["show", "preview", str(show_file), "--every", "2", "--out", str(out),
                                           "--html", str(page), "--height", "40", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "5 frames every 2 s" in res.output
    img = read_png(out)
    th, tw = 40, 80
    assert img.shape == (pv.GAP + th + pv.LABEL_H + pv.GAP, pv.GAP + 5 * (tw + pv.GAP), 3)
    # the frame at 2 s is bikes' walk at local time 2 s (keyframe 4), cover-fitted
    show = load_show(show_file)
    src = build_source(show.scenes[0], make_plugin_manager(), torch.device("cpu"), show.show.seed)
    want = pv.cover(to_uint8(src.make(4).unsqueeze(0))[0], th, tw)
    x = pv.GAP + 1 * (tw + pv.GAP)
    got = img[pv.GAP:pv.GAP + th, x:x + tw]
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    # cue 2 starts at 6 s: a yellow line at the left of the 6 s thumbnail, none on the 2 s one
    x6 = pv.GAP + 3 * (tw + pv.GAP)
    yellow = lambda region: ((region[..., 0] > 200) & (region[..., 1] > 150) & (region[..., 2] < 80)).any()
    assert yellow(img[pv.GAP:pv.GAP + th, x6:x6 + 3]) and not yellow(img[pv.GAP:pv.GAP + th, x:x + tw])
    text = page.read_text()
    assert text.count("data:image/png;base64,") == 5
    assert "cue 2 faces · watches at 0:06" in text and "<b>0:04</b> bikes" in text


@pytest.mark.gl
@pytest.mark.slow
def test_render_logs_progress_off_a_terminal(tmp_path):
    show = tmp_path / "s.toml"
    show.write_text(SHOW.format(cont="auto-follow"))
    proc = subprocess.run([sys.executable, "-m", "installation", "render", str(show), str(tmp_path / "o.mp4"),
                           "--duration", "1", "--device", "cpu"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "record o.mp4: frames 0/10 (0%)" in proc.stderr and "record o.mp4: frames 10/10 (100%)" in proc.stderr


def test_cue_labels_are_shortened_to_fit_the_thumbnail_not_cut_mid_word():
    from installation.studio.preview import Mark, cue_labels, fit_label

    m = Mark(12.0, 1, "", "storm")
    # a 90 px thumbnail (the default height's width on a square show) took "0:12 cue 2: sto"
    label = fit_label(cue_labels(m), 90 - 4)
    assert label in ("0:12 cue 2: storm", "cue 2: storm")
    assert fit_label(cue_labels(m), 1000) == "0:12 cue 2: storm"
    assert fit_label(cue_labels(Mark(3.0, 0, "dusk", "calm")), 1000) == "0:03 cue 1 dusk: calm"
    assert fit_label(cue_labels(m), 20) and len(fit_label(cue_labels(m), 20)) < len("0:12 cue 2")
