"""Model plugins shipped with the runtime; each sub-package registers itself via the
``installation.plugins`` entry point and imports only the public API of ``installation``."""
