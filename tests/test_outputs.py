"""Outputs are plugins: a third-party output from --plugins-dir gets every frame of a fixed-step
render with the right pixels; several outputs share one drawn frame and one readback; bad
outputs are named in the error."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from installation.output.video import read_video

PLUGINS = Path(__file__).parent / "output_plugins"


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "installation", *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def with_outputs(small_show: Path, body: str) -> Path:
    path = small_show.with_name("outputs.toml")
    path.write_text(small_show.read_text() + textwrap.dedent(body))
    return path


def read_capture(path: Path):
    lines = path.with_suffix(".log").read_text().splitlines()
    _, w, h, _, fps = lines[0].split()
    rows = [line.split() for line in lines[1:]]
    raw = np.fromfile(path, np.uint8).reshape(len(rows), int(h), int(w), 3)
    return raw, [(int(i), float(t), int(n), int(a)) for i, t, n, a in rows], float(fps)


def reference_frames(show_path: Path, n: int, start: float, fps: float) -> list[np.ndarray]:
    """The same frames drawn by the app alone (no runner, no outputs), read from the compositor."""
    from installation.app import App
    from installation.clock import FixedStepClock
    from installation.plugins import make_plugin_manager
    from installation.render.compositor import Compositor
    from installation.render.context import create_headless_context
    from installation.show.loader import load_show

    show = load_show(show_path)
    ctx = create_headless_context()
    comp = Compositor(ctx, (show.output.width, show.output.height))
    app = App(show, make_plugin_manager(entry_points_enabled=False), comp, FixedStepClock(fps, start=start))
    try:
        out = []
        for _ in range(n):
            app.frame()
            out.append(comp.read_output().copy())
        return out
    finally:
        app.close()
        ctx.release()


@pytest.mark.gl
def test_plugin_output_from_plugins_dir_gets_every_frame_with_the_right_pixels(small_show, tmp_path):
    show = with_outputs(small_show, """
        [[outputs]]
        type = "capture"
        path = "captured.rgb"
    """)
    res = cli("render", show, tmp_path / "out.mp4", "--from", "1.5", "--duration", "1.5", "--plugins-dir", PLUGINS,
              "--device", "cpu")
    assert res.returncode == 0, res.stderr
    frames, log, fps = read_capture(tmp_path / "captured.rgb")   # relative to the show file
    assert fps == 12 and len(frames) == 18                          # 1.5 s at 12 fps: every frame
    assert [i for i, *_ in log] == list(range(18))
    assert [t for _, t, *_ in log] == pytest.approx([1.5 + i / 12 for i in range(18)])
    reference = reference_frames(show, 18, 1.5, 12)
    for k, (got, want) in enumerate(zip(frames, reference)):
        assert np.array_equal(got, want), f"frame {k} differs"
    assert len({f.tobytes() for f in frames}) > 10                  # the pixels really move (and cross scenes)
    video, _ = read_video(tmp_path / "out.mp4")                     # the recording beside it shows the same
    assert len(video) == 18 and np.abs(video[9].astype(int) - frames[9]).mean() < 8  # H.264 4:2:0


@pytest.mark.gl
def test_several_outputs_share_one_frame_and_one_readback(small_show, tmp_path):
    show = with_outputs(small_show, """
        [[outputs]]
        type = "capture"
        path = "a.rgb"
        [[outputs]]
        type = "record"
        path = "show.mp4"
        [[outputs]]
        type = "capture"
        path = "b.rgb"
    """)
    res = cli("run", show, "--headless", "--record", tmp_path / "cli.mp4", "--duration", "1", "--plugins-dir", PLUGINS,
              "--device", "cpu")
    assert res.returncode == 0, res.stderr
    a, log_a, _ = read_capture(tmp_path / "a.rgb")
    b, log_b, _ = read_capture(tmp_path / "b.rgb")
    assert len(a) == len(b) == 12 and np.array_equal(a, b)
    assert all(n == 1 for *_, n, _ in log_a + log_b)                 # one GL readback per frame, however many outputs
    assert [x[3] for x in log_a] == [x[3] for x in log_b]            # the same array handed to both
    shown, _ = read_video(tmp_path / "show.mp4")
    recorded, _ = read_video(tmp_path / "cli.mp4")
    assert len(shown) == len(recorded) == 12
    assert all(np.array_equal(x, y) for x, y in zip(shown, recorded))  # [[outputs]] record and --record agree


@pytest.mark.gl
def test_output_open_error_names_the_output(small_show, tmp_path):
    show = with_outputs(small_show, """
        [[outputs]]
        type = "capture"
        path = "x.rgb"
        fail_open = true
    """)
    res = cli("render", show, tmp_path / "out.mp4", "--duration", "0.5", "--plugins-dir", PLUGINS, "--device", "cpu")
    assert res.returncode == 1
    assert "[[outputs]] #1 (capture)" in res.stderr and "permission denied" in res.stderr
    assert "Traceback" not in res.stderr


def test_record_output_to_a_path_that_cannot_be_written_names_it(small_show, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    res = cli("render", small_show, blocker / "out.mp4", "--duration", "0.5", "--device", "cpu")
    assert res.returncode == 1
    assert str(blocker / "out.mp4") in res.stderr and "not a folder" in res.stderr  # refused before anything is drawn
    assert "Traceback" not in res.stderr


def test_unknown_output_type_lists_the_available_ones(small_show, tmp_path):
    show = with_outputs(small_show, '[[outputs]]\ntype = "holograph"\n')
    res = cli("render", show, tmp_path / "out.mp4", "--duration", "0.5", "--device", "cpu")
    assert res.returncode == 1
    assert "unknown output type 'holograph'" in res.stderr and "record" in res.stderr and "window" in res.stderr


def test_two_windows_in_one_process_are_refused_before_opening(small_show):
    # refused while building, before any window opens (the CLI run is in test_window.py, under Xvfb)
    from installation.output.setup import build_outputs, select_outputs
    from installation.plugins import make_plugin_manager
    from installation.render.context import NoDisplayError
    from installation.show.loader import load_show

    show = load_show(with_outputs(small_show, '[[outputs]]\ntype = "window"\n[[outputs]]\ntype = "window"\ndisplay = 1\n'))
    with pytest.raises(NoDisplayError, match="2 window outputs.*one `installation run` per window"):
        build_outputs(select_outputs(show), make_plugin_manager(entry_points_enabled=False).outputs())


def test_headless_drops_windows_and_record_adds_one(small_show, tmp_path):
    from installation.output.setup import select_outputs
    from installation.show.loader import load_show

    show = load_show(with_outputs(small_show, '[[outputs]]\ntype = "window"\nfullscreen = true\n'
                                              '[[outputs]]\ntype = "record"\npath = "a.mp4"\n'))
    assert [s.type for s in select_outputs(show)] == ["window", "record"]
    assert [s.type for s in select_outputs(show, headless=True, record=tmp_path / "b.mp4")] == ["record", "record"]
    plain = load_show(small_show)
    assert [s.type for s in select_outputs(plain)] == ["window"]          # no [[outputs]]: one window
    assert select_outputs(plain, headless=True) == []                      # headless is added when built
    assert select_outputs(plain, fullscreen=True, display=1)[0].options == {"display": 1, "fullscreen": True}


def test_builtin_output_options_are_checked_with_the_show(small_show):
    from installation.show.loader import ShowError, load_show

    with pytest.raises(ShowError, match=r"outputs\[0\]: window output: fulscreen"):
        load_show(with_outputs(small_show, '[[outputs]]\ntype = "window"\nfulscreen = true\n'))


def test_a_plugin_output_missing_a_method_is_named():
    from installation.output.base import OutputError
    from installation.output.setup import OutputSlot, build_outputs

    class NoWrite:
        def open(self, canvas): ...
        def close(self): ...

    with pytest.raises(OutputError, match=r"\[\[outputs\]\] #1 \(half\): the 'half' plugin's output has no write"):
        build_outputs([OutputSlot("[[outputs]] #1 (half)", "half")], {"half": NoWrite})
