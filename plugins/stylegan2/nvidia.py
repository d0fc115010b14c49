"""Reading NVIDIA stylegan2-ada-pytorch / stylegan3 network pickles without running their code.

Those pickles (a dict with ``'G'``, ``'D'``, ``'G_ema'``, ...) store every network object as a
*persistent-object record*: a call to ``torch_utils.persistence._reconstruct_persistent_obj``
with a ``meta`` dict holding ``type='class'``, ``version``, ``module_src`` (the whole Python
source of the module the class lived in), ``class_name`` and ``state`` (the module's
``__dict__``: ``_parameters``, ``_buffers``, ``_modules``, ``_init_args``, ``_init_kwargs`` ...).
NVIDIA's unpickler ``exec``s ``module_src``.  We never do: :class:`SafeUnpickler` resolves only
an allow-list of globals (tensor rebuilding, plain containers, the persistent-object hook mapped
to an inert :class:`PersistentRecord`, ``dnnlib.EasyDict`` mapped to a dict) and refuses
everything else — ``os.system``, ``builtins.eval``, ``exec``, any module import — before it can
be called, with an error that names the file.

:func:`nvidia_to_native` then maps the generator's tensors through a table
(:data:`NVIDIA_RULES`, see :mod:`.table`): every tensor is renamed to ours, or checked and dropped
(resampling filters), or the file is refused naming the key.  The recorded constructor arguments
go through a table too: an argument we do not know, or a value we would not build faithfully
(another architecture, filter, activation), refuses the file.  The architecture comes from the
weights' shapes.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from installation.api import CheckpointError

from .network import G2Config
from .ops import make_filter
from .table import Rule, any_value, check_kwargs, convert, one_of


class UnsafePickleError(CheckpointError):
    """A pickle asked for a global outside the allow-list; nothing from it was called."""


class PersistentRecord:
    """What a persistent network object becomes here: its class name, init kwargs and state, inert."""

    def __init__(self, meta: dict):
        if not isinstance(meta, dict) or meta.get("type") != "class":
            raise pickle.UnpicklingError("persistent object record without type 'class'")
        self.class_name = str(meta.get("class_name"))
        self.version = meta.get("version")
        self.module_src = meta.get("module_src")  # kept as text for error messages; never executed
        self.state = dict(meta.get("state") or {})

    @property
    def init_kwargs(self) -> dict:
        return dict(self.state.get("_init_kwargs") or {})

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Flatten ``_parameters``/``_buffers`` of this record and its ``_modules`` into dotted names."""
        out: dict[str, torch.Tensor] = {}
        for group in ("_parameters", "_buffers"):
            for name, value in (self.state.get(group) or {}).items():
                if isinstance(value, torch.Tensor):
                    out[prefix + name] = value
        for name, child in (self.state.get("_modules") or {}).items():
            if isinstance(child, PersistentRecord):
                out.update(child.tensors(f"{prefix}{name}."))
            elif child is not None:  # tensors inside it would be lost silently
                raise ValueError(f"{prefix}{name} is a {type(child).__name__}, not a network record")
        return out

    def __repr__(self) -> str:
        return f"<PersistentRecord {self.class_name}>"


class EasyDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict`` (a dict with attribute access in NVIDIA's code)."""


def _parameter(data, requires_grad=False, backward_hooks=None, state=None):
    return data  # a Parameter is only its tensor for us


def _storage_from_bytes(data: bytes):
    # a storage inside a plain pickle is a small legacy torch.save blob: read it weights-only
    return torch.load(io.BytesIO(data), weights_only=True)


_DTYPES = {name for name in dir(torch) if isinstance(getattr(torch, name, None), torch.dtype)}


def _allowed() -> dict[tuple[str, str], Any]:
    import numpy as np

    allowed: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): _parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _parameter,
        ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
        ("torch", "Size"): torch.Size,
        ("torch_utils.persistence", "_reconstruct_persistent_obj"): PersistentRecord,
        ("dnnlib.util", "EasyDict"): EasyDict,
        ("dnnlib", "EasyDict"): EasyDict,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }
    if hasattr(torch._utils, "_rebuild_tensor_v3"):
        allowed[("torch._utils", "_rebuild_tensor_v3")] = torch._utils._rebuild_tensor_v3
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray  # type: ignore[no-redef]  # the same module under numpy 1's name
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(mod, "_reconstruct")] = multiarray._reconstruct
        allowed[(mod, "scalar")] = multiarray.scalar
    for name in _DTYPES:
        allowed[("torch", name)] = getattr(torch, name)
    return allowed


class SafeUnpickler(pickle.Unpickler):
    """Unpickler that resolves only allow-listed globals; anything else raises before it is called."""

    def __init__(self, file, path: Path | str):
        super().__init__(file)
        self.path = Path(path)
        self.allowed = _allowed()

    def find_class(self, module: str, name: str):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                self.path,
                f"refused to load: the pickle asks for {module}.{name}, which is not "
                "a tensor, a plain container or a network record (no code from the file is run)",
            ) from None

    def persistent_load(self, pid):
        raise UnsafePickleError(self.path, f"refused to load: unexpected persistent id {str(pid)[:60]!r}")


def read_pickle(path: Path | str) -> Any:
    """Unpickle ``path`` with :class:`SafeUnpickler`; all failures name the file."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return SafeUnpickler(f, path).load()
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError(path, f"not a readable network pickle ({type(exc).__name__}: {exc})") from exc


def _standard_filter(key: str, t: torch.Tensor) -> str | None:
    if tuple(t.shape) == (4, 4) and torch.allclose(t.float(), make_filter(), atol=1e-6):
        return None
    return (
        f"a {'x'.join(map(str, t.shape))} resampling filter that is not the standard [1,3,3,1] one; "
        "other filters resample differently, so the file is refused"
    )


def _block(m: re.Match[str], layer: str) -> str:
    res = int(m["res"])
    k = res.bit_length() - 3 if res >= 4 and res & (res - 1) == 0 else f"res{res}"  # not a power of two: unused
    return f"synthesis.blocks.{k}.{layer}.{m['leaf']}"


_STYLED = r"(?P<leaf>weight|bias|noise_strength|noise_const|affine\.weight|affine\.bias)"

#: every tensor of an NVIDIA StyleGAN2 ``G_ema`` record: where it goes, or why the file is refused
NVIDIA_RULES = (
    Rule(
        r"synthesis\.(input|L\d+_\w+)\..*",
        refuse="this is a StyleGAN3 (alias-free) generator; only StyleGAN2 networks are supported",
    ),
    Rule(r"synthesis\.b\d+\.skip\..*", refuse="a 'resnet' generator block; only 'skip' generators are supported"),
    Rule(r"mapping\.fc(?P<i>\d+)\.(?P<leaf>weight|bias)", "mapping.net.{i}.{leaf}"),
    Rule(r"mapping\.embed\.(?P<leaf>weight|bias)", "mapping.embed.{leaf}"),
    Rule(r"mapping\.w_avg", "mapping.w_avg"),
    Rule(r"synthesis\.b4\.const", "synthesis.const"),
    Rule(r"synthesis\.b(?P<res>\d+)\.conv0\." + _STYLED, lambda m: _block(m, "conv_up")),
    Rule(r"synthesis\.b(?P<res>\d+)\.conv1\." + _STYLED, lambda m: _block(m, "conv")),
    Rule(
        r"synthesis\.b(?P<res>\d+)\.torgb\.(?P<leaf>weight|bias|affine\.weight|affine\.bias)",
        lambda m: _block(m, "to_rgb"),
    ),
    Rule(r"(.+\.)?resample_filter", check=_standard_filter),
)

#: every recorded constructor argument: read from the weights, precision-only, or a value we build faithfully
_SYNTHESIS_KWARGS = {
    "channel_base": any_value,
    "channel_max": any_value,
    "num_fp16_res": any_value,
    "conv_clamp": any_value,
    "use_fp16": any_value,
    "fp16_channels_last": any_value,
    "channels_last": any_value,
    "fused_modconv_default": any_value,
    "architecture": one_of("skip"),
    "resample_filter": one_of([1, 3, 3, 1], (1, 3, 3, 1)),
    "use_noise": one_of(True),
    "activation": one_of("lrelu"),
    "conv_kernel": one_of(3),
}
_MAPPING_KWARGS = {
    "num_layers": any_value,
    "embed_features": any_value,
    "layer_features": any_value,
    "lr_multiplier": any_value,
    "w_avg_beta": any_value,
    "num_ws": any_value,
    "activation": one_of("lrelu"),
}
_GENERATOR_KWARGS = {
    "z_dim": any_value,
    "c_dim": any_value,
    "w_dim": any_value,
    "img_resolution": any_value,
    "img_channels": any_value,
    "mapping_kwargs": any_value,
    "synthesis_kwargs": any_value,
    **_SYNTHESIS_KWARGS,
}


def nvidia_to_native(record: PersistentRecord, path: Path | str) -> tuple[G2Config, dict[str, torch.Tensor]]:
    """Config and renamed state dict of an NVIDIA StyleGAN2 generator record (``G_ema``).

    Every key is mapped or the file is refused."""
    path = Path(path)
    try:
        src = {k: v.detach().float() for k, v in record.tensors().items()}
    except ValueError as exc:
        raise CheckpointError(path, str(exc)) from exc
    kwargs = record.init_kwargs
    check_kwargs(kwargs, _GENERATOR_KWARGS, path, "generator")
    syn_kwargs = dict(kwargs.get("synthesis_kwargs") or {})
    check_kwargs(syn_kwargs, _SYNTHESIS_KWARGS, path, "synthesis")
    syn_kwargs.update({k: v for k, v in kwargs.items() if k in _SYNTHESIS_KWARGS})
    map_kwargs = dict(kwargs.get("mapping_kwargs") or {})
    check_kwargs(map_kwargs, _MAPPING_KWARGS, path, "mapping")

    out = convert(src, NVIDIA_RULES, path, "NVIDIA generator")
    if "mapping.net.0.weight" not in out or "synthesis.const" not in out:
        raise CheckpointError(path, "no StyleGAN2 generator weights found (mapping.fc0 / synthesis.b4.const missing)")
    channels = {4: int(out["synthesis.const"].shape[0])}
    for key, t in out.items():
        m = re.fullmatch(r"synthesis\.blocks\.(\d+)\.conv\.weight", key)
        if m:
            channels[2 ** (int(m.group(1)) + 2)] = int(t.shape[0])
    resolution = max(channels)
    n_layers = sum(1 for k in out if re.fullmatch(r"mapping\.net\.\d+\.weight", k))
    if f"mapping.net.{n_layers - 1}.weight" not in out:
        raise CheckpointError(path, f"mapping layers are not numbered 0..{n_layers - 1}")
    w_dim = out[f"mapping.net.{n_layers - 1}.weight"].shape[0]
    c_dim = out["mapping.embed.weight"].shape[1] if "mapping.embed.weight" in out else 0
    z_dim = out["mapping.net.0.weight"].shape[1] - (w_dim if c_dim else 0)
    if "mapping.w_avg" not in out:
        out["mapping.w_avg"] = torch.zeros(w_dim)
    last_rgb = f"synthesis.blocks.{int(math.log2(resolution)) - 2}.to_rgb.weight"
    if last_rgb not in out:
        raise CheckpointError(
            path, f"no toRGB layer at {resolution}x{resolution} (synthesis.b{resolution}.torgb missing)"
        )
    try:
        cfg = G2Config(
            resolution=resolution,
            z_dim=int(kwargs.get("z_dim", z_dim)),
            w_dim=int(w_dim),
            c_dim=int(c_dim),
            mapping_layers=n_layers,
            mapping_lr=float(map_kwargs.get("lr_multiplier", 0.01)),
            w_avg_beta=float(map_kwargs.get("w_avg_beta", 0.998) or 0.998),
            channels=channels,
            conv_clamp=syn_kwargs.get("conv_clamp"),
            img_channels=int(out[last_rgb].shape[0]),
        )
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path, f"not a StyleGAN2 generator this loader builds ({exc})") from exc
    return cfg, out


def load_nvidia_pickle(path: Path | str, key: str = "G_ema") -> tuple[G2Config, dict[str, torch.Tensor]]:
    """Read an NVIDIA network pickle safely and return our config and state dict for ``key``."""
    path = Path(path)
    data = read_pickle(path)
    if isinstance(data, PersistentRecord):
        record = data
    elif isinstance(data, dict) and isinstance(data.get(key), PersistentRecord):
        record = data[key]
    else:
        have = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(path, f"no {key!r} network in this pickle (found: {have})")
    if record.class_name != "Generator":
        raise CheckpointError(path, f"{key} is a {record.class_name}, expected a Generator")
    return nvidia_to_native(record, path)
