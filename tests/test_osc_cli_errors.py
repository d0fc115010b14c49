"""`installation osc map` and `installation osc midi-ports` through the real CLI (a subprocess):
a show without a [control] table maps like one with an empty table, and a machine without a
MIDI system (no ALSA sequencer, as in CI containers) gets one line and a non-zero exit status."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from installation.cli import build_app

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "installation", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_osc_map_json_of_a_show_without_control_table(small_show, tmp_path):
    bare = small_show
    assert "[control]" not in bare.read_text()
    empty = tmp_path / "empty-control.toml"
    empty.write_text(bare.read_text() + "\n[control]\n")

    got = cli("osc", "map", str(bare), "--json")
    assert got.returncode == 0, got.stderr
    rows = json.loads(got.stdout)
    addresses = {r["address"] for r in rows}
    assert "/scene/next" in addresses and "/walk/speed" in addresses
    ref = CliRunner().invoke(build_app(), ["osc", "map", str(empty), "--json"])
    assert ref.exit_code == 0, ref.output
    assert rows == json.loads(ref.stdout)

    text = cli("osc", "map", str(bare))
    assert text.returncode == 0, text.stderr
    assert "OSC in on 0.0.0.0:9000" in text.stdout.splitlines()[0]


def _one_line_failure(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_midi_ports_without_a_midi_system_is_one_line():
    """The machine's own MIDI stack: with python-rtmidi and no /dev/snd/seq this is ALSA failing
    for real; without python-rtmidi it is mido's missing backend; with ALSA it lists ports."""
    has_rtmidi = importlib.util.find_spec("rtmidi") is not None
    proc = cli("osc", "midi-ports")
    if has_rtmidi and os.path.exists("/dev/snd/seq"):
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        return
    line = _one_line_failure(proc)
    if has_rtmidi:
        assert line.startswith("no MIDI system") and "ALSA" in line
    else:
        assert "installation[midi]" in line or "midi extra" in line


def test_midi_ports_folds_the_backends_own_stderr_into_the_line(tmp_path):
    """A backend that fails the way python-rtmidi does without ALSA: libasound writes to fd 2 and
    rtmidi raises an OSError.  Both become the one line."""
    pytest.importorskip("mido")  # the test extra has it
    (tmp_path / "noseq_backend.py").write_text(
        textwrap.dedent("""
        import os

        def get_devices(**kwargs):
            os.write(2, b"ALSA lib seq_hw.c:466:(snd_seq_hw_open) open /dev/snd/seq failed\\n")
            raise OSError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")
    """)
    )
    path = [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {"MIDO_BACKEND": "noseq_backend", "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    line = _one_line_failure(cli("osc", "midi-ports", env=env))
    assert line.startswith("no MIDI system") and "MidiInAlsa::initialize" in line
    assert "open /dev/snd/seq failed" in line
