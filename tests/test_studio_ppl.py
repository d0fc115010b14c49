"""Perceptual path length on generators whose answer is known."""

from __future__ import annotations

import torch

from installation.studio.ppl import filtered_mean, path_lengths

D = 32


def _normal(n, rng):
    return torch.randn(2 * n, D, generator=rng)


def _linear(c):
    return lambda lat: (c * lat).reshape(lat.shape[0], 2, 4, 4).repeat(1, 2, 1, 1)[:, :3]


def test_a_constant_generator_has_zero_path_length():
    lengths = path_lengths(lambda lat: torch.full((lat.shape[0], 3, 8, 8), 0.5), lambda x: x, _normal, 64)
    assert lengths.shape == (64,) and filtered_mean(lengths) == 0.0


def test_lerp_through_a_linear_generator_is_the_squared_distance_of_the_pair():
    # G(w) = c w with identity features: |G(lerp(t + eps)) - G(lerp(t))|² / eps² = c² |b - a|² for every t
    c = 3.0
    lengths = path_lengths(lambda lat: c * lat, lambda x: x, _normal, 400, space="w", batch=50)
    rng = torch.Generator().manual_seed(0)
    want = []
    for _ in range(8):
        lat = _normal(50, rng)
        want.append(c * c * ((lat[50:] - lat[:50]) ** 2).sum(1))
        torch.rand((50, 1), generator=rng)  # the t the measurement drew
    assert torch.allclose(lengths, torch.cat(want).double(), rtol=2e-2)
    # E|b - a|² = 2 D for standard normal pairs
    assert abs(filtered_mean(lengths) / (c * c * 2 * D) - 1) < 0.1


def test_slerp_on_the_unit_sphere_has_the_length_of_the_arc():
    # identity generator and features: the speed along a great circle is the angle between the pair
    lengths = path_lengths(lambda lat: lat, lambda x: x, _normal, 200, space="z", batch=50).double()
    rng = torch.Generator().manual_seed(0)
    want = []
    for _ in range(4):
        lat = torch.nn.functional.normalize(_normal(50, rng).double(), dim=1)
        want.append(torch.acos((lat[:50] * lat[50:]).sum(1)) ** 2)
        torch.rand((50, 1), generator=rng)
    assert torch.allclose(lengths, torch.cat(want), rtol=2e-2)


def test_percentile_filtering_drops_the_outliers():
    v = torch.cat([torch.ones(98), torch.tensor([0.0, 1e6])])
    assert filtered_mean(v) == 1.0
