"""DMX output: lights follow the picture over Art-Net or sACN (``[[outputs]] type = "artnet" | "sacn"``).

Packets are written here by hand to the two specs (Art-Net 4 ArtDmx, ANSI E1.31 data packets):
both are a fixed header and 512 bytes, so a library would add a dependency for a few lines.
"""

from installation.api import hookimpl

from .output import ArtNetOutput, SacnOutput


@hookimpl
def register_outputs():
    return {"artnet": ArtNetOutput, "sacn": SacnOutput}
