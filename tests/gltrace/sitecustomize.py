"""Test-only start-up hook for the child processes tests start (``python -m installation run ...``).

tests/conftest.py puts this folder first on PYTHONPATH and names a trace file in
INSTALLATION_TEST_GL_TRACE; every moderngl context a child creates (or tries to) appends a line
there, so a test that needs GL only through a subprocess is held to the ``gl`` marker too.
Outside the test suite (no variable) this file does nothing but hand over to the interpreter's
own sitecustomize, which it shadows.
"""

import importlib.machinery
import importlib.util
import os
import sys

_trace = os.environ.get("INSTALLATION_TEST_GL_TRACE")
if _trace:
    try:
        import moderngl as _mgl
    except Exception:  # no moderngl in this interpreter: nothing to trace
        _mgl = None
    if _mgl is not None:

        def _wrap(name):
            real = getattr(_mgl, name)

            def traced(*args, **kwargs):
                with open(_trace, "a") as f:
                    f.write(f"{os.getpid()} moderngl.{name}\n")
                return real(*args, **kwargs)

            traced.__wrapped__ = real
            setattr(_mgl, name, traced)

        for _name in ("create_standalone_context", "create_context"):
            _wrap(_name)

# hand over to the next sitecustomize on sys.path (Debian's, for example)
_here = os.path.dirname(os.path.abspath(__file__))
_rest = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _rest)
if _spec is not None and _spec.origin and os.path.dirname(os.path.abspath(_spec.origin)) != _here:
    _mod = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
