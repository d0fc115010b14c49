"""End to end: a show rendered headless to H.264, decoded back; fixed-step renders are identical."""
from __future__ import annotations

import numpy as np
import pytest

from installation.output.video import read_video
from installation.runner import RunOptions, run_show


def render(show, path, duration=2.0, start=0.0):
    stats = run_show(RunOptions(show=show, headless=True, record=path, duration=duration, start=start))
    frames, fps = read_video(path)
    return stats, frames, fps


@pytest.mark.gl
def test_recorded_video_has_the_frames_size_and_motion(small_show, tmp_path):
    stats, frames, fps = render(small_show, tmp_path / "a.mp4", duration=2.5)
    assert stats.frames == 30 and len(frames) == 30
    assert fps == 12
    assert frames[0].shape == (64, 96, 3)
    diffs = [np.abs(frames[i].astype(int) - frames[0]).mean() for i in (1, 10, 29)]
    assert 0 < diffs[0] < diffs[1]  # smooth: a small change between neighbours, more over time
    assert diffs[2] > 5  # the content really moves
    assert frames[5].std() > 5  # not a flat colour


@pytest.mark.gl
def test_fixed_step_renders_are_frame_for_frame_identical(small_show, tmp_path):
    _, first, _ = render(small_show, tmp_path / "a.mp4", duration=3.0)
    _, second, _ = render(small_show, tmp_path / "b.mp4", duration=3.0)
    assert len(first) == len(second) == 36
    for x, y in zip(first, second):
        assert np.array_equal(x, y)


@pytest.mark.gl
def test_scene_transition_is_visible(small_show, tmp_path):
    # scene two starts at 2 s with a 0.5 s crossfade: frames during the fade differ from both ends
    _, frames, _ = render(small_show, tmp_path / "t.mp4", duration=3.0)
    before, during, after = frames[23].astype(int), frames[27].astype(int), frames[31].astype(int)
    assert np.abs(during - before).mean() > 1 and np.abs(after - during).mean() > 1
