"""Layers point one way and packages import each other in no cycle (docs/architecture.md).

Every module under installation/ is parsed with ``ast`` (nothing is imported); each import of
another part of the package, at module level or inside a function, is an edge from the unit
(sub-package or top-level module) that contains it to the unit it names.  The checker fails on
an edge that points up the layer order, on a cycle between units, and on a unit that has no
layer yet (so a new package has to be placed on purpose).  It is run on synthetic trees too,
to show that it can fail.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "installation"

#: lowest first; a unit may import units of its own layer or below, never above.  "installation"
#: is the package root (``from .. import hookimpl``).  control, health and sync sit below the app:
#: they talk to it only through events and snapshots, never by importing it.
LAYERS: list[set[str]] = [
    {"installation", "problems", "protocols", "hookspecs", "weights", "clock", "plugins", "progress", "link", "derived"},
    {"show", "walks", "bank", "audio"},
    {"engine", "train", "studio"},
    {"render"},
    {"output", "calibration"},
    {"control", "health", "sync", "web"},
    {"builtin", "api"},
    {"app", "runtime", "checks", "runner", "supervise", "pacing"},
    {"cli", "__main__"},
]


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    """Dotted module name of ``path`` under ``root`` (root's own name first) and whether it is a package."""
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


def _unit(module: str, root: Path) -> str:
    """The unit of a dotted module name: its first part below the root, or the root itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def import_edges(root: Path) -> dict[tuple[str, str], list[str]]:
    """``{(from unit, to unit): ["file:line", ...]}`` for every import between units of ``root``."""
    top = root.name
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        module, is_pkg = _module_name(path, root)
        package = module if is_pkg else module.rpartition(".")[0]
        src = _unit(module, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                # ``from . import x`` names a submodule x when one exists, else a name in the package
                targets = [mod]
                if not node.module:
                    base_dir = root.parent.joinpath(*mod.split("."))
                    targets = [f"{mod}.{a.name}" if (base_dir / f"{a.name}.py").exists() or (base_dir / a.name).is_dir()
                               else mod for a in node.names]
            for target in targets:
                if target.split(".")[0] != top:
                    continue
                dst = _unit(target, root)
                if dst != src:
                    edges.setdefault((src, dst), []).append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return edges


def _cycles(edges) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    found, state = [], {}

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def check_layers(root: Path, layers: list[set[str]]) -> list[str]:
    """Every violation under ``root``: unplaced units, imports up the layers, cycles between units."""
    level = {unit: i for i, units in enumerate(layers) for unit in units}
    edges = import_edges(root)
    units = {_unit(_module_name(p, root)[0], root) for p in root.rglob("*.py")}
    errors = [f"{u}: no layer (add it to LAYERS in tests/test_layers.py and to docs/architecture.md)"
              for u in sorted(units - set(level))]
    for (a, b), where in sorted(edges.items()):
        if a in level and b in level and level[b] > level[a]:
            errors.append(f"{a} (layer {level[a]}) imports {b} (layer {level[b]}), which is above it: {', '.join(where)}")
    for cycle in _cycles(edges):
        steps = [f"{a} -> {b} ({edges[(a, b)][0]})" for a, b in zip(cycle, cycle[1:])]
        errors.append("import cycle: " + "; ".join(steps))
    return errors


def test_the_package_keeps_its_layers_and_has_no_cycles():
    assert check_layers(ROOT, LAYERS) == []


def test_the_show_and_control_packages_no_longer_import_each_other():
    edges = import_edges(ROOT)
    assert ("control", "show") in edges  # control reads the show's types: down the layers, fine
    assert ("show", "control") not in edges


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


SYNTH_LAYERS = [{"pkg", "base"}, {"low"}, {"high"}]


def test_checker_accepts_a_clean_tree(tmp_path):
    root = _tree(tmp_path, {"base.py": "", "low/__init__.py": "from .. import base\n",
                            "high/__init__.py": "from ..low import x\nimport pkg.base\n"})
    assert check_layers(root, SYNTH_LAYERS) == []


def test_checker_fails_on_an_import_up_the_layers(tmp_path):
    root = _tree(tmp_path, {"low/__init__.py": "", "low/bad.py": "def f():\n    from ..high import thing\n",
                            "high/__init__.py": ""})
    errors = check_layers(root, SYNTH_LAYERS)
    assert len(errors) == 1 and "low (layer 1) imports high (layer 2)" in errors[0] and "pkg/low/bad.py:2" in errors[0]


def test_checker_fails_on_a_cycle_even_within_one_layer(tmp_path):
    layers = [{"pkg"}, {"a", "b"}]
    root = _tree(tmp_path, {"a/__init__.py": "from pkg.b import y\n", "b/__init__.py": "from ..a import x\n"})
    errors = check_layers(root, layers)
    assert errors and errors[0].startswith("import cycle: a -> b (pkg/a/__init__.py:1); b -> a (pkg/b/__init__.py:1)")


def test_checker_fails_on_a_unit_with_no_layer(tmp_path):
    root = _tree(tmp_path, {"stray.py": "x = 1\n"})
    assert check_layers(root, SYNTH_LAYERS) == [
        "stray: no layer (add it to LAYERS in tests/test_layers.py and to docs/architecture.md)"]


@pytest.mark.parametrize("module", ["show/bad_probe.py", "walks/bad_probe.py"])
def test_a_bad_module_in_the_real_tree_is_caught(tmp_path, module):
    """A copy of the real package plus one module that imports the app from the bottom layer."""
    import shutil

    copy = tmp_path / "installation"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / module).write_text("from ..app import App\n")
    errors = check_layers(copy, LAYERS)
    unit = module.split("/")[0]
    assert len(errors) == 2, errors
    assert errors[0].startswith(f"{unit} (layer 1) imports app (layer 7)") and module in errors[0]
    assert errors[1].startswith("import cycle: ") and f"{unit} -> app (installation/{module}:1)" in errors[1]
