"""Cost of checking OSC datagrams before python-osc decodes them (what each datagram pays).

Prints microseconds per datagram for the structural check alone (:func:`check_datagram`),
python-osc's decode alone, and both, for a typical fader message, a 10-message bundle, a
3-deep nested bundle and a 32 kB bundle of 4000 small messages, plus the check's cost on a
lying bundle (python-osc alone never returns from that one).
Run: ``python benchmarks/osc_check.py [--repeat N]``.
"""
from __future__ import annotations

import argparse
import struct
import time

from pythonosc.osc_packet import OscPacket

from installation.control.osc_wire import check_datagram


def _s(text: str) -> bytes:
    b = text.encode() + b"\x00"
    return b + b"\x00" * (-len(b) % 4)


def message(address: str, value: float) -> bytes:
    return _s(address) + _s(",f") + struct.pack(">f", value)


def bundle(elements: list[bytes]) -> bytes:
    return b"#bundle\x00" + b"\x00" * 7 + b"\x01" + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def per_call(fn, data: bytes, repeat: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn(data)
    return (time.perf_counter() - t0) / repeat * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2000)
    args = ap.parse_args()
    fader = message("/1/fader1", 0.5)
    cases = {
        "fader message": fader,
        "bundle of 10": bundle([message(f"/layer/{i}/opacity", 0.1 * i) for i in range(10)]),
        "nested 3 deep": bundle([bundle([bundle([fader, fader]), fader]), fader]),
        "32 kB, 4000 messages": bundle([_s("/a") for _ in range(4000)]),
    }
    print(f"{'datagram':24s} {'bytes':>7s} {'check us':>9s} {'decode us':>10s} {'both us':>8s}")
    for name, data in cases.items():
        n = max(20, args.repeat // (200 if len(data) > 10_000 else 1))
        c = per_call(check_datagram, data, n)
        d = per_call(OscPacket, data, n)
        b = per_call(lambda x: check_datagram(x) or OscPacket(x), data, n)
        print(f"{name:24s} {len(data):7d} {c:9.1f} {d:10.1f} {b:8.1f}")
    lying = bundle([fader])[:16] + struct.pack(">i", -4) + fader
    print(f"{'lying size (-4)':24s} {len(lying):7d} {per_call(check_datagram, lying, args.repeat):9.1f} {'never returns':>10s}")


if __name__ == "__main__":
    main()
