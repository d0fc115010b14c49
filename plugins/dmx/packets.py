"""Art-Net ArtDmx and E1.31 (sACN) data packets, byte for byte as the specs lay them out.

Art-Net 4 (Artistic Licence), ArtDmx: ``"Art-Net\\0"``, OpCode 0x5000 little-endian, protocol
version 14 big-endian, sequence (1..255, 0 = off), physical port, SubUni (low 8 bits of the
15-bit port address), Net (high 7 bits), length big-endian (even, 2..512), the channel data.

ANSI E1.31-2018 data packet: root layer (preamble 0x0010, ACN packet identifier, vector 4, the
sender's CID), framing layer (vector 2, source name, priority, sequence, universe), DMP layer
(vector 2, address/data type 0xa1, start code 0 then the 512 channels).  Every layer's
flags-and-length word is 0x7000 | the length from that word to the end of the packet.
"""

from __future__ import annotations

import struct

ARTNET_PORT = 6454
SACN_PORT = 5568
ARTNET_ID = b"Art-Net\x00"
ACN_ID = b"ASC-E1.17\x00\x00\x00"


def artdmx(universe: int, sequence: int, data: bytes) -> bytes:
    """One ArtDmx packet for the 15-bit port address ``universe``."""
    if not 0 <= universe <= 0x7FFF:
        raise ValueError(f"Art-Net universe must be 0 … 32767, got {universe}")
    if len(data) % 2:
        data += b"\x00"  # the spec wants an even length
    if not 2 <= len(data) <= 512:
        raise ValueError(f"ArtDmx carries 2 … 512 channels, got {len(data)}")
    return (
        ARTNET_ID
        + struct.pack("<H", 0x5000)
        + struct.pack(">H", 14)
        + bytes([sequence & 0xFF, 0, universe & 0xFF, universe >> 8 & 0x7F])
        + struct.pack(">H", len(data))
        + data
    )


def parse_artdmx(packet: bytes) -> tuple[int, int, bytes] | None:
    """``(universe, sequence, data)`` of an ArtDmx packet, ``None`` for anything else (tests, tools)."""
    if len(packet) < 20 or packet[:8] != ARTNET_ID or struct.unpack("<H", packet[8:10])[0] != 0x5000:
        return None
    length = struct.unpack(">H", packet[16:18])[0]
    return packet[14] | packet[15] << 8, packet[12], packet[18 : 18 + length]


def e131(universe: int, sequence: int, data: bytes, cid: bytes, source: str, priority: int = 100) -> bytes:
    """One E1.31 data packet (start code 0) for ``universe`` 1 … 63999."""
    if not 1 <= universe <= 63999:
        raise ValueError(f"sACN universe must be 1 … 63999, got {universe}")
    if len(cid) != 16:
        raise ValueError("the E1.31 CID is 16 bytes")
    data = bytes(data[:512])
    dmp = struct.pack(">HBBHHH", 0x7000 | (10 + 1 + len(data)), 0x02, 0xA1, 0, 1, 1 + len(data)) + b"\x00" + data
    name = source.encode("utf-8")[:63].ljust(64, b"\x00")
    framing = (
        struct.pack(">HI", 0x7000 | (77 + len(dmp)), 0x00000004)
        + name
        + struct.pack(">BHBBH", priority, 0, sequence & 0xFF, 0, universe)
        + dmp
    )
    root = (
        struct.pack(">HH", 0x0010, 0x0000) + ACN_ID + struct.pack(">HI", 0x7000 | (22 + len(framing)), 0x00000004) + cid
    )
    return root + framing


def parse_e131(packet: bytes) -> tuple[int, int, bytes] | None:
    """``(universe, sequence, data)`` of an E1.31 data packet, ``None`` for anything else."""
    if len(packet) < 126 or packet[4:16] != ACN_ID or struct.unpack(">I", packet[18:22])[0] != 4:
        return None
    if struct.unpack(">I", packet[40:44])[0] != 4 or packet[117] != 0x02 or packet[125] != 0:
        return None
    count = struct.unpack(">H", packet[123:125])[0] - 1
    return struct.unpack(">H", packet[113:115])[0], packet[111], packet[126 : 126 + count]
