"""The nouns a plugin implements.

Tensors inside plugins are NCHW float.  At the frame boundary (what ``generate`` and post
stages return) a frame batch is ``[N, 3, H, W]`` float in ``[0, 1]`` on the generator's device;
the renderer converts it for upload.  Keeping frames on the device until upload is what lets
the CUDA path later become zero-copy without changing any plugin.
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol, runtime_checkable

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
