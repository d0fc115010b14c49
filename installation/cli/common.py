"""Helpers shared by sub-commands."""
from __future__ import annotations

import json

import torch
import typer


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; asking for CUDA without one is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise typer.BadParameter("CUDA was asked for but torch sees no CUDA device", param_hint="--device")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise typer.BadParameter(f"unknown device {name!r}: use auto, cpu or cuda", param_hint="--device")
    return torch.device(name)


def parse_options(pairs: list[str]) -> dict:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}``; values are parsed as JSON when they can be."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        key, value = pair.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
