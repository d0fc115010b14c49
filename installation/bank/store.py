"""Read and write bank files (safetensors + JSON, never pickle)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..problems import Problem, ProblemError
from ..weights import as_user_file

KIND = "installation-seed-bank"
VERSION = 1
#: the bank file a show uses when its walk names none (beside the show file)
DEFAULT_NAME = "seeds.safetensors"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(_NAME.match(value))


def check_name(value: str) -> str:
    if not is_name(value):
        raise ValueError(
            f"bank name {value!r} must start with a letter and use only letters, digits, '-', '_' "
            f"or '.' (at most 64 characters); plain numbers stay seed numbers"
        )
    return value


class BankError(ProblemError):
    """A bank file that cannot be used (missing, corrupt, another model's, a name it lacks)."""

    def __init__(self, path: Path | str | None, message: str, hint: str = "", field: str = "bank"):
        super().__init__(path, Problem(None, field, message, hint))

    def __reduce__(self):
        p = self.problems[0]
        return (type(self), (self.path, p.message, p.hint, p.field))


@dataclass
class Entry:
    """A kept latent: z (from a seed, or a VAE's encoder), w (StyleGAN2; the only one of a projection)."""

    name: str
    z: torch.Tensor | None
    w: torch.Tensor | None = None
    seed: int | None = None
    source: str | None = None  # the picture a projection started from
    psnr: float | None = None


def _paths(path: Path | str) -> tuple[Path, Path]:
    p = Path(path)
    if p.suffix == ".json":
        p = p.with_suffix(".safetensors")
    elif p.suffix != ".safetensors":
        p = p.with_name(p.name + ".safetensors")
    return p, p.with_suffix(".json")


class Bank:
    """Named latents of one model (``model`` names the plugin, ``model_hash`` its weights)."""

    def __init__(
        self,
        path: Path | str,
        model: str = "",
        model_hash: str = "",
        checkpoint: str | None = None,
        entries: dict[str, Entry] | None = None,
    ):
        self.path, self.meta_path = _paths(path)
        self.model, self.model_hash, self.checkpoint = model, model_hash, checkpoint
        self.entries: dict[str, Entry] = dict(entries or {})

    # -- files --------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | str) -> Bank:
        tensors_path, meta_path = _paths(path)
        if not meta_path.exists() or not tensors_path.exists():
            missing = meta_path if not meta_path.exists() else tensors_path
            raise BankError(
                missing, "seed bank file not found", "make one with `installation seeds keep MODEL SEED --name NAME`"
            )
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BankError(meta_path, f"cannot read the bank's JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("kind") != KIND or meta.get("version") != VERSION:
            raise BankError(meta_path, f"not a seed bank (expected kind {KIND!r}, version {VERSION})")
        try:
            tensors = load_file(str(tensors_path))
        except Exception as exc:
            raise BankError(tensors_path, f"not a readable safetensors file ({exc})") from None
        entries = {}
        for name, info in (meta.get("entries") or {}).items():
            if f"{name}.z" not in tensors and f"{name}.w" not in tensors:
                raise BankError(tensors_path, f"entry {name!r} has neither tensor {name}.z nor {name}.w")
            info = info if isinstance(info, dict) else {}
            entries[name] = Entry(
                name,
                tensors.get(f"{name}.z"),
                tensors.get(f"{name}.w"),
                info.get("seed"),
                info.get("source"),
                info.get("psnr"),
            )
        model = meta.get("model") or {}
        return cls(
            tensors_path, str(model.get("plugin", "")), str(model.get("hash", "")), model.get("checkpoint"), entries
        )

    def save(self) -> Path:
        """Write both files (the tensors first, then the JSON that names them); mode follows the umask."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, torch.Tensor] = {}
        for e in self.entries.values():
            if e.z is not None:
                tensors[f"{e.name}.z"] = e.z.detach().float().cpu().contiguous()
            if e.w is not None:
                tensors[f"{e.name}.w"] = e.w.detach().float().cpu().contiguous()
        tmp = self.path.with_name(self.path.name + ".tmp")
        save_file(tensors, str(tmp), metadata={"kind": KIND})
        as_user_file(tmp)
        tmp.replace(self.path)
        meta = {
            "kind": KIND,
            "version": VERSION,
            "model": {"plugin": self.model, "hash": self.model_hash, "checkpoint": self.checkpoint},
            "entries": {
                e.name: {
                    k: v
                    for k, v in (
                        ("seed", e.seed),
                        ("z", e.z is not None),
                        ("w", e.w is not None),
                        ("source", e.source),
                        ("psnr", e.psnr),
                    )
                    if v is not None
                }
                for e in self.entries.values()
            },
        }
        self.meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        return self.path

    # -- use ----------------------------------------------------------------------------------
    def check_model(self, model_hash: str, describe: str = "this model") -> None:
        """Refuse a model whose weights are not the ones the bank's latents were chosen on."""
        if self.model_hash and model_hash != self.model_hash:
            raise BankError(
                self.meta_path,
                f"this bank belongs to another model: {self.model or '?'} {self.checkpoint or '(shipped weights)'} "
                f"with weights {self.model_hash[:19]}, not {describe} ({model_hash[:19]})",
                "keep latents for this model in another bank (--bank FILE); a latent means nothing to other weights",
            )

    def get(self, name: str) -> Entry:
        if name not in self.entries:
            import difflib

            close = difflib.get_close_matches(name, list(self.entries), n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else (f"it has {', '.join(sorted(self.entries)) or 'no entries'}")
            )
            raise BankError(self.meta_path, f"no latent named {name!r} in this bank", hint)
        return self.entries[name]
