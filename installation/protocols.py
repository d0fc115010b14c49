"""The nouns a plugin implements.

Tensors inside plugins are NCHW float.  At the frame boundary (what ``generate`` and post
stages return) a frame batch is ``[N, 3, H, W]`` float in ``[0, 1]`` on the generator's device;
the renderer converts it for upload.  Keeping frames on the device until upload is what lets
the CUDA path later become zero-copy without changing any plugin.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class Generator(Protocol):
    """A model that turns latents into frames."""

    #: size of one latent vector (z) the walk must produce
    latent_dim: int
    #: native output size (height, width)
    resolution: tuple[int, int]
    #: where the model lives; ``generate`` returns tensors there
    device: torch.device

    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        """``[N, latent_dim]`` float → ``[N, 3, H, W]`` float in [0, 1] on ``self.device``."""
        ...


class WSpaceGenerator(Generator, Protocol):
    """A generator a walk can drive in w (StyleGAN): what the engine calls on one.

    The full set a w-space walk checks for is ``installation.walks.wspace.W_ATTRS``.
    """

    num_ws: int
    w_dim: int

    def synthesize(self, ws: torch.Tensor) -> torch.Tensor:
        """``[N, num_ws, w_dim]`` → ``[N, 3, H, W]`` float in [0, 1] on ``self.device``."""
        ...


@runtime_checkable
class PostProcessor(Protocol):
    """A stage of the post chain (deblur, upscale, colour)."""

    def process(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, 3, H, W]`` in [0, 1] → ``[N, 3, H', W']`` in [0, 1], same device."""
        ...


@runtime_checkable
class Walk(Protocol):
    """A latent walk: a pure function of time and control state, deterministic given its seed."""

    latent_dim: int

    def latent(self, t: float, control: Mapping[str, Any] | None = None) -> torch.Tensor:
        """Latent vector ``[latent_dim]`` (float32, CPU) at show time ``t`` seconds."""
        ...


@runtime_checkable
class Input(Protocol):
    """A control input source (OSC, MIDI, audio, serial): puts control events on its queue from its own thread."""

    def start(self) -> Input:
        """Open the device or socket and start the thread; return ``self``."""
        ...

    def stop(self) -> None:
        """Stop the thread and release the device; safe to call twice."""
        ...


class ContractError(TypeError):
    """A plugin contribution that does not implement its protocol; names the plugin and what is missing.

    A ``TypeError`` so the places that build scenes and inputs already treat it as a bad plugin,
    costing that scene or input only.
    """


def protocol_members(protocol: type) -> tuple[list[str], list[str]]:
    """``(attributes, methods)`` a protocol class declares (its own and inherited), public names only."""
    attrs: list[str] = []
    methods: list[str] = []
    for cls in reversed(protocol.__mro__):
        if cls in (object, Protocol) or cls.__module__ == "typing":
            continue
        for name in getattr(cls, "__annotations__", {}):
            if not name.startswith("_") and name not in attrs:
                attrs.append(name)
        for name, value in vars(cls).items():
            if not name.startswith("_") and callable(value) and name not in methods:
                methods.append(name)
    return attrs, methods


def missing_members(obj: Any, protocol: type, methods_only: bool = False) -> list[str]:
    """What ``obj`` (an instance, or a class when ``methods_only``) lacks of ``protocol``.

    E.g. ``["generate()", "latent_dim"]``.
    """
    attrs, methods = protocol_members(protocol)
    missing = [f"{m}()" for m in methods if not callable(getattr(obj, m, None))]
    if not methods_only:
        hints: dict[str, object] = {}
        for cls in protocol.__mro__:
            hints.update(getattr(cls, "__annotations__", {}))
        for name in attrs:
            if not hasattr(obj, name):
                missing.append(name)
            elif hints.get(name) in ("int", int) and (
                isinstance(getattr(obj, name), bool) or not isinstance(getattr(obj, name), numbers.Integral)
            ):
                missing.append(f"{name} (an int, got {type(getattr(obj, name)).__name__})")
    return missing


def check_contribution(obj: Any, protocol: type, what: str, methods_only: bool = False) -> Any:
    """Return ``obj`` if it implements ``protocol``, else raise :class:`ContractError`.

    The error says which members ``what`` lacks; ``what`` names the contribution and its plugin,
    e.g. ``"generator 'flat' of plugin 'flatplug' (/x/flatplug.py)"``.
    """
    missing = missing_members(obj, protocol, methods_only)
    if missing:
        kind = "class" if isinstance(obj, type) else type(obj).__name__
        raise ContractError(f"{what} does not implement {protocol.__name__}: its {kind} lacks {', '.join(missing)}")
    return obj


def check_frames(frames: Any, expected_n: int | None = None) -> torch.Tensor:
    """Validate a frame batch at the plugin boundary; raise ``ValueError`` naming the problem.

    Used by the worker so that a plugin returning NaN or a wrong shape costs its scene,
    never the show.
    """
    if not isinstance(frames, torch.Tensor):
        raise ValueError(f"generator returned {type(frames).__name__}, expected a torch.Tensor")
    if frames.dim() != 4 or frames.shape[1] not in (3, 4):
        raise ValueError(f"generator returned shape {tuple(frames.shape)}, expected [N, 3, H, W]")
    if expected_n is not None and frames.shape[0] != expected_n:
        raise ValueError(f"generator returned {frames.shape[0]} frames for {expected_n} latents")
    if not frames.is_floating_point():
        raise ValueError(f"generator returned dtype {frames.dtype}, expected float")
    if not bool(torch.isfinite(frames).all()):
        raise ValueError("generator returned NaN or infinite values")
    return frames


@runtime_checkable
class Output(Protocol):
    """Where drawn frames go: a window, a recording, a network stream (NDI, web, DMX).

    The runner opens every output of a run, then hands each frame, drawn once, to all of them
    in order; it always calls :meth:`close`, also after an error.  Optional members the runner
    uses when present: ``provides_context = True`` and a ``context`` attribute set by ``open``
    (the moderngl context the show draws with: windows and headless; at most one per run),
    ``poll() -> list[str]`` (control addresses, e.g. from keys, queued as control events),
    ``closed`` (true ends the run), ``paced`` (true: the output waits for the display's refresh,
    so the runner does not sleep between frames) and ``describe() -> str`` (for messages).
    """

    def open(self, canvas: Any) -> None:
        """Start: ``canvas`` (:class:`installation.output.base.Canvas`) gives size, fps and title.
        Raise with a clear message when the output cannot start (the runner names the output)."""
        ...

    def write(self, frame: Any) -> None:
        """Show or send one frame (:class:`installation.output.base.Frame`): ``frame.rgb()`` is
        RGB uint8 ``[H, W, 3]`` top row first, shared by all outputs; ``frame.texture`` the GL
        texture.  Must not keep the frame past the call (copy what is needed)."""
        ...

    def close(self) -> None:
        """Finish (finalise files, close windows and sockets); called once, also after errors."""
        ...
