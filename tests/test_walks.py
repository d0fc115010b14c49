"""Latent walks: loops close, walks stay on the latent distribution, determinism, steering, w space."""
from __future__ import annotations

import math

import pytest
import torch

from installation.engine.post import PostChain
from installation.engine.source import KeyframeSource
from installation.walks import (DirectionsWalk, HarmonicLoop, MomentumWalk, SeedSlerp, SteeredWalk, WSpaceWalk,
                                make_walk, principal_directions)
from installation.walks.loops import make_loop, make_noise

DIM = 512


def walks(seed=0):
    return {
        "slerp": SeedSlerp(DIM, seed, seeds=[seed + 1, seed + 2, seed + 3], hold=[1.0, 0.5, 0.0], transition=2.0),
        "loop": make_loop(DIM, seed, period=17.0),
        "noise": make_noise(DIM, seed, period=23.0, octaves=6),
        "random": MomentumWalk(DIM, seed, lengthscale=3.0),
        "steered": SteeredWalk(DIM, seed, period=19.0),
    }


PERIODS = {"slerp": 7.5, "loop": 17.0, "noise": 23.0, "steered": 19.0}


@pytest.mark.parametrize("name", sorted(PERIODS))
def test_loops_close(name):
    walk, period = walks()[name], PERIODS[name]
    for t in (0.0, 0.3, 4.1, 11.7, 1000.2):
        a, b = walk.latent(t), walk.latent(t + period)
        assert torch.allclose(a, b, atol=1e-4), (name, t)
        assert not torch.allclose(walk.latent(t), walk.latent(t + period / 3), atol=1e-2)


def norm_stats(walk, times):
    z = torch.stack([walk.latent(t) for t in times])
    norms = z.norm(dim=1) / math.sqrt(z.shape[1])
    return z, norms


@pytest.mark.parametrize("name", ["loop", "noise", "random", "steered", "slerp"])
def test_walks_stay_on_the_latent_distribution(name):
    times = [0.37 * k for k in range(120)]
    z, norms = norm_stats(walks(seed=5)[name], times)
    # |z| / sqrt(d) of a standard normal in 512-d is 1 ± 0.03; interpolation toward the origin would fall well below
    assert norms.min() > 0.9 and norms.max() < 1.1, (norms.min(), norms.max())
    assert abs(float(z.mean())) < 0.05
    assert abs(float(z.pow(2).mean()) - 1) < 0.1


def test_the_norm_check_catches_linear_interpolation():
    a, b = torch.randn(DIM, generator=torch.Generator().manual_seed(1)), torch.randn(DIM, generator=torch.Generator().manual_seed(2))
    mid = (a + b) / 2
    assert mid.norm() / math.sqrt(DIM) < 0.8


def test_momentum_walk_is_smooth_and_never_repeats():
    w = MomentumWalk(DIM, 3, lengthscale=4.0)
    step = (w.latent(10.01) - w.latent(10.0)).norm()
    far = (w.latent(500.0) - w.latent(10.0)).norm()
    assert step < 0.05 * far
    # consecutive velocity directions agree (momentum): no random-walk kinks
    v1, v2 = w.latent(10.1) - w.latent(10.0), w.latent(10.2) - w.latent(10.1)
    assert torch.nn.functional.cosine_similarity(v1, v2, dim=0) > 0.95


@pytest.mark.parametrize("name", ["slerp", "loop", "noise", "random", "steered"])
def test_deterministic_given_seed(name):
    a, b, c = walks(1)[name], walks(1)[name], walks(2)[name]
    for t in (0.0, 2.5, 77.7):
        assert torch.equal(a.latent(t), b.latent(t))
    assert not torch.allclose(a.latent(2.5), c.latent(2.5))


def test_slerp_holds_each_key_for_its_hold_time():
    w = SeedSlerp(DIM, 0, seeds=[10, 20], hold=[1.0, 3.0], transition=[2.0, 1.0])
    assert torch.equal(w.latent(0.5), w._keys[0]) and torch.equal(w.latent(3.5), w._keys[1])
    assert torch.equal(w.latent(5.9), w._keys[1]) and not torch.equal(w.latent(6.5), w._keys[1])
    assert w.period == 7.0


def test_steered_walk_follows_the_recorded_control():
    w = SteeredWalk(64, 0, period=50.0, speed=1.0)
    path = w.path
    w.latent(0.0, {"/walk/speed": 1.0})
    w.latent(10.0, {"/walk/speed": 3.0})
    w.latent(20.0, {"/walk/speed": 3.0, "/walk/direction": -1.0})
    assert w.log() == [(0.0, 1.0), (10.0, 3.0), (20.0, -3.0)]
    assert w.phase(15.0) == pytest.approx(10 + 15)
    assert torch.allclose(w.latent(25.0, {"walk/speed": 3, "walk/direction": -1}), path.latent(10 + 30 - 15))
    before = w.latent(12.0)
    w.latent(5.0, {"/walk/speed": 8.0})           # a seek backwards never rewrites history
    assert torch.equal(w.latent(12.0), before)
    replay = SteeredWalk(64, 0, period=50.0, log=w.log())
    assert torch.equal(replay.latent(12.0), before)


def test_steered_walk_without_control_is_a_plain_loop():
    w = SteeredWalk(64, 4, period=30.0, speed=2.0)
    assert torch.allclose(w.latent(7.0), w.path.latent(14.0))


class FakeStyleGenerator:
    """A tiny generator with a mapping network: w = z A + b with known principal axes."""

    def __init__(self, z_dim=16, w_dim=8, num_ws=3):
        self.latent_dim, self.w_dim, self.num_ws = z_dim, w_dim, num_ws
        self.resolution, self.device = (8, 8), torch.device("cpu")
        g = torch.Generator().manual_seed(0)
        q, _ = torch.linalg.qr(torch.randn(w_dim, w_dim, generator=g))
        self.axes = q.T                                     # rows: true principal directions
        self.scales = torch.tensor([4.0, 2.0, 1.0, 0.5, 0.25, 0.2, 0.1, 0.05])
        self.A = torch.zeros(z_dim, w_dim)
        self.A[:w_dim] = torch.diag(self.scales) @ self.axes
        self.bias = torch.linspace(-1, 1, w_dim)
        self.mapping_calls = 0
        self.synth_calls = []

    def mapping(self, z, psi=1.0):
        self.mapping_calls += 1
        w = z @ self.A + self.bias
        w = self.bias + psi * (w - self.bias)
        return w.unsqueeze(1).expand(-1, self.num_ws, -1)

    def mean_w(self):
        return self.bias.clone()

    def synthesize(self, ws):
        self.synth_calls.append(ws.shape)
        v = torch.sigmoid(ws.mean(dim=(1, 2))).view(-1, 1, 1, 1)
        return v.expand(-1, 3, *self.resolution).clone()

    def generate(self, z):
        return self.synthesize(self.mapping(z))


def test_principal_directions_are_found_and_cached():
    gen = FakeStyleGenerator()
    dirs, std = principal_directions(gen, samples=4096)
    calls = gen.mapping_calls
    assert principal_directions(gen, samples=4096)[0] is dirs and gen.mapping_calls == calls
    for k in range(3):
        assert abs(float(dirs[k] @ gen.axes[k])) > 0.99
        assert float(std[k]) == pytest.approx(float(gen.scales[k]), rel=0.05)


def test_directions_walk_moves_along_the_axes_and_takes_control():
    gen = FakeStyleGenerator()
    walk = DirectionsWalk(gen.latent_dim, seed=1, generator=gen, components=2, amplitude=0.0, base="mean")
    w0 = walk.latent(3.0)
    assert w0.shape == (gen.num_ws, gen.w_dim) and torch.allclose(w0[0], gen.bias)
    w1 = walk.latent(3.0, {"/direction/0": 1.5})
    offset = (w1 - w0)[0]
    assert torch.allclose(offset, 1.5 * walk.std[0] * walk.directions[0], atol=1e-5)
    auto = DirectionsWalk(gen.latent_dim, seed=1, generator=gen, components=2, amplitude=1.0, period=[10.0, 14.0])
    assert torch.allclose(auto.latent(2.0), auto.latent(2.0 + 70.0), atol=1e-5)   # periods 10 and 14 meet at 70
    half = DirectionsWalk(gen.latent_dim, seed=1, generator=gen, components=2, amplitude=1.0, truncation=0.5)
    full = DirectionsWalk(gen.latent_dim, seed=1, generator=gen, components=2, amplitude=1.0)
    assert torch.allclose(half.latent(4.0) - gen.bias, 0.5 * (full.latent(4.0) - gen.bias), atol=1e-5)


def test_wspace_walk_lerps_mapped_keyframes():
    gen = FakeStyleGenerator()
    inner = SeedSlerp(gen.latent_dim, 0, seeds=[1, 2], hold=1.0, transition=2.0, ease=False)
    walk = WSpaceWalk(inner, gen)
    k0, k1 = gen.mapping(torch.stack(inner._keys))
    assert torch.allclose(walk.latent(0.5), k0)
    assert torch.allclose(walk.latent(2.0), (k0 + k1) / 2, atol=1e-6)
    assert torch.allclose(walk.latent(2.0, {"/walk/truncation": 0.0}), gen.bias.expand(gen.num_ws, -1))


def test_make_walk_picks_the_space_the_model_allows():
    from installation.builtin.noisefield import NoiseField

    gen = FakeStyleGenerator()
    assert isinstance(make_walk(make_loop, gen, 0, {"period": 5}), WSpaceWalk)
    assert isinstance(make_walk(make_loop, gen, 0, {"period": 5}, space="z"), HarmonicLoop)
    assert isinstance(make_walk(DirectionsWalk, gen, 0, {"components": 2}, truncation=0.7), DirectionsWalk)
    field = NoiseField(size=16, latent_dim=32)
    assert isinstance(make_walk(make_loop, field, 0, {"period": 5}), HarmonicLoop)
    with pytest.raises(ValueError, match="w space"):
        make_walk(DirectionsWalk, field, 0, {})


def test_keyframe_source_synthesizes_w_walks():
    gen = FakeStyleGenerator()
    walk = make_walk(DirectionsWalk, gen, 0, {"components": 2})
    source = KeyframeSource(gen, walk, PostChain(), keyframe_rate=2.0)
    frame = source.make(3)
    assert frame.shape == (3, 8, 8) and gen.synth_calls[-1] == (1, gen.num_ws, gen.w_dim)


def test_control_state_shapes():
    from installation.walks.common import control_value

    assert control_value({"/walk/speed": 2}, "/walk/speed", 1) == 2
    assert control_value({"walk/speed": 3}, "/walk/speed", 1) == 3
    assert control_value({"speed": 4, "direction": -1}, "/walk/speed", 1) == 4
    assert control_value({"directions": (0.5, -2.0)}, "/direction/1", 0) == -2.0
    assert control_value({"directions": (0.5,)}, "/direction/3", 0.25) == 0.25
    assert control_value(None, "/walk/speed", 1.5) == 1.5 and control_value({"speed": None}, "/walk/speed", 1) == 1


def test_steered_walk_restart_starts_a_new_log():
    w = SteeredWalk(32, 0, period=40.0)
    w.latent(0.0, {"/walk/speed": 1.0})
    w.latent(30.0, {"/walk/speed": 2.0})
    w.restart()                                   # the scene is entered again: local time is 0 again
    w.latent(0.0, {"/walk/speed": 4.0})
    assert w.log() == [(0.0, 4.0)] and w.phase(2.0) == pytest.approx(8.0)
    wrapped = WSpaceWalk(SteeredWalk(FakeStyleGenerator().latent_dim, 0), FakeStyleGenerator())
    wrapped.latent(5.0, {"speed": 2.0})
    wrapped.restart()
    assert wrapped.inner.log() == []
