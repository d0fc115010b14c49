"""Several hosts on one machine: network namespaces joined by veth pairs to a bridge.

For the tests, ``benchmarks/sync_skew.py`` and a rehearsal without the venue's machines: each
host is a network namespace with one interface on a private /24 and a multicast route, so Link
discovery and the show's peer messages travel as they would between machines, and nothing
leaves the namespaces.  All namespaces share this machine's CLOCK_MONOTONIC, which is what lets
frame records of different hosts be compared by ``monotonic_s`` directly.  Needs root (or
CAP_NET_ADMIN) and the ``ip`` tool; :func:`unavailable` says why not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if shutil.which("ip") is None:
        return "the 'ip' tool (iproute2) is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"isprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, OSError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        return f"cannot make a network namespace: {err.decode(errors='replace').strip() or exc}"
    try:
        _ip("netns", "del", probe)
    except subprocess.CalledProcessError:
        pass
    return None


class Lab:
    """``n`` hosts ``10.77.0.1`` ... in namespaces; a bridge in a namespace of its own. Always cleaned up."""

    def __init__(self, n: int = 3, tag: str | None = None, subnet: str = "10.77.0"):
        self.n, self.subnet = n, subnet
        tag = tag or str(os.getpid())
        self.bridge = f"isbr{tag}"
        self.hosts = [f"ish{i}x{tag}" for i in range(1, n + 1)]

    def address(self, i: int) -> str:
        return f"{self.subnet}.{i + 1}"

    def __enter__(self) -> Lab:
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def _build(self) -> None:
        _ip("netns", "add", self.bridge)
        _ip("-n", self.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        _ip("-n", self.bridge, "link", "set", "br0", "up")
        for i, ns in enumerate(self.hosts):
            _ip("netns", "add", ns)
            _ip("-n", self.bridge, "link", "add", f"p{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("-n", self.bridge, "link", "set", f"p{i}", "master", "br0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "multicast", "on", "up")
            _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")

    def command(self, i: int, argv: Sequence[str]) -> list[str]:
        """``argv`` run as host ``i`` (0-based)."""
        return ["ip", "netns", "exec", self.hosts[i], *argv]

    def popen(self, i: int, argv: Sequence[str], **kw) -> subprocess.Popen:
        return subprocess.Popen(self.command(i, argv), **kw)

    def close(self) -> None:
        for ns in [*self.hosts, self.bridge]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)

    def __exit__(self, *exc) -> None:
        self.close()


def read_records(path, event: str = "frame") -> list[dict]:
    """The ``event`` records of a JSON-lines log (``--log-file``), in order."""
    import json

    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                doc = json.loads(line)
            except ValueError:
                continue  # a line cut by a kill -9
            if doc.get("event") == event:
                out.append(doc)
    return out


def skews(a: list[dict], b: list[dict], since: float = 0.0) -> list[float]:
    """Show-time skew of host ``b`` against ``a`` in seconds, one per frame of ``a`` after show time ``since``.

    Each frame of ``a`` is matched with the frame of ``b`` nearest in ``monotonic_s`` (the same
    clock in every namespace); the skew is the difference of their show times less the difference
    of the moments they were read.  Frames of ``a`` outside ``b``'s run are skipped.
    """
    import bisect

    bm = [r["monotonic_s"] for r in b]
    out = []
    for r in a:
        if r["show_time_s"] <= since or not bm or not bm[0] <= r["monotonic_s"] <= bm[-1]:
            continue
        i = bisect.bisect_left(bm, r["monotonic_s"])
        cands = [j for j in (i - 1, i) if 0 <= j < len(b)]
        j = min(cands, key=lambda j: abs(bm[j] - r["monotonic_s"]))
        if b[j]["show_time_s"] <= 0:
            continue
        out.append((b[j]["show_time_s"] - r["show_time_s"]) - (b[j]["monotonic_s"] - r["monotonic_s"]))
    return out


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]
