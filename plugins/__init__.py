"""Model plugins shipped with the runtime; each sub-package registers itself via the
``installation.plugins`` entry point and imports only :mod:`installation.api` (tests/test_plugin_api.py)."""
