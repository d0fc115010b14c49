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


# -- registration checks: real plugin files loaded through a plugins directory ----------------------

def plugin_dir(tmp_path, **files: str):
    for name, source in files.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    return tmp_path


FLAT_LEVEL = FAKE.replace("from installation import hookimpl", "from installation.api import hookimpl")


def test_shipped_and_builtin_plugins_register_cleanly():
    reg = make_plugin_manager()
    assert reg.failures == []
    assert {"stylegan2", "vae", "wgan", "noisefield"} <= set(reg.generators())
    assert reg.owner("generators", "stylegan2") == "stylegan2" and reg.owner("walks", "slerp") == "walks"


def test_a_name_registered_twice_is_an_error_naming_both_plugins(tmp_path):
    second = FLAT_LEVEL.replace("self.level = level", "self.level = 1 - level")
    d = plugin_dir(tmp_path, flat_a=FLAT_LEVEL, flat_b=second)
    reg = make_plugin_manager(d, entry_points_enabled=False)
    [failure] = reg.failures
    assert failure.name == "flat_b" and failure.names == ("flat",)
    assert "generator 'flat' is registered by both plugin 'flat_a'" in failure.error
    assert str(d / "flat_a.py") in failure.error and str(d / "flat_b.py") in failure.error
    out = reg.generators()["flat"](device="cpu", level=0.25).generate(torch.zeros(1, 4))
    assert float(out.mean()) == 0.25  # the first registered keeps the name
    assert reg.owner("generators", "flat") == "flat_a"


def test_a_plugins_dir_file_cannot_take_a_builtin_name(tmp_path):
    d = plugin_dir(tmp_path, mynoise=FLAT_LEVEL.replace('"flat"', '"noisefield"'))
    reg = make_plugin_manager(d, entry_points_enabled=False)
    [failure] = reg.failures
    assert "both plugin 'noisefield' (builtin) and plugin 'mynoise'" in failure.error
    assert reg.owner("generators", "noisefield") == "noisefield"


def test_a_plugin_file_named_like_a_loaded_plugin_is_refused(tmp_path):
    d = plugin_dir(tmp_path, walks=FLAT_LEVEL)
    reg = make_plugin_manager(d, entry_points_enabled=False)
    [failure] = reg.failures
    assert failure.name == "walks" and "already registered from builtin" in failure.error
    assert "flat" not in reg.generators()


MISSING_METHOD = '''
import torch
from installation.api import hookimpl

class Half:
    latent_dim = 4
    def __init__(self, checkpoint=None, device="cpu"):
        self.device = torch.device(device)
    def render(self, z):
        return torch.zeros(z.shape[0], 3, 8, 8)

class NoProcess:
    def __init__(self, device="cpu"):
        pass

@hookimpl
def register_generators():
    return {"half": Half}

@hookimpl
def register_post_processors():
    return {"noproc": NoProcess}
'''


def test_a_class_missing_a_protocol_method_is_refused_at_registration(tmp_path):
    d = plugin_dir(tmp_path, half=MISSING_METHOD)
    reg = make_plugin_manager(d, entry_points_enabled=False)
    errors = sorted(f.error for f in reg.failures)
    assert errors == [
        f"generator 'half' of plugin 'half' ({d / 'half.py'}) does not implement Generator: class Half lacks generate()",
        f"post stage 'noproc' of plugin 'half' ({d / 'half.py'}) does not implement PostProcessor: class NoProcess lacks process()",
    ]
    assert "half" not in reg.generators() and "noproc" not in reg.post_processors()


BUILT_INCOMPLETE = '''
import torch
from installation.api import hookimpl

class Partial:
    latent_dim = "four"
    def __init__(self, device):
        self.device = torch.device(device)

@hookimpl
def register_generators():
    return {"partial": lambda checkpoint=None, device="cpu", **options: Partial(device)}
'''


def test_what_a_factory_builds_is_checked_naming_plugin_and_members(tmp_path):
    from installation.api import ContractError

    d = plugin_dir(tmp_path, partial=BUILT_INCOMPLETE)
    reg = make_plugin_manager(d, entry_points_enabled=False)
    assert reg.failures == []  # a lambda's product is only known once built
    with pytest.raises(ContractError) as err:
        reg.generators()["partial"](checkpoint=None, device="cpu")
    assert str(err.value) == (f"generator 'partial' of plugin 'partial' ({d / 'partial.py'}) does not implement Generator: "
                              "its Partial lacks generate(), latent_dim (an int, got str), resolution")
    assert isinstance(err.value, TypeError)  # scene building treats it as a bad plugin, like any TypeError


def test_a_scene_with_a_contract_breaking_generator_fails_with_the_plugin_named(tmp_path):
    from installation.app import SceneLoadError, build_source
    from installation.show.loader import parse_show

    d = plugin_dir(tmp_path, partial=BUILT_INCOMPLETE)
    reg = make_plugin_manager(d, entry_points_enabled=False)
    show = parse_show('[[scenes]]\nname = "p"\n[scenes.generator]\nplugin = "partial"\n')
    with pytest.raises(SceneLoadError, match=r"scene 'p'.*plugin 'partial'.*lacks generate\(\)"):
        build_source(show.scenes[0], reg, torch.device("cpu"))


BAD_SHAPES = '''
from installation.api import hookimpl

def gen_without_device(size=8):
    raise AssertionError("never built")

def maker(out_dir):
    return []

@hookimpl
def register_generators():
    return {"nodevice": gen_without_device, "": gen_without_device, "notcallable": 42}

@hookimpl
def register_datasets():
    return {"onearg": maker}

@hookimpl
def register_walks():
    return ["slerp"]

@hookimpl
def register_inputs():
    raise RuntimeError("no hardware here")
'''


def test_malformed_contributions_are_refused_one_by_one(tmp_path):
    d = plugin_dir(tmp_path, shapes=BAD_SHAPES, flat=FLAT_LEVEL)
    reg = make_plugin_manager(d, entry_points_enabled=False)
    where = f"plugin 'shapes' ({d / 'shapes.py'})"
    errors = sorted(f.error for f in reg.failures)
    assert errors == sorted([
        f"generator 'nodevice' of {where}: its factory does not take checkpoint=, device= "
        "(it is called as factory(checkpoint=..., device=..., **options))",
        f"generator name '' of {where} is not a non-empty string",
        f"generator 'notcallable' of {where} is int, not a factory (a class or function)",
        f"data set 'onearg' of {where}: its factory takes 1 positional argument(s), the runtime passes 4",
        "register_walks() returned list, expected a mapping {name: factory}",
        "register_inputs() raised RuntimeError: no hardware here",
    ])
    assert all(f.name == "shapes" and f.source == str(d / "shapes.py") for f in reg.failures)
    assert "flat" in reg.generators() and "slerp" in reg.walks() and "osc" in reg.inputs()  # the rest goes on


def test_a_misspelt_hook_refuses_that_plugin_only(tmp_path):
    typo = FLAT_LEVEL.replace("def register_generators", "def register_generator")
    d = plugin_dir(tmp_path, typo=typo, flat2=FLAT_LEVEL.replace('"flat"', '"flat2"'))
    reg = make_plugin_manager(d, entry_points_enabled=False)
    [failure] = reg.failures
    assert failure.name == "typo" and "register_generator" in failure.error
    assert "flat2" in reg.generators()


def test_checked_factories_keep_their_signature():
    import inspect

    reg = make_plugin_manager(entry_points_enabled=False)
    assert "seeds" in inspect.signature(reg.walks()["slerp"]).parameters
    assert list(inspect.signature(reg.generators()["noisefield"]).parameters) == ["checkpoint", "device", "options"]


def test_plugins_command_lists_the_failures(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    second = FLAT_LEVEL.replace("self.level = level", "self.level = 1 - level")
    d = plugin_dir(tmp_path, flat_a=FLAT_LEVEL, flat_b=second, half=MISSING_METHOD)
    out = subprocess.run([sys.executable, "-m", "installation", "plugins", "--plugins-dir", str(d)],
                         cwd=Path(__file__).parent.parent, capture_output=True, text=True, env={"COLUMNS": "400", "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert "failed flat_b" in out.stdout and "generator 'flat' is registered by both plugin 'flat_a'" in out.stdout
    assert "class Half lacks generate()" in out.stdout


def test_registering_later_collects_again_without_repeating_failures(tmp_path):
    import importlib.util

    d = plugin_dir(tmp_path, half=MISSING_METHOD)
    reg = make_plugin_manager(d, entry_points_enabled=False)
    assert len(reg.failures) == 2 and len(reg.failures) == 2  # reading twice does not add
    (tmp_path / "later").mkdir()
    path = plugin_dir(tmp_path / "later", late=FLAT_LEVEL.replace('"flat"', '"late"')) / "late.py"
    spec = importlib.util.spec_from_file_location("late_plugin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reg.register(module, "late", str(path))
    assert "late" in reg.generators() and len(reg.failures) == 2
