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
        app = App(show, registry=None, compositor=types.SimpleNamespace(brightness=1.0, release=lambda kf: None), clock=FixedStepClock(30))
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


# -- our own structural check, in front of python-osc ------------------------------------------
# python-osc's bundle parser trusts element sizes: these datagrams never return from OscPacket.
def _pad(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 4)


def osc_str(s: str) -> bytes:
    return _pad(s.encode() + b"\x00")


def enc_message(address: str, args: list) -> bytes:
    tags, body = ",", b""
    for a in args:
        if a is True or a is False:
            tags += "T" if a else "F"
        elif a is None:
            tags += "N"
        elif isinstance(a, int):
            tags += "i"
            body += struct.pack(">i", a)
        elif isinstance(a, float):
            tags += "f"
            body += struct.pack(">f", a)
        elif isinstance(a, bytes):
            tags += "b"
            body += struct.pack(">i", len(a)) + _pad(a)
        else:
            tags += "s"
            body += osc_str(a)
    return osc_str(address) + osc_str(tags) + body


def enc_bundle(elements: list[bytes], sizes: list[int] | None = None) -> bytes:
    out = b"#bundle\x00" + b"\x00" * 7 + b"\x01"
    for k, e in enumerate(elements):
        out += struct.pack(">i", len(e) if sizes is None else sizes[k]) + e
    return out


STALLING = {
    "element size -4": enc_bundle([enc_message("/a", [1])], [-4]),
    "element size -4 in a nested bundle": enc_bundle([enc_bundle([enc_message("/a", [])], [-4])]),
}
REFUSED = {
    **STALLING,
    "element size 0": enc_bundle([b""], [0]) + enc_message("/a", [1]),
    "element size -8": enc_bundle([enc_message("/a", [1])], [-8]),
    "overlong element": enc_bundle([enc_message("/a", [1])], [4096]),
    "odd element size": enc_bundle([enc_message("/a", [1]) + b"\x00" * 4], [9]),
    "truncated bundle": enc_bundle([enc_message("/a", [1.0, "x"])])[:-4],
    "200 levels of nesting": (lambda: [d := enc_message("/a", []), *[d := enc_bundle([d]) for _ in range(200)]][-1])(),
    "negative blob": osc_str("/a") + osc_str(",b") + struct.pack(">i", -8),
    "huge blob": osc_str("/a") + osc_str(",b") + struct.pack(">i", 2**31 - 1) + b"abcd",
    "unknown tag": osc_str("/a") + osc_str(",x"),
    "bad utf-8 address": _pad(b"/\xff\xfe\x00"),
    "unbalanced array": osc_str("/a") + osc_str(",[i") + struct.pack(">i", 1),
    "not 4-aligned": b"/a\x00",
}


@pytest.mark.parametrize("name", sorted(STALLING))
def test_python_osc_alone_never_returns_on_a_lying_bundle(name, tmp_path):
    """The finding that makes our check necessary, pinned: a subprocess parsing one of these with
    python-osc is still busy after 3 s (and is killed)."""
    import subprocess
    import sys

    path = tmp_path / "dgram.bin"
    path.write_bytes(STALLING[name])
    code = ("import logging,sys; logging.disable(logging.CRITICAL); from pythonosc.osc_packet import OscPacket;"
            f"OscPacket(open({str(path)!r},'rb').read())")
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=3)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_check_refuses_malformed_datagrams_with_a_reason(name):
    from installation.control.osc_wire import check_datagram

    assert isinstance(check_datagram(REFUSED[name]), str)


def test_check_accepts_what_python_osc_builds():
    from installation.control.osc_wire import check_datagram

    msg = build_message("/walk/speed", [0.5, 3, "x", b"\x01\x02\x03", True, None])
    b = OscBundleBuilder(IMMEDIATELY)
    b.add_content(OscMessageBuilder("/a").build())
    inner = OscBundleBuilder(IMMEDIATELY)
    inner.add_content(osc_message.OscMessage(msg))
    b.add_content(inner.build())
    for dgram in (msg, b.build().dgram, osc_str("/noargs"), osc_str("/a") + osc_str(",[ii]") + b"\x00" * 8):
        assert check_datagram(dgram) is None, dgram


def fuzzed_datagram(rng) -> bytes:
    """A structure-aware fuzz case: a valid message or nested bundle, then maybe one lie told
    about its sizes (0, negative, overlong, odd), a cut, a flipped byte or appended junk."""
    import random as _r  # noqa: F401  (rng is a random.Random)

    def message():
        args = []
        for _ in range(rng.randrange(4)):
            kind = rng.randrange(5)
            args.append([rng.randrange(-2**31, 2**31), rng.uniform(-1e3, 1e3), "s" * rng.randrange(6),
                         bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9))), rng.choice([True, False, None])][kind])
        return enc_message("/" + rng.choice(["walk/speed", "scene/next", "x", "layer/1/opacity"]), args)

    def bundle(depth):
        elements = [bundle(depth - 1) if depth and rng.random() < 0.4 else message() for _ in range(rng.randrange(1, 4))]
        sizes = [len(e) for e in elements]
        if rng.random() < 0.5:
            k = rng.randrange(len(sizes))
            sizes[k] = rng.choice([0, -4, -1, -len(elements[k]) - 4, -2**31, sizes[k] + 4, sizes[k] * 64, 2**31 - 1,
                                   sizes[k] - 4, sizes[k] + 1, 3])
        return enc_bundle(elements, sizes)

    dgram = bytearray(bundle(rng.randrange(0, 12)) if rng.random() < 0.7 else message())
    op = rng.randrange(6)
    if op == 0 and len(dgram) > 4:
        del dgram[rng.randrange(len(dgram)):]
    elif op == 1 and dgram:
        dgram[rng.randrange(len(dgram))] = rng.randrange(256)
    elif op == 2:
        dgram += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))
    return bytes(dgram[:65000])


@FUZZ
@given(st.randoms(use_true_random=False))
def test_what_the_check_passes_python_osc_decodes(rng):
    """Whatever passes the check decodes in python-osc without error; what it refuses is refused
    by reason, never by hanging or raising."""
    from installation.control.osc_wire import check_datagram

    dgram = fuzzed_datagram(rng)
    why = check_datagram(dgram)
    event("accepted" if why is None else "refused")
    if why is None:
        for timed in OscPacket(dgram).messages:
            assert timed.message.address.startswith("/")


UDP_PACKETS = int(os.environ.get("FUZZ_UDP_PACKETS", "100000"))


def test_100k_fuzzed_datagrams_over_udp_never_stall_the_reader():
    """Real UDP on 127.0.0.1: 100k structure-aware fuzzed datagrams through the running reader
    thread (the sender keeps at most ~2000 in flight so they are read, not dropped by the
    kernel), then one valid message still arrives, every datagram is accounted for, and the
    reader is idle again (not spinning in a parser)."""
    import random
    import socket
    import time

    from installation.control.events import EventQueue
    from installation.control.osc_server import OscServer
    from installation.control.stats import Counters, control_health

    counters = Counters()
    events = EventQueue(1 << 20, counters)
    server = OscServer(events, host="127.0.0.1", port=0, rate_limit=1e9, burst=10**9, counters=counters).start()
    rng = random.Random(20261202)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = server.address
    deadline = time.monotonic() + 240  # bounded: a stalled reader fails here, not by hanging the suite
    try:
        def seen():
            return counters["datagrams"] + counters["kernel_dropped"]

        for sent in range(1, UDP_PACKETS + 1):
            tx.sendto(fuzzed_datagram(rng), target)
            while sent - seen() > 2000:
                assert time.monotonic() < deadline, f"reader stuck after {seen()} of {sent} datagrams"
                time.sleep(0.001)
            if sent % 20000 == 0:
                events.drain()
        while seen() < UDP_PACKETS:
            assert time.monotonic() < deadline, f"reader stuck after {seen()} of {UDP_PACKETS} datagrams"
            time.sleep(0.01)
        events.drain()
        tx.sendto(build_message("/walk/speed", [0.25]), target)
        assert events.wait(5.0), "a valid datagram after the fuzz never arrived"
        got = [e for e in events.drain() if e.address == "/walk/speed"]
        assert got and got[-1].args == (0.25,)
        health = control_health(counters, time.monotonic())
        assert health["received"] + health["kernel_dropped"] == UDP_PACKETS + 1
        assert health["malformed"] > UDP_PACKETS // 10 and health["accepted"] > UDP_PACKETS // 10
        assert counters["errors"] == 0 and counters["socket_errors"] == 0
        assert health["last_packet_age_s"] is not None and health["last_packet_age_s"] < 5
        assert not server.stalled(time.monotonic())
        cpu = time.process_time()
        time.sleep(1.0)
        assert time.process_time() - cpu < 0.5, "the reader keeps burning CPU after the fuzz"
    finally:
        tx.close()
        server.stop()
