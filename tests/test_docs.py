"""Every hook has a docstring and a section in docs/plugins.md: an undocumented hook fails here."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from installation import hookspecs

HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "installation_spec")]
DOC = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text()


def test_there_are_hooks():
    assert len(HOOKS) >= 6


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_docstring(name):
    doc = inspect.getdoc(getattr(hookspecs, name))
    assert doc and len(doc) > 40


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name):
    assert f"## {name}" in DOC
