"""Plugin manager: built-ins, a fake plugin from a plugins directory, broken plugins recorded."""
from __future__ import annotations

import textwrap

import pytest

import torch

from installation.plugins import make_plugin_manager

FAKE = '''
import torch
from installation import hookimpl

class Flat:
    latent_dim = 4
    resolution = (8, 8)
    def __init__(self, device, level=0.25):
        self.device = torch.device(device)
        self.level = level
    def generate(self, z):
        return torch.full((z.shape[0], 3, 8, 8), self.level, device=self.device)

@hookimpl
def register_generators():
    return {"flat": lambda checkpoint=None, device="cpu", **opts: Flat(device, **opts)}
'''


def test_builtins_register_through_hooks():
    reg = make_plugin_manager(entry_points_enabled=False)
    assert "noisefield" in reg.generators()
    assert "slerp" in reg.walks()
    assert "levels" in reg.post_processors()
    assert all(info.source == "builtin" for info in reg.info())


def test_fake_plugin_from_directory(tmp_path):
    (tmp_path / "flatplug.py").write_text(textwrap.dedent(FAKE))
    reg = make_plugin_manager(tmp_path, entry_points_enabled=False)
    gen = reg.generators()["flat"](device="cpu", level=0.5)
    out = gen.generate(torch.zeros(2, 4))
    assert out.shape == (2, 3, 8, 8) and float(out.mean()) == 0.5
    sources = {i.name: i.source for i in reg.info()}
    assert sources["flatplug"] == str(tmp_path / "flatplug.py")


def test_broken_plugin_is_recorded_not_fatal(tmp_path):
    (tmp_path / "broken.py").write_text("raise ImportError('missing dependency xyz')\n")
    reg = make_plugin_manager(tmp_path, entry_points_enabled=False)
    assert [f.name for f in reg.failures] == ["broken"]
    assert "xyz" in reg.failures[0].error
    assert "noisefield" in reg.generators()


@pytest.mark.gl
def test_fake_plugin_plays_in_a_show(tmp_path, gl_ctx):
    from installation.app import App
    from installation.clock import FixedStepClock
    from installation.render.compositor import Compositor
    from installation.show.loader import parse_show

    (tmp_path / "flatplug.py").write_text(textwrap.dedent(FAKE))
    reg = make_plugin_manager(tmp_path, entry_points_enabled=False)
    show = parse_show('[output]\nwidth = 16\nheight = 16\n[[scenes]]\nname = "f"\n[scenes.generator]\nplugin = "flat"\nlevel = 0.5\n')
    app = App(show, reg, Compositor(gl_ctx, (16, 16)), FixedStepClock(10))
    app.frame()
    px = app.compositor.read_output()
    assert abs(int(px.mean()) - 128) <= 1
    app.close()
