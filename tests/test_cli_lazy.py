"""``installation --help`` imports no sub-command, no torch and no plugin; the error boundary prints
problems and missing parts of the machine as lines, never a traceback.

The child processes run ``python3 -m installation ...`` from the worktree root with a
``sitecustomize`` on their path that writes ``sorted(sys.modules)`` to a file at exit: that sees
modules imported by ``importlib.import_module`` too, which ``-X importtime`` does not list.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import typer
from typer.testing import CliRunner

from installation.cli import COMMANDS, LazyGroup, build_app

REPO = Path(__file__).resolve().parents[1]


SITECUSTOMIZE = """
import atexit, os, sys

def _dump():
    with open(os.environ["MODULES_DUMP"], "w") as f:
        f.write("\\n".join(sorted(sys.modules)))

atexit.register(_dump)
"""


def run_cli(tmp_path: Path, *args: str, pythonpath: Path | None = None) -> tuple[subprocess.CompletedProcess, set[str]]:
    probe = tmp_path / "probe"
    probe.mkdir(exist_ok=True)
    (probe / "sitecustomize.py").write_text(SITECUSTOMIZE)
    dump = tmp_path / "modules.txt"
    paths = [str(probe)] + ([str(pythonpath)] if pythonpath else []) + [p for p in [os.environ.get("PYTHONPATH")] if p]
    env = dict(os.environ, COLUMNS="200", MODULES_DUMP=str(dump), PYTHONPATH=os.pathsep.join(paths))
    proc = subprocess.run([sys.executable, "-m", "installation", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc, set(dump.read_text().split("\n"))


def heavy(imported: set[str]) -> list[str]:
    return sorted(m for m in imported if m.split(".")[0] in ("torch", "plugins", "moderngl", "cv2", "av")
                  or m in ("installation.plugins", "installation.app", "installation.runner")
                  or m.startswith("installation.cli."))


def test_help_imports_no_torch_no_plugins_no_subcommand(tmp_path):
    proc, imported = run_cli(tmp_path, "--help")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in COMMANDS:
        assert f" {name} " in proc.stdout
    assert "installation.cli" in imported  # the measurement sees the package's own modules
    assert heavy(imported - {"installation.cli.common"}) == []


def test_a_subcommand_still_loads_when_used(tmp_path):
    proc, imported = run_cli(tmp_path, "show", "--help")
    assert proc.returncode == 0 and "validate" in proc.stdout
    assert "installation.cli.show" in imported and "torch" not in imported


FAKE_CLI = '''
import typer

def register(app):
    sub = typer.Typer(help="Greetings from a fake plugin.", no_args_is_help=True)

    @sub.command("greet")
    def greet(name: str = "world"):
        """Say hello."""
        typer.echo(f"hello {name}")

    app.add_typer(sub, name="hello")


def register_broken(app):
    import zzz_optional_dependency  # not installed: the boundary names it in one line
'''


def fake_plugin(tmp_path: Path) -> Path:
    """A distribution on PYTHONPATH whose entry points advertise two sub-commands."""
    (tmp_path / "fakecmd_pkg").mkdir()
    (tmp_path / "fakecmd_pkg" / "__init__.py").write_text("")
    (tmp_path / "fakecmd_pkg" / "cli.py").write_text(FAKE_CLI)
    dist = tmp_path / "fakecmd-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakecmd\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""
        [installation.commands]
        hello = fakecmd_pkg.cli:register
        broken = fakecmd_pkg.cli:register_broken
    """))
    return tmp_path


def test_plugin_commands_are_listed_from_metadata_and_imported_only_when_run(tmp_path):
    path = fake_plugin(tmp_path)
    proc, imported = run_cli(tmp_path, "--help", pythonpath=path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "hello" in proc.stdout and "fakecmd_pkg.cli" in proc.stdout
    assert not any(m.startswith("fakecmd_pkg") for m in imported)
    proc, imported = run_cli(tmp_path, "hello", "greet", "--name", "gallery", pythonpath=path)
    assert proc.returncode == 0 and proc.stdout.strip() == "hello gallery"
    assert "fakecmd_pkg.cli" in imported


def test_a_missing_package_is_one_line_not_a_traceback(tmp_path):
    proc, _ = run_cli(tmp_path, "broken", pythonpath=fake_plugin(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["this command needs the Python package 'zzz_optional_dependency', which is not installed: "
                      "install 'zzz_optional_dependency' in this Python environment"]


def test_listed_summaries_are_the_commands_own():
    group = typer.main.get_group(build_app())
    assert isinstance(group, LazyGroup)
    for name, (_module, summary) in COMMANDS.items():
        cmd = group.get_command(None, name)
        assert cmd is not None and (cmd.help or "").strip().splitlines()[0] == summary, name


def test_entry_points_in_pyproject_match_the_plugins_commands():
    """Each plugin command reachable through the register_commands hook is advertised, and vice versa."""
    from installation.plugins import make_plugin_manager

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["installation.commands"]
    scratch = typer.Typer()
    make_plugin_manager().hook.register_commands(app=scratch)
    assert set(declared) == set(typer.main.get_group(scratch).commands)
    for name, value in declared.items():
        module, _, func = value.partition(":")
        one = typer.Typer()
        getattr(__import__(module, fromlist=[func]), func)(one)
        assert set(typer.main.get_group(one).commands) == {name}


def test_unwritable_output_is_one_line(tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "schema.json"
    res = CliRunner().invoke(build_app(), ["show", "schema", "--out", str(out)])
    assert res.exit_code == 1
    assert res.output.strip() == f"{out}: No such file or directory"
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_missing_profile_is_a_located_problem(tmp_path):
    res = CliRunner().invoke(build_app(), ["calibrate", str(tmp_path / "absent.toml"), "--check"])
    assert res.exit_code == 1
    assert res.output.strip() == f"{tmp_path / 'absent.toml'}: <file>: cannot read: No such file or directory"


FAKE_MIDO_WITHOUT_ALSA = '''
class SystemError(Exception):  # the shape of rtmidi's error when ALSA is missing
    pass

def get_input_names():
    raise SystemError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")
'''


def test_midi_ports_without_mido_or_without_alsa_is_one_line(tmp_path):
    proc, imported = run_cli(tmp_path, "osc", "midi-ports")
    if "mido" not in imported:  # this machine: mido is not installed
        assert proc.returncode == 2 and proc.stderr.splitlines() == [
            "MIDI input needs mido and a backend: pip install 'installation[midi]'"]
    fake = tmp_path / "fake_mido"
    fake.mkdir()
    (fake / "mido.py").write_text(FAKE_MIDO_WITHOUT_ALSA)
    proc, _ = run_cli(tmp_path, "osc", "midi-ports", pythonpath=fake)
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        "no MIDI system to list ports from (SystemError: MidiInAlsa::initialize: error creating ALSA sequencer "
        "client object); MIDI needs ALSA's sequencer /dev/snd/seq (Linux) or CoreMIDI/WinMM, and the midi extra"]


def test_no_display_is_one_line(tmp_path):
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}
    res = CliRunner().invoke(build_app(), ["calibrate", str(tmp_path / "c.toml"), "--init", "64x64"], env=env)
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit)  # the boundary's exit, not a crash
    assert res.output.splitlines() == [f"created {tmp_path / 'c.toml'}",
                                       "no display: live calibration needs a screen (or Xvfb); use --snapshot DIR to "
                                       "render the outputs to images headless, --check to validate"]
