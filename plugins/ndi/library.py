"""Loading the NDI runtime once per process, with one clear line where it is missing."""

from __future__ import annotations

import threading

from installation.api import OutputError

INSTALL = "pip install 'installation[ndi]'"

_lock = threading.Lock()
_users = 0


def load_ndi():
    """The initialised ``NDIlib`` module; pair every call with :func:`release_ndi`."""
    global _users
    try:
        import NDIlib as ndi
    except ImportError as exc:
        raise OutputError(
            f"NDI needs the ndi-python package ({exc.name or 'NDIlib'} does not import): {INSTALL}"
        ) from None
    with _lock:
        if _users == 0 and not ndi.initialize():
            raise OutputError("the NDI runtime cannot start on this CPU (NDIlib.initialize() failed: it needs SSE4.2)")
        _users += 1
    return ndi


def release_ndi(ndi) -> None:
    global _users
    with _lock:
        _users -= 1
        if _users == 0:
            ndi.destroy()
