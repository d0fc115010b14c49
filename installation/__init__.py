"""Runtime for generative art installations.

The public API that plugins import is :mod:`installation.api` (``hookimpl`` is also here, for
the built-ins); everything else is internal and may change between releases.
"""

import pluggy

__version__ = "0.1.0"

#: Decorator for plugin hook implementations: ``@hookimpl def register_generators(): ...``
hookimpl = pluggy.HookimplMarker("installation")

__all__ = ["hookimpl", "__version__"]
