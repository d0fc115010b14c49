"""Plugins in plugins/ import only ``installation.api``; every name it exports resolves; it stays light."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import installation.api as api

ROOT = Path(__file__).parent.parent
PLUGIN_FILES = sorted((ROOT / "plugins").rglob("*.py"))
ALLOWED = "installation.api"


def forbidden_imports(source: str, filename: str = "<plugin>") -> list[str]:
    """``"file:line: import X"`` for every import of ``installation`` other than ``installation.api``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "installation":
                names = [f"installation.{a.name}" for a in node.names]
            else:
                names = [node.module]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")):
            names = [node.args[0].value]
        for name in names:
            if (name == "installation" or name.startswith("installation.")) and name != ALLOWED:
                found.append(f"{filename}:{node.lineno}: imports {name}")
    return found


def test_there_are_plugin_files():
    assert len(PLUGIN_FILES) >= 20 and {p.parent.name for p in PLUGIN_FILES} >= {"stylegan2", "vae", "wgan", "superres"}


def test_plugins_import_only_the_public_api():
    problems = [p for path in PLUGIN_FILES for p in forbidden_imports(path.read_text(), str(path.relative_to(ROOT)))]
    assert not problems, "plugins must import only installation.api:\n" + "\n".join(problems)


@pytest.mark.parametrize("source, bad", [
    ("from installation.weights import load_weights", "installation.weights"),
    ("import installation.plugins", "installation.plugins"),
    ("from installation import hookimpl", "installation.hookimpl"),
    ("def f():\n    from installation.train.data import write_image", "installation.train.data"),
    ("import importlib\nimportlib.import_module('installation.app')", "installation.app"),
    ("import installation", "installation"),
])
def test_the_scan_catches_internal_imports(source, bad):
    assert forbidden_imports(source) == [f"<plugin>:{source.count(chr(10)) + 1}: imports {bad}"]


@pytest.mark.parametrize("source", [
    "from installation.api import hookimpl, load_weights",
    "import installation.api",
    "from installation import api",
    "from .model import Generator",
    "import torch",
])
def test_the_scan_allows_the_api_and_everything_else(source):
    assert forbidden_imports(source) == []


def test_the_scan_fails_on_a_real_file(tmp_path):
    bad = tmp_path / "leaky.py"
    bad.write_text(textwrap.dedent('''
        from installation.api import hookimpl
        from installation.walks.slerp import SeedSlerp
    '''))
    assert forbidden_imports(bad.read_text(), bad.name) == ["leaky.py:3: imports installation.walks.slerp"]


def test_every_exported_name_resolves():
    assert len(api.__all__) == len(set(api.__all__))
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    with pytest.raises(AttributeError, match="plugin API"):
        api.make_app  # noqa: B018


def test_the_api_marker_is_the_runtime_marker():
    import installation

    assert api.hookimpl is installation.hookimpl


def test_importing_the_api_does_not_import_torch():
    code = "import sys, installation.api; from installation.api import hookimpl; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
