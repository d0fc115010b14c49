"""``python -m installation`` is the ``installation`` command."""

from .cli import main

main()
