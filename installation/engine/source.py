"""A keyframe source: walk → generator → post chain for one scene."""
from __future__ import annotations

import torch

from ..protocols import Generator, Walk, check_frames
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

    def time_of(self, index: int) -> float:
        return index / self.rate

    @torch.no_grad()
    def make(self, index: int) -> torch.Tensor:
        """``[3, H, W]`` float in [0, 1] on the generator's device; raises ``ValueError`` on bad output."""
        z = self.walk.latent(self.time_of(index), self.control).reshape(1, -1)
        frames = check_frames(self.generator.generate(z), expected_n=1)
        frames = check_frames(self.post(frames[:, :3]), expected_n=1)
        return frames[0].clamp(0.0, 1.0)
