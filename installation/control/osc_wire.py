"""Structural check of an OSC datagram before any parser sees it.

python-osc trusts the sizes a datagram claims: a bundle element of size 0 or a negative size
sends its bundle parser round the same bytes forever (a reader thread stalled, a core burned),
and deep nesting ends in ``RecursionError``.  :func:`check_datagram` walks the whole datagram
once, iteratively, with every length checked against the bytes that are actually there, and
says what is wrong, or ``None`` when python-osc can decode it safely.

Accepted (OSC 1.0, plus the common extensions python-osc reads): a datagram that is a multiple
of 4 bytes; a message (address starting with ``/``, an optional type tag string starting with
``,`` whose tags are ``i f s b h d t r m T F N [ ]`` with balanced brackets, and the arguments
those tags announce); a bundle (``#bundle\\0``, an 8-byte time tag, then elements each an int32
size > 0, a multiple of 4, within the datagram, holding a message or a bundle) nested at most
``max_depth`` deep and holding at most ``max_elements`` elements in all.
"""

from __future__ import annotations

BUNDLE = b"#bundle\x00"
_FIXED = {"i": 4, "f": 4, "r": 4, "m": 4, "h": 8, "d": 8, "t": 8, "T": 0, "F": 0, "N": 0, "[": 0, "]": 0}
_KNOWN = set(_FIXED) | {"s", "b"}  # python-osc skips other tags (logging each one): refuse them
MAX_DEPTH = 8
MAX_ELEMENTS = 4096
MAX_ARRAY_DEPTH = 8


def _string(data: bytes, start: int, end: int) -> tuple[str | None, int]:
    """(text, index after its padding) of the OSC-string at ``start`` (4-aligned); ``(None, -1)``
    when it runs past ``end``, ``(None, -2)`` when it is not UTF-8."""
    nul = data.find(b"\x00", start, end)
    if nul < 0:
        return None, -1
    try:
        text = data[start:nul].decode("utf-8")
    except UnicodeDecodeError:
        return None, -2
    stop = (nul + 4) & ~3
    if stop > end:
        return None, -1
    return text, stop


def _message(data: bytes, start: int, end: int) -> str | None:
    address, i = _string(data, start, end)
    if address is None:
        return "address is not a terminated UTF-8 string" if i == -2 else "address runs past the end"
    if not address.startswith("/"):
        return "address does not start with /"
    if i >= end:
        return None  # no type tags: a message without arguments
    tags, i = _string(data, i, end)
    if tags is None:
        return "type tags are not a terminated string"
    if not tags.startswith(","):
        return "type tags do not start with ','"
    depth = 0
    for tag in tags[1:]:
        if tag not in _KNOWN:
            return f"unknown type tag {tag!r}"
        if tag == "[":
            depth += 1
            if depth > MAX_ARRAY_DEPTH:
                return "arrays nested too deep"
        elif tag == "]":
            depth -= 1
            if depth < 0:
                return "unbalanced ']' in type tags"
        elif tag == "s":
            text, i = _string(data, i, end)
            if text is None:
                return "string argument is not a terminated UTF-8 string"
        elif tag == "b":
            if i + 4 > end:
                return "blob size runs past the end"
            size = int.from_bytes(data[i : i + 4], "big", signed=True)
            if size < 0:
                return "negative blob size"
            i += 4 + size + (-size % 4)
            if i > end:
                return "blob runs past the end"
        else:
            i += _FIXED[tag]
            if i > end:
                return f"argument {tag!r} runs past the end"
    if depth:
        return "unbalanced '[' in type tags"
    return None


def check_datagram(data: bytes, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS) -> str | None:
    """Why ``data`` is not a well-formed OSC packet, or ``None`` when it is (see the module doc)."""
    n = len(data)
    if n == 0:
        return "empty datagram"
    if n % 4:
        return "length is not a multiple of 4"
    # (start, end, depth) of the bundles still to walk; messages are checked as they are found
    if not data.startswith(BUNDLE):
        return _message(data, 0, n) if data[:1] == b"/" else "neither a message nor a bundle"
    stack = [(0, n, 1)]
    elements = 0
    while stack:
        start, end, depth = stack.pop()
        if depth > max_depth:
            return f"bundles nested deeper than {max_depth}"
        i = start + len(BUNDLE) + 8
        if i > end:
            return "bundle shorter than its header"
        while i < end:
            if i + 4 > end:
                return "bundle element size runs past the end"
            size = int.from_bytes(data[i : i + 4], "big", signed=True)
            if size <= 0:
                return f"bundle element size {size}"
            if size % 4:
                return "bundle element size is not a multiple of 4"
            i += 4
            if i + size > end:
                return "bundle element runs past the end"
            elements += 1
            if elements > max_elements:
                return f"more than {max_elements} bundle elements"
            if data.startswith(BUNDLE, i):
                stack.append((i, i + size, depth + 1))
            elif data[i : i + 1] == b"/":
                why = _message(data, i, i + size)
                if why is not None:
                    return why
            else:
                return "bundle element is neither a message nor a bundle"
            i += size
    return None
