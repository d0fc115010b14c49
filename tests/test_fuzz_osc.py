"""Fuzz the OSC decoding path: random bytes and structured garbage end in a clean error or a
valid packet, never in an exception the reader thread does not expect, and never in the loop.

The last property feeds datagrams through the control layer's reader into a running app.
``FUZZ_EXAMPLES`` (default 300) sets the examples per property; run with
``--hypothesis-show-statistics`` to see the counts.  Findings about python-osc itself (it raises
``UnicodeDecodeError`` on bad strings and ``RecursionError`` on deeply nested bundles, besides
its ``ParseError``) are pinned here so that the server's catch-all stays necessary and tested.
"""
from __future__ import annotations

import collections
import math
import os
import struct
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from pythonosc import osc_bundle, osc_message, osc_packet
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARSE_ERRORS = (osc_packet.ParseError, osc_message.ParseError, osc_bundle.ParseError)
# what the decoder is known to raise on hostile input; anything else is a new finding
KNOWN = (*PARSE_ERRORS, UnicodeDecodeError, RecursionError)
SEEN: collections.Counter = collections.Counter()


@pytest.fixture(autouse=True)
def quiet_pythonosc(caplog):
    caplog.set_level("ERROR")  # python-osc logs a root warning per unknown type tag


def decode(data: bytes):
    """Decode like a reader thread must: a packet, or a known, clean exception."""
    try:
        packet = OscPacket(data)
    except KNOWN as exc:
        SEEN[type(exc).__name__] += 1
        if currently_in_test_context():
            event(type(exc).__name__)
        return None
    SEEN["valid"] += 1
    if currently_in_test_context():
        event("valid packet")
    for timed in packet.messages:  # a valid packet's contents must be usable as-is
        assert isinstance(timed.message.address, str)
        list(timed.message.params)
    return packet


_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
osc_args = st.one_of(
    st.integers(-2**31, 2**31 - 1), st.floats(width=32, allow_nan=False), st.text(_chars, max_size=40),
    st.binary(min_size=1, max_size=40), st.booleans(), st.none(),
)
addresses = st.text(_chars, max_size=40).map(lambda s: "/" + s)


def build_message(address: str, args: list) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes(data):
    decode(data)


@FUZZ
@given(addresses, st.lists(osc_args, max_size=8), st.data())
def test_mutated_valid_messages(address, args, data):
    dgram = bytearray(build_message(address, args))
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, max(0, len(dgram) - 1)))
        if op == "flip" and dgram:
            dgram[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del dgram[pos:pos + data.draw(st.integers(1, 8))]
        else:
            dgram[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
    decode(bytes(dgram))


@FUZZ
@given(addresses, st.lists(osc_args, max_size=8))
def test_valid_messages_round_trip(address, args):
    packet = decode(build_message(address, args))
    assert packet is not None
    msg = packet.messages[0].message
    assert msg.address == address and len(msg.params) == len(args)


@FUZZ
@given(st.lists(st.tuples(addresses, st.lists(osc_args, max_size=4)), min_size=1, max_size=6), st.integers(0, 4), st.data())
def test_bundles_nested_and_truncated(items, depth, data):
    def bundle(level):
        b = OscBundleBuilder(IMMEDIATELY)
        for address, args in items:
            b.add_content(OscMessageBuilder(address).build() if not args else _msg(address, args))
        if level > 0:
            b.add_content(bundle(level - 1))
        return b.build()

    def _msg(address, args):
        b = OscMessageBuilder(address)
        for a in args:
            b.add_arg(a)
        return b.build()

    dgram = bundle(depth).dgram
    packet = decode(dgram)
    assert packet is not None and len(packet.messages) == len(items) * (depth + 1)
    cut = data.draw(st.integers(0, len(dgram)))
    decode(dgram[:cut])
    # a lying size field
    if len(dgram) > 20:
        decode(dgram[:16] + struct.pack(">i", data.draw(st.integers(-2**31, 2**31 - 1))) + dgram[20:])


def test_deeply_nested_bundle_in_one_datagram_is_a_clean_error():
    """A 60 kB datagram of nested bundles blows python-osc's recursion: a reader must catch it."""
    dgram = OscMessageBuilder("/a").build().dgram
    while len(dgram) < 60_000:
        dgram = b"#bundle\x00" + b"\x00" * 7 + b"\x01" + struct.pack(">i", len(dgram)) + dgram
    with pytest.raises(RecursionError):
        OscPacket(dgram)
    assert decode(dgram) is None


def _loop_app():
    """An app on the live-control example show (inputs not started: datagrams are fed by hand)."""
    if "app" not in _cache:
        from installation.app import App
        from installation.clock import FixedStepClock
        from installation.control.osc_server import OscServer
        from installation.show.loader import load_show

        show = load_show(Path(__file__).resolve().parents[1] / "shows" / "live_control.toml")
        app = App(show, registry=None, compositor=types.SimpleNamespace(brightness=1.0), clock=FixedStepClock(30))
        _cache["app"] = app
        _cache["server"] = OscServer(app.control.events, port=0)
        _cache["addresses"] = sorted(app.control.registry.values()) + ["/scene/next", "/scene/prev", "/cue/go",
                                                                        "/cue/next", "/cue/prev", "/cue/goto"]
    return _cache["app"], _cache["server"], _cache["addresses"]


_cache: dict = {}
loop_args = st.one_of(st.integers(-2**31, 2**31 - 1), st.floats(width=32), st.text(_chars, max_size=12),
                      st.binary(min_size=1, max_size=8), st.booleans(), st.none())


@FUZZ
@given(st.data())
def test_datagrams_through_reader_queue_and_render_loop_update(data):
    """Bytes → the control layer's reader → event queue → ``App.update`` (which drains it once a
    frame): random datagrams and well-formed messages to the show's real addresses, with any
    argument types (NaN, strings for numbers, blobs...), end applied or ignored; the loop goes on."""
    app, server, known = _loop_app()
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.booleans()):
            dgram = data.draw(st.binary(max_size=128))
        else:
            address = data.draw(st.one_of(st.sampled_from(known), addresses))
            dgram = build_message(address, data.draw(st.lists(loop_args, max_size=3)))
        assert server.handle_datagram(dgram, ("127.0.0.1", 9000), 0.0) >= 0
    t = app.update()
    assert math.isfinite(t) and math.isfinite(app.snapshot.brightness)  # what view will draw with
