"""OSC 1.0 address patterns: ``/layer/*/opacity`` reaches every layer in one message.

A TouchOSC page or a show-control system often addresses a group at once (``/post/*/enabled``,
``/direction/[0-3]``, ``/layer/{1,2}/opacity``).  The syntax is the OSC 1.0 spec's: ``?`` one
character, ``*`` any run of characters, ``[a-z]``/``[!0-9]`` a character class (``!`` negates),
``{foo,bar}`` one of the listed strings; nothing crosses a ``/``.

Patterns arrive from the network, so matching must not be at the mercy of the sender: instead
of a backtracking regular expression (which ``/*a*a*a*a…`` can stall for minutes), each part is
matched by a set-of-positions scan, linear in the pattern and quadratic at worst in the part's
length.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

PATTERN_CHARS = frozenset("*?[]{}")
MAX_PATTERN = 1024

Token = tuple  # ("lit", text) | ("?",) | ("*",) | ("class", chars, negate) | ("alt", (texts...))


class PatternError(ValueError):
    """An address pattern that is not valid OSC 1.0 (e.g. an unclosed ``[`` or ``{``)."""


def is_pattern(address: str) -> bool:
    return any(c in PATTERN_CHARS for c in address)


def _char_class(body: str, pattern: str) -> tuple[frozenset, bool]:
    negate = body.startswith("!")
    body = body[1:] if negate else body
    if not body:
        raise PatternError(f"empty character class in {pattern!r}")
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = body[i], body[i + 2]
            if lo > hi:
                raise PatternError(f"reversed range {lo}-{hi} in {pattern!r}")
            chars.update(chr(c) for c in range(ord(lo), ord(hi) + 1))
            i += 3
        else:
            chars.add(body[i])
            i += 1
    return frozenset(chars), negate


def _tokens(part: str, pattern: str) -> tuple[Token, ...]:
    out: list[Token] = []
    i, n = 0, len(part)
    while i < n:
        c = part[i]
        if c == "?":
            out.append(("?",))
        elif c == "*":
            if not out or out[-1] != ("*",):  # ** is *
                out.append(("*",))
        elif c == "[":
            end = part.find("]", i + 1)
            if end < 0:
                raise PatternError(f"unclosed [ in {pattern!r}")
            out.append(("class", *_char_class(part[i + 1 : end], pattern)))
            i = end
        elif c == "{":
            end = part.find("}", i + 1)
            if end < 0:
                raise PatternError(f"unclosed {{ in {pattern!r}")
            choices = tuple(part[i + 1 : end].split(","))
            if any(is_pattern(ch) for ch in choices):
                raise PatternError(f"wildcards inside {{...}} in {pattern!r}")
            out.append(("alt", choices))
            i = end
        elif c in "]}":
            raise PatternError(f"unmatched {c} in {pattern!r}")
        elif out and out[-1][0] == "lit":
            out[-1] = ("lit", out[-1][1] + c)
        else:
            out.append(("lit", c))
        i += 1
    return tuple(out)


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> tuple[tuple[Token, ...], ...]:
    """The pattern split at ``/`` into token lists; :class:`PatternError` when malformed."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"pattern longer than {MAX_PATTERN} characters")
    return tuple(_tokens(part, pattern) for part in pattern.split("/"))


def _match_part(tokens: tuple[Token, ...], s: str) -> bool:
    positions = {0}
    for tok in tokens:
        kind, nxt = tok[0], set()
        if kind == "*":  # from the earliest position on, every position is reachable
            positions = set(range(min(positions), len(s) + 1))
            continue
        for i in positions:
            if kind == "lit":
                if s.startswith(tok[1], i):
                    nxt.add(i + len(tok[1]))
            elif kind == "?":
                if i < len(s):
                    nxt.add(i + 1)
            elif kind == "class":
                if i < len(s) and (s[i] in tok[1]) != tok[2]:
                    nxt.add(i + 1)
            else:  # alt
                nxt.update(i + len(a) for a in tok[1] if s.startswith(a, i))
        if not nxt:
            return False
        positions = nxt
    return len(s) in positions


def matches(pattern: str, address: str) -> bool:
    parts = compile_pattern(pattern)
    names = address.split("/")
    return len(parts) == len(names) and all(_match_part(t, s) for t, s in zip(parts, names))


def expand(pattern: str, addresses: Iterable[str]) -> list[str]:
    """The addresses ``pattern`` matches, sorted; raises :class:`PatternError` when it is malformed."""
    compile_pattern(pattern)  # malformed patterns raise even when nothing is there to match
    return sorted(a for a in addresses if matches(pattern, a))
