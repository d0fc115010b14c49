"""OSC 1.0 address patterns, matched against the registry and bound inputs; real UDP packets."""
from __future__ import annotations

import socket
import time

import pytest

from installation.control.config import BindingSpec
from installation.control.events import EventQueue
from installation.control.osc_out import build_message
from installation.control.osc_server import OscServer
from installation.control.pattern import PatternError, expand
from installation.control.router import ControlRouter
from installation.control.standard import ShowLayout, build_registry

ADDRESSES = ["/layer/1/opacity", "/layer/2/opacity", "/layer/10/opacity", "/post/deblur/enabled",
             "/post/superres/enabled", "/post/superres/mix", "/direction/0", "/direction/3", "/direction/7"]


@pytest.mark.parametrize("pattern, expect", [
    ("/layer/*/opacity", ["/layer/1/opacity", "/layer/10/opacity", "/layer/2/opacity"]),
    ("/layer/?/opacity", ["/layer/1/opacity", "/layer/2/opacity"]),
    ("/layer/{1,10}/opacity", ["/layer/1/opacity", "/layer/10/opacity"]),
    ("/direction/[0-3]", ["/direction/0", "/direction/3"]),
    ("/direction/[!0-3]", ["/direction/7"]),
    ("/post/*/enabled", ["/post/deblur/enabled", "/post/superres/enabled"]),
    ("/post/super*", []),                      # * never crosses a /
    ("/*", []),
    ("/post/*/*", ["/post/deblur/enabled", "/post/superres/enabled", "/post/superres/mix"]),
    ("/layer/1/opacity", ["/layer/1/opacity"]),
])
def test_patterns_match_part_by_part(pattern, expect):
    assert expand(pattern, ADDRESSES) == expect


@pytest.mark.parametrize("bad", ["/layer/[1/opacity", "/layer/{1,2/opacity", "/layer/1]/x", "/a/[]", "/a/[z-a]"])
def test_malformed_patterns_are_refused(bad):
    with pytest.raises(PatternError):
        expand(bad, ADDRESSES)


def test_patterns_over_udp_reach_every_match_and_bad_ones_are_counted():
    q = EventQueue()
    server = OscServer(q, host="127.0.0.1", port=0).start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        reg = build_registry(ShowLayout(scenes=["a", "b"], layers=3, post_stages=["deblur", "superres"]))
        router = ControlRouter(reg, [BindingSpec(input="/1/fader1", param="/walk/speed", out_range=(0, 4))],
                               counters=server.counters)
        for address, args in [("/layer/*/opacity", [0.25]), ("/post/{deblur,superres}/mix", [0.5]),
                              ("/1/fader?", [0.5]), ("/layer/[2/opacity", [1.0]), ("/nothing/*", [1.0])]:
            client.sendto(build_message(address, args), server.address)
        end = time.monotonic() + 5
        while server.counters["accepted"] < 5 and time.monotonic() < end:
            time.sleep(0.005)
        router.update(server.events.drain(), dt=1 / 60)
        assert [reg[f"/layer/{n}/opacity"] for n in (1, 2, 3)] == [0.25, 0.25, 0.25]
        assert reg["/post/deblur/mix"] == 0.5 and reg["/post/superres/mix"] == 0.5
        assert reg["/walk/speed"] == pytest.approx(2.0)          # a pattern reaches a bound input too
        assert server.counters["malformed"] == 1 and server.counters["unknown_address"] == 1
    finally:
        client.close()
        server.stop()


@pytest.mark.parametrize("pattern, address, ok", [
    ("/a/*b", "/a/abab", True), ("/a/*b*", "/a/xbx", True), ("/a/?*?", "/a/x", False), ("/a/?*?", "/a/xy", True),
    ("/a/x*y*z", "/a/xyyz", True), ("/a/x*y*z", "/a/xzy", False), ("/a/{ab,a}b", "/a/ab", True),
])
def test_wildcards_combine(pattern, address, ok):
    assert (expand(pattern, [address]) == [address]) is ok


def test_a_hostile_pattern_is_matched_quickly():
    # a backtracking matcher takes exponential time on this; the position-set scan does not
    hostile = "/" + "*a" * 200 + "b"
    t0 = time.perf_counter()
    assert expand(hostile, ["/" + "a" * 300]) == []
    assert time.perf_counter() - t0 < 10.0  # milliseconds in practice; a backtracking matcher never ends
