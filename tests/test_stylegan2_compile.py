"""``compile=True`` (torch.compile of the synthesis network) renders what eager mode renders.

Run on the CPU with inductor (needs a C++ compiler; skipped without one), on a tiny network so
compilation stays in the seconds.
"""

from __future__ import annotations

import shutil

import pytest
import torch

from plugins.stylegan2.generator import StyleGAN2Generator, make_generator
from plugins.stylegan2.network import G2Config, StyleGAN2

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="inductor needs a C++ compiler")


def tiny() -> StyleGAN2:
    torch.manual_seed(0)
    net = StyleGAN2(G2Config(resolution=16, z_dim=16, w_dim=16, mapping_layers=1, channel_base=128, channel_max=16))
    with torch.no_grad():
        for name, p in net.synthesis.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.2)
    return net


@pytest.mark.slow  # inductor compiles for about a minute on two cores
def test_compiled_generator_matches_eager():
    net = tiny()
    eager = StyleGAN2Generator(net, "cpu")
    compiled = StyleGAN2Generator(net, "cpu", compile=True)
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(1))
    a, b = eager.generate(z), compiled.generate(z)
    assert a.shape == b.shape == (2, 3, 16, 16)
    assert float((a - b).abs().max()) <= 1e-4
    assert float(a.std()) > 0.01  # a real picture


def test_compile_is_a_known_show_option():
    gen = make_generator(None, "cpu", compile=False)
    assert gen._compiled is None
    with pytest.raises(ValueError, match="compile"):
        make_generator(None, "cpu", compil=True)
