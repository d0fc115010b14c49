"""Is a weights file named in a show there and whole?  A cheap look at its structure, never a load.

A show check must catch a missing, truncated or garbage checkpoint before the show plays, on a
machine that may not have the GPU (or the time) to load the model.  So this reads headers and
sizes only, and never unpickles: safetensors (the JSON header and the data it promises), a
``torch.save`` zip (its central directory and every member's extent), a pickle (its protocol
byte and final STOP opcode).  Formats a plugin reads beyond these are the plugin's business: a
generator or post-stage factory may expose ``probe(path)``, which raises on a file it cannot use,
and is then asked instead.

Names follow the loaders: ``NAME`` without a suffix means ``NAME.safetensors``, a ``.json`` means
the ``.safetensors`` beside it, a folder must hold weights.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

#: suffixes that say "a weights file": garbage under one of them is an error, not a format we skip
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt", ".pkl", ".bin")


def weights_path(path: Path) -> Path:
    """The file a loader reads for ``path`` (see the module doc)."""
    if path.suffix == ".json":
        return path.with_suffix(".safetensors")
    if not path.exists() and not path.suffix:
        return path.with_suffix(".safetensors")
    return path


def _safetensors(path: Path, size: int) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            return "truncated: shorter than a safetensors header"
        n = int.from_bytes(head, "little")
        if n <= 1 or 8 + n > size:
            return "not a safetensors file (its header length points past the end: truncated or not weights)"
        try:
            header = json.loads(fh.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "not a safetensors file (unreadable header)"
    if not isinstance(header, dict):
        return "not a safetensors file (unreadable header)"
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError):
            return f"not a safetensors file (tensor {name!r} has no data offsets)"
    if 8 + n + end > size:
        return f"truncated: the header promises {8 + n + end} bytes, the file has {size}"
    return None


def _zip(path: Path, size: int) -> str | None:
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.header_offset + info.compress_size > size:
                    return f"truncated: member {info.filename!r} runs past the end"
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return f"not a readable torch checkpoint (broken zip: {exc})"
    return None


def _pickle(path: Path, size: int) -> str | None:
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        last = fh.read(1)
    if last != b".":  # every pickle ends with STOP
        return "truncated: the pickle does not end where a pickle ends"
    return None


def weights_problem(path: Path) -> str | None:
    """Why the weights at ``path`` cannot be used, or ``None`` when they look whole."""
    path = weights_path(Path(path))
    if path.is_dir():
        found = [p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES]
        return None if found else f"folder {path} holds no weights file ({', '.join(WEIGHT_SUFFIXES)})"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return f"file not found: {path}"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if size == 0:
        return f"empty file: {path}"
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head[:2] == b"PK":
            why = _zip(path, size)
        elif head[:1] == b"\x80":
            why = _pickle(path, size)
        elif path.suffix in WEIGHT_SUFFIXES:
            why = _safetensors(path, size)  # loaders sniff safetensors under other weight suffixes too
            if why is not None and path.suffix != ".safetensors":
                why = f"not a weights file: no safetensors, torch zip or pickle header ({head!r})"
        else:
            why = None  # not ours to judge: a format some plugin reads (it may offer a probe)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    return None if why is None else f"{path}: {why}"
