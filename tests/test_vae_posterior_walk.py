"""The posterior walk on the shipped watch model: midpoints between watches stay watches."""
from __future__ import annotations

import pytest
import torch

from plugins.vae.generator import VAEGenerator
from plugins.vae.walk import BANK, PosteriorWalk, chain, read_bank, read_latents


def laplacian_variance(frames: torch.Tensor) -> torch.Tensor:
    grey = frames.mean(1, keepdim=True)
    k = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3)
    return torch.nn.functional.conv2d(grey, k).flatten(1).var(1)


@pytest.fixture(scope="module")
def gen():
    return VAEGenerator(None, "cpu")


def test_the_chain_visits_near_neighbours_and_returns_the_same_way():
    bank = torch.tensor([[0.0], [10.0], [1.0], [3.0], [20.0]])
    order = chain(bank, 0, 4)
    assert order == [0, 2, 3, 1, 3, 2]  # out by nearest unvisited, back the same way
    assert chain(bank, 0, 99)[:5] == [0, 2, 3, 1, 4]
    allowed = torch.ones(5, 5, dtype=torch.bool)
    allowed[2, :] = allowed[:, 2] = False  # 2 is nobody's neighbour
    assert chain(bank, 0, 4, allowed) == [0, 3, 1, 4, 1, 3]
    allowed[0, :] = allowed[:, 0] = False
    assert chain(bank, 0, 4, allowed) == [0]  # a dead end stops the chain


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_midpoint_is_about_as_sharp_as_its_ends(gen, seed):
    walk = PosteriorWalk(gen.latent_dim, seed=seed, count=6)
    assert len(set(walk.order)) == 6
    # the walk's own latents: one at every key, one halfway through every transition
    keys = [walk.latent(start) for start in walk._starts[:-1]]
    mids = [walk.latent(start + walk.holds[i] + walk.transitions[i] / 2) for i, start in enumerate(walk._starts[:-1])]
    ends = laplacian_variance(gen.generate(torch.stack(keys)))
    mid = laplacian_variance(gen.generate(torch.stack(mids)))
    worst_end = torch.minimum(ends, ends.roll(-1, 0))
    ratio = mid / worst_end
    assert float(ratio.min()) >= 0.8, ratio


def test_prior_slerp_midpoints_are_not_always_sharp(gen):
    # what the posterior walk avoids: between random prior latents some midpoints are mush
    torch.manual_seed(0)
    a = torch.randn(32, gen.latent_dim)
    b = a.roll(-1, 0)
    cos = torch.nn.functional.cosine_similarity(a, b).clamp(-1, 1).unsqueeze(1)
    om = torch.acos(cos)
    mid = (torch.sin(om / 2) / torch.sin(om)) * (a + b)
    ends = laplacian_variance(gen.generate(a))
    ratio = laplacian_variance(gen.generate(mid)) / torch.minimum(ends, ends.roll(-1, 0))
    assert float(ratio.min()) < 0.8


def test_the_shipped_bank_fits_the_shipped_model(gen):
    bank = read_latents(BANK)
    assert bank.shape == (256, gen.latent_dim)
    z, sharp = read_bank(BANK)
    assert sharp is not None and bool((sharp == sharp.T).all()) and int(sharp.sum()) > 256


def test_the_curator_show_walks_its_watches_through_the_posterior():
    from pathlib import Path

    from installation.app import build_source
    from installation.plugins import make_plugin_manager
    from installation.show.loader import load_show

    show = load_show(Path(__file__).parent.parent / "shows" / "curator-timeline.toml")
    scene = next(s for s in show.scenes if s.generator.plugin == "vae")
    assert scene.walk.type == "posterior"
    source = build_source(scene, make_plugin_manager(), torch.device("cpu"), show.show.seed)
    a, b = source.make(0), source.make(int(3 * source.rate))
    assert a.shape[0] == 3 and float((a - b).abs().mean()) > 1e-3  # the walk moves
