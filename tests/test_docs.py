"""docs/plugins.md against the code, both ways: every hook and every API name documented, nothing documented that is not real.

As datasette's test_docs: an undocumented hook fails here, and so does a section for a hook that
no longer exists (or is misspelt).  The same holds for the names ``installation.api`` exports.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import installation.api as api
from installation import hookspecs

HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "installation_spec")]
DOC = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text()


def section(doc: str, title: str) -> str:
    """The text under the top-level heading ``# title``, up to the next top-level heading."""
    m = re.search(rf"^# {re.escape(title)}\n(.*?)(?=^# |\Z)", doc, re.S | re.M)
    assert m, f"docs/plugins.md has no '# {title}' section"
    return m.group(1)


def documented_hooks(doc: str) -> list[str]:
    return re.findall(r"^## (\w+)\s*$", section(doc, "Hooks"), re.M)


def documented_api(doc: str) -> list[str]:
    """Names listed as ``- `name`...`` or ``- `name(args)`...`` in the API section."""
    return re.findall(r"^- `(\w+)", section(doc, "The plugin API"), re.M)


def test_there_are_hooks():
    assert len(HOOKS) >= 6


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_docstring(name):
    doc = inspect.getdoc(getattr(hookspecs, name))
    assert doc and len(doc) > 40


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name):
    assert name in documented_hooks(DOC)


def test_every_documented_hook_is_real():
    assert sorted(set(documented_hooks(DOC)) - set(HOOKS)) == []
    assert len(documented_hooks(DOC)) == len(set(documented_hooks(DOC)))


@pytest.mark.parametrize("name", api.__all__)
def test_api_name_is_documented(name):
    assert name in documented_api(DOC)


def test_every_documented_api_name_is_exported():
    assert sorted(set(documented_api(DOC)) - set(api.__all__)) == []


def test_the_checks_catch_drift():
    """The parsers see a missing and an invented entry, so the tests above can fail."""
    drifted = DOC.replace("## register_walks\n", "## register_walk\n").replace("- `psnr(", "- `peak_snr(")
    assert "register_walks" not in documented_hooks(drifted) and "register_walk" in documented_hooks(drifted)
    assert "psnr" not in documented_api(drifted) and "peak_snr" in documented_api(drifted)


def test_examples_import_only_the_public_api():
    for block in re.findall(r"```python\n(.*?)```", DOC, re.S):
        for line in block.splitlines():
            if re.match(r"\s*(from|import) installation", line):
                assert re.match(r"\s*from installation\.api import ", line), line
