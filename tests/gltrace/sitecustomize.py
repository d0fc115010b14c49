"""Test-only start-up hook for the child processes tests start (``python -m installation run ...``).

tests/conftest.py puts this folder first on PYTHONPATH and names a trace file in
INSTALLATION_TEST_GL_TRACE; every moderngl context a child creates (or tries to) appends a line
there, so a test that needs GL only through a subprocess is held to the ``gl`` marker too.
moderngl is patched when the child imports it, not before, so what a child imports is unchanged.
Outside the test suite (no variable) this file does nothing but hand over to the interpreter's
own sitecustomize, which it shadows.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

_trace = os.environ.get("INSTALLATION_TEST_GL_TRACE")


def _patch(module) -> None:
    for name in ("create_standalone_context", "create_context"):
        real = getattr(module, name, None)
        if real is None:
            continue

        def traced(*args, _real=real, _name=name, **kwargs):
            with open(_trace, "a") as f:
                f.write(f"{os.getpid()} moderngl.{_name}\n")
            return _real(*args, **kwargs)

        traced.__wrapped__ = real
        setattr(module, name, traced)


class _TracingLoader(importlib.abc.Loader):
    """moderngl's own loader, then its context factories wrapped."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _patch(module)

    def __getattr__(self, name):  # anything else a loader is asked (resources, is_package)
        return getattr(self._loader, name)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds moderngl the usual way and hands it to a tracing loader (once)."""

    def find_spec(self, name, path=None, target=None):
        if name != "moderngl":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _TracingLoader(spec.loader)
        return spec


if _trace and "moderngl" not in sys.modules:
    sys.meta_path.insert(0, _PatchOnImport())

# hand over to the next sitecustomize on sys.path (Debian's, for example)
_here = os.path.dirname(os.path.abspath(__file__))
_rest = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _rest)
if _spec is not None and _spec.origin and os.path.dirname(os.path.abspath(_spec.origin)) != _here:
    _mod = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
