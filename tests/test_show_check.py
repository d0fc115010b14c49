"""The one show check, driven through the real CLI as an operator would: broken walk options and
weights files are refused by ``show validate``, ``render`` and ``run`` with exit code 1 and
``file:line: field``; relative checkpoints resolve against the show file; a render whose scene
cannot load its model fails naming the scene unless the show asks for the fallback."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WGAN = ROOT / "plugins" / "wgan" / "weights" / "bikes64"

SHOW = """[output]
width = 32
height = 32
fps = 8

[[scenes]]
name = "bikes"
duration = 4
transition = 0
[scenes.generator]
plugin = "wgan"
{generator}
[scenes.walk]
{walk}
"""


def cli(*args, cwd=ROOT, timeout=240):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "installation", *map(str, args)], cwd=cwd, env=env,
                          check=False, capture_output=True, text=True, timeout=timeout)


def write(tmp_path, generator="", walk='type = "slerp"', name="show.toml"):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SHOW.format(generator=generator, walk=walk))
    return path


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().split("\n"), 1) if text in line)


@pytest.mark.parametrize("walk, key, message", [
    ('type = "loop"\nperiod = 0', "period", "must be positive"),
    ('type = "slerp"\nseeds = []', "seeds", "at least one seed"),
    ('type = "slerp"\nseeds = [1, 2, 3]\nhold = [1.0, 2.0]', "hold", "2 entries for 3 seeds"),
    ('type = "slerp"\nease = "bouncy"', "ease", "unknown ease 'bouncy'"),
    ('type = "noise"\noctaves = 0', "octaves", "at least 1"),
    ('type = "random"\nlengthscale = -1', "lengthscale", "must be positive"),
])
def test_validate_refuses_walk_options_that_cannot_play(tmp_path, walk, key, message):
    path = write(tmp_path, walk=walk)
    res = cli("show", "validate", path)
    assert res.returncode == 1, res.stdout + res.stderr
    line = line_of(path, f"{key} =")
    assert f"{path}:{line}: scenes[0].walk.{key}: " in res.stderr and message in res.stderr
    assert "Traceback" not in res.stderr


def _weights(tmp_path, kind: str) -> Path:
    folder = tmp_path / "w"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "bikes64.safetensors"
    shutil.copy(WGAN.with_suffix(".json"), folder / "bikes64.json")
    data = WGAN.with_suffix(".safetensors").read_bytes()
    if kind == "truncated":
        target.write_bytes(data[: len(data) // 3])
    elif kind == "random":
        target.write_bytes(os.urandom(len(data)))
    elif kind == "good":
        target.write_bytes(data)
    return target


@pytest.mark.parametrize("kind, message", [
    ("missing", "file not found"), ("truncated", "truncated"), ("random", "not a safetensors file")])
def test_validate_render_and_run_refuse_broken_weights(tmp_path, kind, message):
    _weights(tmp_path, kind)
    path = write(tmp_path, generator='checkpoint = "w/bikes64.safetensors"')
    where = f"{path}:{line_of(path, 'checkpoint =')}: scenes[0].generator.checkpoint: "
    for args in (("show", "validate", path),
                 ("render", path, tmp_path / "out.mp4", "--duration", "1"),
                 ("run", path, "--headless", "--duration", "1")):
        res = cli(*args)
        assert res.returncode == 1, (args, res.stdout, res.stderr)
        assert where in res.stderr and message in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_relative_checkpoint_resolves_against_the_show_file_not_the_cwd(tmp_path):
    _weights(tmp_path / "venue", "good")
    path = write(tmp_path / "venue", generator='checkpoint = "w/bikes64.safetensors"')
    res = cli("show", "validate", path)  # run from the repository root, not the show's folder
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr
    out = tmp_path / "out.mp4"
    res = cli("render", path, out, "--duration", "1", "-v")
    assert res.returncode == 0, res.stderr
    assert "fault" not in res.stderr and out.stat().st_size > 0


def test_render_fails_naming_the_scene_whose_model_cannot_load_unless_fallback(tmp_path):
    """Weights that look whole but are another model's (a StyleGAN2 scene given the WGAN file):
    the header check passes, the real loader refuses, the render played the fallback, so it exits
    1 naming the scene; with on_error = "fallback" the same render succeeds."""
    _weights(tmp_path, "good")
    path = tmp_path / "show.toml"
    path.write_text(SHOW.format(generator='checkpoint = "w/bikes64.safetensors"', walk='type = "slerp"')
                    .replace('plugin = "wgan"', 'plugin = "stylegan2"'))
    out = tmp_path / "out.mp4"
    res = cli("render", path, out, "--duration", "1")
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{path}:{line_of(path, '[scenes.generator]')}: scenes[0].generator: scene 'bikes' could not load its model" in res.stderr
    assert 'on_error = "fallback"' in res.stderr and "rendered" not in res.stdout
    path.write_text('[show]\non_error = "fallback"\n' + path.read_text())
    res = cli("render", path, out, "--duration", "1")
    assert res.returncode == 0, res.stderr
    assert "rendered 8 frames" in res.stdout and out.stat().st_size > 0


PROBING_PLUGIN = '''
from installation import hookimpl


def make(checkpoint=None, device="cpu", **options):
    raise RuntimeError("never built by validate")


def probe(path):
    if path.read_bytes()[:4] != b"MINE":
        raise ValueError(f"{path.name} is not a MINE model (wrong magic)")


make.probe = probe


@hookimpl
def register_generators():
    return {"mine": make}
'''


def test_a_generator_probe_judges_its_own_weights(tmp_path):
    """A factory's ``probe(path)`` is asked instead of the header read: its verdict is printed at
    the checkpoint's line; a file it accepts passes (in a format the generic check cannot read)."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "mine.py").write_text(PROBING_PLUGIN)
    (tmp_path / "good.mine").write_bytes(b"MINE" + os.urandom(64))
    (tmp_path / "bad.mine").write_bytes(b"NOPE" + os.urandom(64))
    path = tmp_path / "show.toml"
    for name, code in (("bad.mine", 1), ("good.mine", 0)):
        path.write_text(SHOW.format(generator=f'checkpoint = "{name}"', walk='type = "slerp"').replace('"wgan"', '"mine"'))
        res = cli("show", "validate", path, "--plugins-dir", plugins)
        assert res.returncode == code, res.stdout + res.stderr
    path.write_text(SHOW.format(generator='checkpoint = "bad.mine"', walk='type = "slerp"').replace('"wgan"', '"mine"'))
    res = cli("show", "validate", path, "--plugins-dir", plugins)
    assert f"{path}:{line_of(path, 'checkpoint =')}: scenes[0].generator.checkpoint: weights cannot be used: " \
           "bad.mine is not a MINE model (wrong magic)" in res.stderr
