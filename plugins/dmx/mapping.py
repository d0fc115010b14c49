"""``[[outputs.map]]`` entries: which part of the picture (or which parameter) drives which channels.

A region entry (``region = [x, y, w, h]``, normalised to the frame, top-left origin) sends the
region's mean red, green and blue to ``channel``, ``channel + 1`` and ``channel + 2`` of
``universe``; a parameter entry (``parameter = "/output/brightness"``) sends one channel, the
value scaled from ``range = [lo, hi]`` (default 0 … 1) to 0 … 255.  Every mistake raises
:class:`installation.api.OptionError` with the entry's field, which the runner places on the
show file's line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from installation.api import OptionError

REGION_KEYS = {"region", "universe", "channel"}
PARAMETER_KEYS = {"parameter", "universe", "channel", "range"}
#: samples per axis a region mean is taken over (a strided view: cheap on the render thread)
SAMPLES = 96


@dataclass(frozen=True)
class MapEntry:
    universe: int
    channel: int  # 1-based, as on a lighting desk
    region: tuple[float, float, float, float] | None = None
    parameter: str | None = None
    lo: float = 0.0
    hi: float = 1.0

    @property
    def width(self) -> int:
        return 3 if self.region is not None else 1

    def levels(self, rgb: np.ndarray | None, values: dict) -> list[int]:
        if self.region is not None:
            if rgb is None:
                raise ValueError("a region map entry needs the frame's pixels")
            h, w = rgb.shape[:2]
            x, y, rw, rh = self.region
            x0, y0 = min(int(x * w), w - 1), min(int(y * h), h - 1)
            x1, y1 = max(x0 + 1, round((x + rw) * w)), max(y0 + 1, round((y + rh) * h))
            sx, sy = max(1, (x1 - x0) // SAMPLES), max(1, (y1 - y0) // SAMPLES)
            mean = rgb[y0:y1:sy, x0:x1:sx].reshape(-1, 3).mean(axis=0)
            return [int(round(v)) for v in mean]
        value = values.get(self.parameter)
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)):
            return [0]
        scaled = (float(value) - self.lo) / (self.hi - self.lo) if self.hi != self.lo else 0.0
        return [int(round(255 * min(1.0, max(0.0, scaled))))]


def _int(entry: dict, j: int, key: str, lo: int, hi: int) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise OptionError(("map", j, key), f"must be an integer {lo} … {hi}, got {value!r}")
    return value


def parse_map(entries, universes: tuple[int, int]) -> list[MapEntry]:
    """Check every entry; ``universes`` is the protocol's (lowest, highest) universe number."""
    if not isinstance(entries, list) or not entries:
        raise OptionError(
            "map",
            "needs at least one [[outputs.map]] entry (a region or a parameter to send)",
            "region = [0, 0, 1, 1], universe = 0, channel = 1",
        )
    out: list[MapEntry] = []
    used: dict[tuple[int, int], int] = {}
    for j, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise OptionError(("map", j), f"must be a table, got {entry!r}")
        if ("region" in entry) == ("parameter" in entry):
            raise OptionError(("map", j), 'needs exactly one of region = [x, y, w, h] or parameter = "/address"')
        keys = REGION_KEYS if "region" in entry else PARAMETER_KEYS
        for key in entry:
            if key not in keys:
                raise OptionError(
                    ("map", j, key),
                    "unknown key",
                    f"a {'region' if 'region' in entry else 'parameter'} entry takes {', '.join(sorted(keys))}",
                )
        universe = _int(entry, j, "universe", *universes)
        channel = _int(entry, j, "channel", 1, 512)
        if "region" in entry:
            region = entry["region"]
            if (
                not isinstance(region, list)
                or len(region) != 4
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in region)
            ):
                raise OptionError(("map", j, "region"), f"must be [x, y, w, h], four numbers, got {region!r}")
            x, y, w, h = (float(v) for v in region)
            if not (0 <= x < 1 and 0 <= y < 1 and 0 < w and 0 < h and x + w <= 1 + 1e-9 and y + h <= 1 + 1e-9):
                raise OptionError(
                    ("map", j, "region"), f"must lie inside the frame (0 … 1, w and h > 0), got {region!r}"
                )
            item = MapEntry(universe, channel, region=(x, y, w, h))
        else:
            address = entry["parameter"]
            if not isinstance(address, str) or not address.startswith("/"):
                raise OptionError(
                    ("map", j, "parameter"), f'must be an OSC address such as "/output/brightness", got {address!r}'
                )
            given = entry.get("range", [0.0, 1.0])
            if (
                not isinstance(given, list)
                or len(given) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in given)
                or given[0] == given[1]
            ):
                raise OptionError(("map", j, "range"), f"must be [lo, hi], two different numbers, got {given!r}")
            lo, hi = float(given[0]), float(given[1])
            item = MapEntry(universe, channel, parameter=address, lo=lo, hi=hi)
        if channel + item.width - 1 > 512:
            raise OptionError(
                ("map", j, "channel"), f"a region sends 3 channels: {channel} … {channel + 2} goes past 512"
            )
        for c in range(channel, channel + item.width):
            if (universe, c) in used:
                raise OptionError(
                    ("map", j, "channel"),
                    f"universe {universe} channel {c} is already sent by map entry {used[universe, c] + 1}",
                )
            used[universe, c] = j
        out.append(item)
    return out
