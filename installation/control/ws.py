"""Just enough RFC 6455 WebSocket for OSCQuery's LISTEN: the handshake and unfragmented frames.

A server socket after the HTTP upgrade: :func:`accept_key` answers the client's key,
:func:`read_frame` reads one (masked) client frame, :func:`send_frame` writes one unmasked
server frame.  Fragmented messages and extensions are refused (clients do not need them for
short JSON commands); a frame over ``MAX_FRAME`` bytes closes the connection.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
MAX_FRAME = 64 * 1024


class WsClosed(Exception):
    """The peer closed, sent something we refuse, or the socket failed."""


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key.strip() + GUID).encode()).digest()).decode()


def _exact(sock: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        try:
            chunk = sock.recv(n - len(out))
        except OSError as exc:
            raise WsClosed(str(exc)) from None
        if not chunk:
            raise WsClosed("peer closed")
        out += chunk
    return bytes(out)


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """``(opcode, payload)`` of one client frame (clients must mask; servers never fragment here)."""
    b0, b1 = _exact(sock, 2)
    fin, opcode, masked, length = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
    if not fin or not masked or b0 & 0x70:
        raise WsClosed("fragmented, unmasked or extended frames are not accepted")
    if length == 126:
        length = struct.unpack("!H", _exact(sock, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _exact(sock, 8))[0]
    if length > MAX_FRAME:
        raise WsClosed(f"frame of {length} bytes is over {MAX_FRAME}")
    mask = _exact(sock, 4)
    data = _exact(sock, length)
    return opcode, bytes(c ^ mask[i % 4] for i, c in enumerate(data))


def send_frame(sock: socket.socket, opcode: int, payload: bytes = b"") -> None:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    try:
        sock.sendall(head + payload)
    except OSError as exc:
        raise WsClosed(str(exc)) from None
