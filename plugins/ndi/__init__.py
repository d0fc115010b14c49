"""NDI output: the show's frames as an NDI source on the local network (``[[outputs]] type = "ndi"``).

Built on ndi-python (the ``[ndi]`` extra), which ships the NDI SDK; see docs/outputs.md for why
it and not cyndilib.  Importing this package costs no NDI import: the library loads when a run
opens the output, and a missing library is one line naming ``pip install 'installation[ndi]'``.
"""

from installation.api import hookimpl

from .output import NdiOutput


@hookimpl
def register_outputs():
    return {"ndi": NdiOutput}
