"""The CLI through typer's runner: help, plugins listing, the no-display message, a headless run."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from installation.cli import build_app
from installation.output.video import read_video

runner = CliRunner()


def invoke(*args, env=None):
    return runner.invoke(build_app(), list(args), env=env)


def test_help_lists_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for cmd in ("run", "plugins", "train"):
        assert cmd in result.output


def test_run_help_explains_each_option():
    result = invoke("run", "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for opt in ("--headless", "--fullscreen", "--display", "--record", "--duration", "--device"):
        assert opt in result.output


def test_plugins_lists_builtins_and_sources():
    result = invoke("plugins", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "noisefield" in result.output and "builtin" in result.output


def test_run_without_display_offers_headless(small_show):
    result = invoke("run", str(small_show), env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert result.exit_code == 2
    assert "--headless" in result.output


@pytest.mark.gl
def test_run_headless_records_video(small_show, tmp_path):
    out = tmp_path / "run.mp4"
    result = invoke("run", str(small_show), "--headless", "--record", str(out), "--duration", "1", "--device", "cpu")
    assert result.exit_code == 0, result.output
    frames, _ = read_video(out)
    assert len(frames) == 12 and frames[0].shape == (64, 96, 3)


def test_broken_show_names_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[output]\nwidht = 100\n\n[[scenes]]\nname = "x"\n[scenes.generator]\nplugin = "noisefield"\n')
    result = invoke("run", str(bad), "--headless", "--duration", "1")
    assert result.exit_code == 1
    assert f"{bad}:2: output.widht: unknown key (did you mean 'width'?)" in result.output


def test_unknown_device_is_refused(small_show):
    result = invoke("run", str(small_show), "--headless", "--device", "tpu")
    assert result.exit_code != 0 and "device" in result.output
