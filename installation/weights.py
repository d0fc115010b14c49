"""Native weights format: ``NAME.safetensors`` plus ``NAME.json``, one metadata shape for every model.

safetensors holds only tensors and cannot execute code when read, which is why shipped and
exported weights use it.  The JSON beside it is always a :class:`WeightsMeta`::

    {"version": 1, "model": "vae", "config": {...}, "provenance": {...}}

``model`` names the network kind (a deblur file given to the VAE is refused), ``config`` is what
the plugin needs to rebuild the network, ``provenance`` says how it was made (steps, data,
hyper-parameters) and is never read by a loader.  Files written before the version field had one
of a few older layouts; :func:`read_meta` upgrades those in memory (``python3 -m
installation.weights upgrade FILE.json...`` rewrites them).  Errors name the file, so a corrupt or
mismatched checkpoint is refused clearly.

:func:`detect_format` tells files apart by their first bytes, never by their suffix, and
:func:`read_torch_checkpoint` is the one way a plugin reads a ``torch.save`` file: weights only,
so nothing in it can run code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, overload

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors.torch import load_file, save_file

META_VERSION: Literal[1] = 1


class CheckpointError(ValueError):
    """A weights file that cannot be read or does not match the model; names the path."""

    def __init__(self, path: Path | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class LatentSizeError(CheckpointError):
    """A latents file (a bank, a latents walk) made for a model of another latent size.

    Its own type because a show check that builds a walk without the model (with a stand-in
    latent size) must not report it: the real build, which knows the model, does.
    """


class WeightsMeta(BaseModel):
    """The one shape of ``NAME.json`` beside ``NAME.safetensors``."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = META_VERSION
    #: network kind the loader checks: "stylegan2", "vae", "deblur", "wgan-dcgan", "espcn", "latents", ...
    model: str = Field(min_length=1)
    #: everything the plugin needs to rebuild the network (constructor arguments)
    config: dict[str, Any] = Field(default_factory=dict)
    #: how the file was made (steps, images seen, data, hyper-parameters); informational only
    provenance: dict[str, Any] = Field(default_factory=dict)


# -- file formats ---------------------------------------------------------------------------------

_TORCH_LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


def detect_format(path: Path | str) -> str:
    """What a file is, from its content.

    One of ``safetensors`` | ``torch-zip`` | ``torch-legacy`` | ``pickle`` | ``json`` | ``unknown``.
    ``torch-zip`` is ``torch.save``'s default container (a zip archive), ``torch-legacy`` the
    pre-1.6 ``torch.save`` stream (a pickle of torch's magic number first), ``pickle`` any other
    pickle stream (e.g. an NVIDIA network pickle).  Raises :class:`CheckpointError` if the file
    cannot be opened.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(64)
        size = path.stat().st_size
    except OSError as exc:
        raise CheckpointError(
            path, "file not found" if isinstance(exc, FileNotFoundError) else f"cannot read ({exc})"
        ) from exc
    if head[:4] == b"PK\x03\x04":
        return "torch-zip"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        if head[2:4] == b"\x8a\x0a" and head[4:14] == _TORCH_LEGACY_MAGIC:
            return "torch-legacy"
        return "pickle"
    if len(head) >= 9:
        n = int.from_bytes(head[:8], "little")
        if head[8:9] == b"{" and 8 + n <= size:
            return "safetensors"
    if head.lstrip()[:1] == b"{":
        return "json"
    return "unknown"


def read_torch_checkpoint(path: Path | str, safe_globals: Iterable[type] = ()) -> Any:
    """``torch.load(weights_only=True)`` with an error that names the file.

    Only tensors, plain containers and the classes in ``safe_globals`` are rebuilt; a checkpoint
    that needs any other code is refused before anything in it runs.
    """
    path = Path(path)
    fmt = detect_format(path)
    if fmt not in ("torch-zip", "torch-legacy"):
        raise CheckpointError(path, f"not a torch checkpoint (the file is {fmt})")
    try:  # an open file, not the path: torch would go by the suffix (a ".safetensors" name is read as one)
        with open(path, "rb") as f, torch.serialization.safe_globals(list(safe_globals)):
            return torch.load(f, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointError(
            path, f"cannot read as a weights-only torch checkpoint ({type(exc).__name__}: {first})"
        ) from exc


# -- metadata -------------------------------------------------------------------------------------

#: older layouts (no ``version``): model tag → the keys that were the network's config
_LEGACY_FLAT = {
    "espcn": ("scale", "features", "mid", "layers"),
    "vae": ("resolution", "latent_dim", "channels", "base"),
    "deblur": ("width",),
    "wgan-dcgan": ("z_dim", "width", "resolution"),
}
_LEGACY_LATENTS = {"latent_dim", "photos", "checkpoint"}


def upgrade_legacy(data: dict[str, Any]) -> dict[str, Any] | None:
    """A version-less metadata dict in one of the older layouts as a version-1 dict, else ``None``."""
    if data.get("format") == "installation-stylegan2" and isinstance(data.get("config"), dict):
        rest = {k: v for k, v in data.items() if k not in ("format", "config")}
        return {"version": 1, "model": "stylegan2", "config": data["config"], "provenance": rest}
    tag = data.get("model")
    if isinstance(tag, str) and tag in _LEGACY_FLAT:
        keys = _LEGACY_FLAT[tag]
        return {
            "version": 1,
            "model": tag,
            "config": {k: data[k] for k in keys if k in data},
            "provenance": {k: v for k, v in data.items() if k != "model" and k not in keys},
        }
    if "latent_dim" in data and set(data) <= _LEGACY_LATENTS:
        return {
            "version": 1,
            "model": "latents",
            "config": {"latent_dim": data["latent_dim"]},
            "provenance": {k: v for k, v in data.items() if k != "latent_dim"},
        }
    return None


def meta_path(path: Path | str) -> Path:
    """The metadata file of a weights file (``NAME.safetensors`` → ``NAME.json``)."""
    return Path(path).with_suffix(".json")


def parse_meta(data: Any, path: Path | str) -> WeightsMeta:
    """Validate a parsed metadata document; :class:`CheckpointError` names the file and the field."""
    if not isinstance(data, dict):
        raise CheckpointError(path, f"weights metadata must be a JSON object, got {type(data).__name__}")
    if "version" not in data:
        upgraded = upgrade_legacy(data)
        if upgraded is None:
            raise CheckpointError(
                path,
                "weights metadata has no 'version' and is not a known older layout "
                f'(expected {{"version": {META_VERSION}, "model": ..., "config": {{...}}}})',
            )
        data = upgraded
    elif data["version"] != META_VERSION:
        raise CheckpointError(
            path,
            f"weights metadata version {data['version']!r} is not one this installation reads "
            f"(it reads version {META_VERSION})",
        )
    try:
        return WeightsMeta.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors())
        raise CheckpointError(path, f"bad weights metadata: {problems}") from None


def read_meta(path: Path | str, model: str | None = None) -> WeightsMeta | None:
    """The :class:`WeightsMeta` of a weights file (or of the ``.json`` itself); ``None`` if there is none.

    With ``model``, the metadata must exist and name that model.
    """
    mpath = meta_path(path)
    if not mpath.exists():
        if model is not None:
            raise CheckpointError(mpath, f"file not found (the metadata beside the weights; expected model {model!r})")
        return None
    try:
        data = json.loads(mpath.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(mpath, f"cannot read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise CheckpointError(mpath, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    meta = parse_meta(data, mpath)
    if model is not None and meta.model != model:
        raise CheckpointError(
            mpath, f"metadata says model {meta.model!r}, expected {model!r} (is this the right file?)"
        )
    return meta


def write_meta(path: Path | str, meta: WeightsMeta) -> Path:
    """Write ``meta`` as the metadata of weights file ``path``; return the ``.json`` path."""
    mpath = meta_path(path)
    mpath.parent.mkdir(parents=True, exist_ok=True)
    mpath.write_text(json.dumps(meta.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    return mpath


def current_umask() -> int:
    """The process umask, read without changing it where the system tells it (Linux), else briefly set."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def as_user_file(path: Path | str) -> Path:
    """Give ``path`` the mode any file the user writes gets (0666 less the umask: 0644 usually).

    safetensors writes its files mode 0600, which left exported weights unreadable to the
    account a gallery machine runs shows under.
    """
    import os

    os.chmod(path, 0o666 & ~current_umask())
    return Path(path)


def save_weights(path: Path | str, state: dict[str, torch.Tensor], meta: WeightsMeta) -> Path:
    """Write ``path`` (.safetensors) and its sibling ``.json`` metadata; return the weights path."""
    if not isinstance(meta, WeightsMeta):
        raise TypeError(f"save_weights needs a WeightsMeta, got {type(meta).__name__}")
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(path))
    as_user_file(path)
    write_meta(path, meta)
    return path


@overload
def load_weights(path: Path | str, model: str) -> tuple[dict[str, torch.Tensor], WeightsMeta]: ...
@overload
def load_weights(path: Path | str, model: None = None) -> tuple[dict[str, torch.Tensor], WeightsMeta | None]: ...
def load_weights(path: Path | str, model: str | None = None) -> tuple[dict[str, torch.Tensor], WeightsMeta | None]:
    """Read weights and metadata; raise :class:`CheckpointError` naming the file on any problem.

    ``model`` (e.g. ``"vae"``) makes the metadata required and checks that it names that model;
    without it the metadata is optional (``None`` when there is no ``.json``).
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    if not path.exists():
        raise CheckpointError(path, "file not found")
    fmt = detect_format(path)
    if fmt != "safetensors":
        raise CheckpointError(path, f"not a safetensors file (its content is {fmt})")
    try:
        state = load_file(str(path))
    except Exception as exc:
        raise CheckpointError(path, f"not a readable safetensors file ({exc})") from exc
    return state, read_meta(path, model)


def _keys(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def state_mismatch(module: torch.nn.Module, state: dict[str, torch.Tensor]) -> str | None:
    """Why ``state`` does not fit ``module`` (missing keys, unused keys, wrong shapes), or ``None``."""
    want = module.state_dict()
    missing = [k for k in want if k not in state]
    unused = [k for k in state if k not in want]
    shapes = [
        f"{k} is {tuple(state[k].shape)}, the model wants {tuple(want[k].shape)}"
        for k in want
        if k in state and tuple(state[k].shape) != tuple(want[k].shape)
    ]
    parts = []
    if missing:
        parts.append(f"missing {_keys(missing)}")
    if unused:
        parts.append(f"unused {_keys(unused)}")
    if shapes:
        parts.append(_keys(shapes, 3))
    return "; ".join(parts) or None


def load_into(module: torch.nn.Module, state: dict[str, torch.Tensor], path: Path | str) -> None:
    """``load_state_dict(strict=True)``, refused first with an error that names the path and the keys."""
    problem = state_mismatch(module, state)
    if problem:
        raise CheckpointError(path, f"weights do not match the model: {problem}")
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(path, f"weights do not match the model: {str(exc).splitlines()[0]}") from exc


def _main(argv: list[str]) -> int:
    """``python3 -m installation.weights upgrade FILE.json...``: rewrite older metadata as version 1."""
    if len(argv) < 2 or argv[0] != "upgrade":
        print("usage: python3 -m installation.weights upgrade FILE.json...")
        return 2
    status = 0
    for name in argv[1:]:
        try:
            meta = read_meta(name)
            if meta is None:
                raise CheckpointError(meta_path(name), "file not found")
        except CheckpointError as exc:
            print(f"error: {exc}")
            status = 1
            continue
        print(f"{write_meta(name, meta)}: version {meta.version}, model {meta.model!r}")
    return status


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
