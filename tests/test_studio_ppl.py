"""Perceptual path length on generators whose answer is known."""

from __future__ import annotations

import pytest
import torch

from installation.studio.ppl import DRAW, filtered_mean, model_ppl, path_lengths, resolve_space

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
    for m in (DRAW, 400 - DRAW):  # pairs are drawn DRAW paths at a time, whatever the batch
        lat = _normal(m, rng)
        want.append(c * c * ((lat[m:] - lat[:m]) ** 2).sum(1))
        torch.rand((m, 1), generator=rng)  # the t the measurement drew
    assert torch.allclose(lengths, torch.cat(want).double(), rtol=2e-2)
    # so the batch size changes nothing
    again = path_lengths(lambda lat: c * lat, lambda x: x, _normal, 400, space="w", batch=7)
    assert torch.allclose(again, lengths, rtol=1e-6)
    # E|b - a|² = 2 D for standard normal pairs
    assert abs(filtered_mean(lengths) / (c * c * 2 * D) - 1) < 0.1


def test_slerp_on_the_unit_sphere_has_the_length_of_the_arc():
    # identity generator and features: the speed along a great circle is the angle between the pair
    lengths = path_lengths(lambda lat: lat, lambda x: x, _normal, 200, space="z", batch=50).double()
    rng = torch.Generator().manual_seed(0)
    lat = torch.nn.functional.normalize(_normal(200, rng).double(), dim=1)
    want = torch.acos((lat[:200] * lat[200:]).sum(1)) ** 2
    assert torch.allclose(lengths, want, rtol=2e-2)


def test_percentile_filtering_drops_the_outliers():
    v = torch.cat([torch.ones(98), torch.tensor([0.0, 1e6])])
    assert filtered_mean(v) == 1.0


class LinearW:
    """A mapping-network generator with a known answer: mapping = identity, G(w) = A w as a 3x2x2 picture."""

    def __init__(self, a: torch.Tensor):
        self.a, self.latent_dim, self.w_dim, self.num_ws, self.device = a, a.shape[1], a.shape[1], 1, "cpu"

    def mapping(self, z, psi=1.0):
        return z.unsqueeze(1)

    def mean_w(self):
        return torch.zeros(self.w_dim)

    def synthesize(self, ws):
        return 0.5 + (ws[:, 0] @ self.a.T).reshape(-1, 3, 2, 2)  # inside [0, 1]: the clamp keeps it

    def generate(self, z):
        return self.synthesize(self.mapping(z))


class Flat:
    latent_dim, device = 5, "cpu"

    def generate(self, z):
        return torch.full((z.shape[0], 3, 4, 4), 0.3)


def test_a_mapping_network_model_is_measured_in_w_with_the_analytic_answer():
    # G(w) = A w, identity features: every sample is |A (w1 - w0)|², whatever t; auto picks w
    a = torch.randn(12, 6, generator=torch.Generator().manual_seed(0)) * 0.02
    res = model_ppl(LinearW(a), lambda x: x.flatten(1), 300, batch=30, seed=3)
    assert res.space == "w" and res.lengths.shape == (300,)
    rng = torch.Generator().manual_seed(3)
    want = []
    for m in (DRAW, 300 - DRAW):
        z = torch.randn(2 * m, 6, generator=rng)
        want.append(((z[m:] - z[:m]) @ a.T).pow(2).sum(1))
        torch.rand((m, 1, 1), generator=rng)  # the t the measurement drew
    want = torch.cat(want).double()
    assert torch.allclose(res.lengths, want, rtol=2e-2, atol=1e-7)
    assert res.value == pytest.approx(filtered_mean(want), rel=2e-2)
    assert "PPL " in res.line("linear") and "300 paths in w (full)" in res.line("linear")


def test_z_space_of_a_constant_model_is_zero_and_w_needs_a_mapping_network():
    assert model_ppl(Flat(), lambda x: x.flatten(1), 20).value == 0.0
    assert resolve_space(Flat(), "auto") == "z" and resolve_space(LinearW(torch.eye(12, 6)), "z") == "z"
    with pytest.raises(ValueError, match="no mapping network"):
        model_ppl(Flat(), lambda x: x.flatten(1), 4, space="w")
