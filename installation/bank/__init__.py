"""The seed bank: named latents an artist chose (z, and w for mapping-network models), per model.

A bank is two files, ``NAME.safetensors`` (the tensors: ``ENTRY.z``, ``ENTRY.w``) and
``NAME.json`` (which model it belongs to, by a content hash of its weights, and each entry's
seed), so nothing in it can execute code when read.  Shows name entries in walks
(``seeds = ["calm-1", 7]``); :func:`attach_banks` (called by the show loader) fixes each walk's
bank file, beside the show unless the walk names one.  See docs/studio.md.
"""

from .attach import attach_banks, bank_of, named_seeds
from .fingerprint import model_hash
from .store import DEFAULT_NAME, Bank, BankError, Entry, check_name, is_name

__all__ = [
    "DEFAULT_NAME",
    "Bank",
    "BankError",
    "Entry",
    "attach_banks",
    "bank_of",
    "check_name",
    "is_name",
    "model_hash",
    "named_seeds",
]
