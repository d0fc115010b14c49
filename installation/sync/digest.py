"""Which keyframes a frame showed, with a digest of each: to compare hosts' pictures frame by frame.

``--log-frames`` adds ``keyframes`` to each ``frame`` record: per layer, ``[index, digest]`` of
the two keyframes blended.  Hosts in lock-step show, at each show time, keyframes of the same
index; equal digests say the pictures are the same bit for bit (same model, same device kind).
A digest is computed once per keyframe, so the cost is one hash per keyframe, not per frame.
"""

from __future__ import annotations

import hashlib


def digest(kf) -> str:
    if kf.digest is None:
        data = kf.frame.detach().to("cpu").contiguous().numpy().tobytes()
        kf.digest = hashlib.blake2b(data, digest_size=8).hexdigest()
    return kf.digest


def shown_keyframes(snapshot) -> list[list]:
    """``[[index a, digest a, index b, digest b], ...]``: one entry per layer the snapshot draws."""
    out = []
    for plan in snapshot.layers:
        m = plan.mixer
        if m.shown_a is None or m.shown_b is None:
            continue
        out.append([m.shown_a.index, digest(m.shown_a), m.shown_b.index, digest(m.shown_b)])
    return out
