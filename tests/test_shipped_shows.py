"""Every show the project ships passes the same check `run` and `render` make, from the real CLI.

The curator's timeline once failed it: the check builds walks with a stand-in 16-d latent, and the
posterior walk's shipped 200-d watch bank refused that size, so `installation run
shows/curator-timeline.toml` stopped before its first frame while the unit tests (which built the
scene with its real model) passed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHOWS = sorted((ROOT / "shows").glob("*.toml"))


@pytest.mark.parametrize("show", SHOWS, ids=[p.stem for p in SHOWS])
def test_shipped_show_passes_the_cli_check(show):
    done = subprocess.run(
        [sys.executable, "-m", "installation", "show", "validate", str(show)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert ": ok (" in done.stdout


def test_a_bank_of_the_wrong_size_is_still_refused_when_the_scene_is_built(tmp_path):
    """The check leaves the size to the build; the build, which knows the model, refuses it."""
    from installation.app import build_source
    from installation.plugins import make_plugin_manager
    from installation.show.loader import load_show
    from installation.engine.build import SceneLoadError

    text = (ROOT / "shows" / "curator-timeline.toml").read_text()
    show_file = tmp_path / "wrong.toml"
    # the watch bank (200-d) under the waves model (128-d)
    show_file.write_text(text.replace('plugin = "vae"', 'plugin = "stylegan2"', 1))
    done = subprocess.run(
        [sys.executable, "-m", "installation", "show", "validate", str(show_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr  # the static check cannot know the model's size
    show = load_show(show_file)
    scene = next(s for s in show.scenes if s.walk.type == "posterior")
    with pytest.raises(SceneLoadError, match="watch-bank.safetensors: latents are 200-d but the generator takes 128-d"):
        build_source(scene, make_plugin_manager(), torch.device("cpu"), show.show.seed)
