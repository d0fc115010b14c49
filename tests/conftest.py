"""Shared fixtures.  GL tests use a real EGL context (Mesa llvmpipe in CI) and are never skipped:
if no context can be made the test fails, because a skipped GL test proves nothing."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@pytest.fixture(scope="session")
def gl_ctx():
    from installation.render.context import create_headless_context

    ctx = create_headless_context()
    yield ctx
    ctx.release()


SMALL_SHOW = """
[show]
name = "test show"
seed = 3

[output]
width = 96
height = 64
fps = 12

[[scenes]]
name = "one"
duration = 2
keyframe_rate = 4
transition = 0
[scenes.generator]
plugin = "noisefield"
size = 32
[scenes.walk]
type = "slerp"
seeds = [1, 2]
transition = 1

[[scenes]]
name = "two"
duration = 2
keyframe_rate = 3
transition = 0.5
[scenes.generator]
plugin = "noisefield"
size = 48
seed = 5
[scenes.walk]
type = "slerp"
seeds = [7, 8, 9]
transition = 0.7
"""


@pytest.fixture
def small_show(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(textwrap.dedent(SMALL_SHOW))
    return path


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """One torch thread for the whole suite: the test models are tiny, and on a shared 2-core CI
    machine two threads contend and make small convolutions many times slower, not faster."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
