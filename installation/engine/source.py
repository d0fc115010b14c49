"""A keyframe source: walk → generator → post chain for one scene."""

from __future__ import annotations

from typing import cast

import torch

from ..protocols import Generator, Walk, WSpaceGenerator, check_frames
from .post import PostChain


class KeyframeSource:
    """Makes keyframe ``k`` of a scene: the walk sampled at ``k / rate``, generated and post-processed."""

    def __init__(self, generator: Generator, walk: Walk, post: PostChain | None = None, keyframe_rate: float = 3.0):
        if keyframe_rate <= 0:
            raise ValueError("keyframe_rate must be positive")
        self.generator = generator
        self.walk = walk
        self.post = post or PostChain()
        self.rate = float(keyframe_rate)
        self.control: dict = {}

    def restart(self) -> None:
        """The scene starts over at local time 0: walks with history (steered) begin afresh."""
        restart = getattr(self.walk, "restart", None)
        if callable(restart):
            restart()

    def time_of(self, index: int) -> float:
        return index / self.rate

    @torch.no_grad()
    def make(self, index: int) -> torch.Tensor:
        """``[3, H, W]`` float in [0, 1] on the generator's device; raises ``ValueError`` on bad output."""
        latent = self.walk.latent(self.time_of(index), self.control)
        if getattr(self.walk, "space", "z") == "w":  # a w-space walk: [num_ws, w_dim] straight to synthesis
            gen = cast(WSpaceGenerator, self.generator)  # the w walk checked W_ATTRS when it was built
            w = latent.reshape(1, gen.num_ws, gen.w_dim).to(gen.device)
            frames = check_frames(gen.synthesize(w), expected_n=1)
        else:
            frames = check_frames(self.generator.generate(latent.reshape(1, -1)), expected_n=1)
        frames = check_frames(self.post(frames[:, :3]), expected_n=1)
        return frames[0].clamp(0.0, 1.0)
