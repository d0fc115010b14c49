"""Keyframes of a seed walk: seed numbers, or names of latents kept in a seed bank.

``seeds = [12, "calm-1"]``: a number is the standard-normal latent of that seed (what a contact
sheet shows as cell 12), a name is read from the walk's bank file, after checking that the bank
was made with this generator's weights.  Kept apart from the walks so that seed resolution is
one small function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..bank import Bank, BankError, model_hash


def seed_latent(seed: int, dim: int) -> torch.Tensor:
    """The standard-normal latent of ``seed`` (same seed → same vector on every machine)."""
    return torch.randn(dim, generator=torch.Generator().manual_seed(int(seed)), dtype=torch.float32)


def resolve_keys(
    seeds: Sequence[Any], dim: int, bank: str | None = None, generator: Any = None
) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
    """``(z keys, w keys or None)`` for ``seeds``; ``ValueError`` (a :class:`BankError`) on a bad name."""
    zs: list[torch.Tensor] = []
    ws: list[torch.Tensor | None] = []
    loaded: Bank | None = None
    for s in seeds:
        if isinstance(s, str):
            if loaded is None:
                if not bank:
                    raise BankError(
                        None,
                        f"seed {s!r} is a bank name but the walk has no bank file",
                        "load the show from its file (the bank defaults to seeds.safetensors beside it)"
                        " or set bank = FILE",
                    )
                loaded = Bank.load(bank)
                if generator is not None:
                    loaded.check_model(model_hash(generator), f"the scene's {type(generator).__name__}")
            entry = loaded.get(s)
            if entry.z is None:  # a projection: only w exists; the walk must run in w (checked by make_walk)
                assert entry.w is not None  # Bank.load refuses an entry with neither
                zs.append(torch.zeros(dim))
                ws.append(entry.w.float().clone())
                continue
            z = entry.z.float().reshape(-1)
            if z.numel() != dim:
                raise BankError(loaded.meta_path, f"latent {s!r} has {z.numel()} values, the generator takes {dim}")
            zs.append(z.clone())
            ws.append(None if entry.w is None else entry.w.float().clone())
        elif isinstance(s, bool) or not isinstance(s, int):
            raise ValueError(f"seeds must be integers or bank names, got {s!r}")
        else:
            zs.append(seed_latent(s, dim))
            ws.append(None)
    return zs, ws
