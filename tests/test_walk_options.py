"""Walk options that cannot play raise OptionError naming the option; ease takes curve names."""
from __future__ import annotations

import math

import pytest

from installation.walks.common import OptionError
from installation.walks.loops import make_loop, make_noise
from installation.walks.momentum import MomentumWalk
from installation.walks.slerp import SeedSlerp
from installation.walks.steered import SteeredWalk


@pytest.mark.parametrize("ease, mid", [(True, 0.5), (False, 0.5), ("linear", 0.5), ("ease-in", 0.25),
                                       ("ease-out", 0.75), ("ease-in-out", 0.5), ("smooth", 0.5)])
def test_ease_names_shape_the_slerp(ease, mid):
    walk = SeedSlerp(8, seeds=[1, 2], hold=0.0, transition=4.0, ease=ease)
    assert walk.segment(2.0)[2] == pytest.approx(mid)
    quarter = walk.segment(1.0)[2]
    expected = {"ease-in": 1 / 16, "ease-out": 1 - 9 / 16, "ease-in-out": 0.5 - 0.5 * math.cos(math.pi / 4),
                "linear": 0.25, False: 0.25}.get(ease, 0.25 * 0.25 * (3 - 0.5))
    assert quarter == pytest.approx(expected)


@pytest.mark.parametrize("make, field, message", [
    (lambda: SeedSlerp(8, seeds=[]), "seeds", "at least one seed"),
    (lambda: SeedSlerp(8, seeds=[1, 2.5]), "seeds[1]", "whole number"),  # a string is a seed-bank name
    (lambda: SeedSlerp(8, seeds=[1, 2, 3], hold=[1, 2]), "hold", "2 entries for 3 seeds"),
    (lambda: SeedSlerp(8, seeds=[1, 2], transition=[1, -1]), "transition[1]", "at least 0"),
    (lambda: SeedSlerp(8, hold=0, transition=0), "transition", "never move"),
    (lambda: SeedSlerp(8, ease="bouncy"), "ease", "unknown ease 'bouncy'"),
    (lambda: SeedSlerp(8, ease="ease_in"), "ease", "did you mean 'ease-in'"),
    (lambda: make_loop(8, period=0), "period", "positive"),
    (lambda: make_loop(8, period=float("inf")), "period", "finite"),
    (lambda: make_loop(8, period="slow"), "period", "number"),
    (lambda: make_noise(8, octaves=0), "octaves", "at least 1"),
    (lambda: MomentumWalk(8, lengthscale=0), "lengthscale", "positive"),
    (lambda: SteeredWalk(8, speed_key="walk/speed"), "speed_key", "address"),
])
def test_options_that_cannot_play_name_the_option(make, field, message):
    with pytest.raises(OptionError) as info:
        make()
    assert info.value.field == field and message in str(info.value)


def test_omitted_seeds_still_default_to_four_from_the_walk_seed():
    assert SeedSlerp(8, seed=10).seeds == [10, 11, 12, 13]
