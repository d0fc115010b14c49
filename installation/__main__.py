<<<<<<< HEAD
"""``python -m installation``: the same as the ``installation`` command (the supervisor starts its child this way)."""
from .cli import main

if __name__ == "__main__":
    main()
=======
"""``python -m installation`` is the ``installation`` command."""
from .cli import main

main()
>>>>>>> main
