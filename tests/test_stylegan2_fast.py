"""The inference path (plugins/stylegan2/fast.py) computes what the training path computes.

Same weights, same w+, same constant noise: the fast path, the out-of-place path it replaces at
inference (``fast=False``) and the plain paper-formulation reference in
benchmarks/stylegan2_reference.py agree within float tolerance, at batch 1 and in batches that
the fast path splits into chunks, with and without conv clamping; autograd still reaches every
parameter through the training path; cached weights follow weight updates.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from plugins.stylegan2 import fast
from plugins.stylegan2.generator import StyleGAN2Generator
from plugins.stylegan2.network import G2Config, StyleGAN2
from plugins.stylegan2.ops import make_filter, upsample2d

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.stylegan2_reference import reference_synthesis  # noqa: E402

TOL = 1e-4


def trained_like(cfg: G2Config, seed: int = 0) -> StyleGAN2:
    """Random weights with non-zero biases and noise strengths (init leaves both at 0)."""
    torch.manual_seed(seed)
    net = StyleGAN2(cfg).eval()
    with torch.no_grad():
        for name, p in net.synthesis.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.2)
            elif name.endswith(".bias") and "affine" not in name:
                p.normal_(0, 0.3)
    return net


CONFIGS = {
    "small64": G2Config(resolution=64, z_dim=64, w_dim=64, mapping_layers=2, channel_base=1024, channel_max=64),
    "wide32": G2Config(resolution=32, z_dim=64, w_dim=64, mapping_layers=2, channel_base=4096, channel_max=256),
    "clamped": G2Config(
        resolution=32, z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=64, conv_clamp=0.5
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("noise", ["const", "none"])
def test_fast_path_matches_the_training_path_and_the_reference(name, batch, noise):
    net = trained_like(CONFIGS[name])
    ws = net.mapping(torch.randn(batch, net.cfg.z_dim, generator=torch.Generator().manual_seed(5)))
    with torch.no_grad():
        new = net.synthesis(ws, noise)  # autograd off: the fast path
        old = net.synthesis(ws, noise, fast=False)
        ref = reference_synthesis(net.synthesis, ws, noise)
    assert new.shape == old.shape == (batch, 3, net.cfg.resolution, net.cfg.resolution)
    assert new.dtype == torch.float32 and new.is_contiguous()
    assert float(old.abs().max()) > 0.5  # a real image, not zeros
    assert float((new - old).abs().max()) <= TOL
    assert float((new - ref).abs().max()) <= TOL
    if CONFIGS[name].conv_clamp is not None:
        assert float(new.abs().max()) <= 2.0 * net.cfg.resolution  # the clamp bounded every layer


def test_chunked_batches_match_one_image_at_a_time():
    net = trained_like(CONFIGS["small64"])
    ws = net.mapping(torch.randn(5, 64, generator=torch.Generator().manual_seed(2)))
    with torch.inference_mode():
        whole = fast.synthesis(net.synthesis, ws, "const", budget=1 << 30)  # never split
        split = fast.synthesis(net.synthesis, ws, "const", budget=1)  # split from the 4×4 block on
        mid = fast.synthesis(net.synthesis, ws, "const", budget=2 * 64 * 16 * 16)  # chunks of 2 from 16²
        singles = torch.cat([fast.synthesis(net.synthesis, ws[i : i + 1], "const") for i in range(5)])
    for other in (split, mid, singles):
        assert float((whole - other).abs().max()) <= TOL


def test_random_noise_is_drawn_and_differs_between_calls():
    net = trained_like(CONFIGS["small64"])
    ws = net.mapping(torch.randn(2, 64))
    with torch.no_grad():
        a, b, c = net.synthesis(ws, "random"), net.synthesis(ws, "random"), net.synthesis(ws, "none")
    assert float((a - b).abs().max()) > 1e-3 and float((a - c).abs().max()) > 1e-3


def test_skip_upsampling_is_the_fir_upsampling():
    img = torch.randn(2, 3, 9, 7)
    assert float((fast.upsample_skip(img) - upsample2d(img, make_filter())).abs().max()) <= 1e-5


def test_training_path_still_carries_gradients_to_every_parameter():
    net = trained_like(CONFIGS["small64"]).train()
    z = torch.randn(2, 64)
    img = net(z, noise_mode="random")
    img.square().mean().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"no gradient for {missing}"
    assert all(float(p.grad.abs().sum()) > 0 for n, p in net.synthesis.named_parameters() if "affine" not in n)


def test_cached_weights_follow_an_optimiser_step():
    net = trained_like(CONFIGS["small64"])
    ws = net.mapping(torch.randn(1, 64))
    with torch.no_grad():
        before = net.synthesis(ws, "const")
    opt = torch.optim.SGD(net.synthesis.parameters(), lr=0.05)
    net.synthesis(ws.detach(), "const").mean().backward()  # grad on: the training path
    opt.step()
    with torch.no_grad():
        after, expect = net.synthesis(ws, "const"), net.synthesis(ws, "const", fast=False)
    assert float((after - before).abs().max()) > 1e-3  # the step changed the image ...
    assert float((after - expect).abs().max()) <= TOL  # ... and the fast path saw the new weights


def test_state_dict_load_rebuilds_the_caches():
    a, b = trained_like(CONFIGS["small64"], seed=1), trained_like(CONFIGS["small64"], seed=2)
    ws = a.mapping(torch.randn(1, 64))
    with torch.no_grad():
        a.synthesis(ws, "const")  # fills a's caches
        a.load_state_dict(b.state_dict())
        assert float((a.synthesis(ws, "const") - b.synthesis(ws, "const", fast=False)).abs().max()) <= TOL


def test_bf16_autocast_fast_path_stays_close_to_fp32():
    net = trained_like(CONFIGS["wide32"])
    gen32 = StyleGAN2Generator(net, "cpu", precision="fp32")
    gen16 = StyleGAN2Generator(net, "cpu", precision="bf16")
    z = torch.randn(3, net.cfg.z_dim, generator=torch.Generator().manual_seed(4))
    a, b = gen32.generate(z), gen16.generate(z)
    assert b.dtype == torch.float32 and torch.isfinite(b).all()
    assert float((a - b).abs().mean()) < 0.03 and float((a - b).abs().max()) < 0.3


def test_small_blocks_run_on_one_thread_and_the_callers_count_comes_back(monkeypatch):
    net = trained_like(CONFIGS["wide32"])
    ws = net.mapping(torch.randn(2, net.cfg.z_dim, generator=torch.Generator().manual_seed(9)))
    seen: list[int] = []
    real = fast.block_forward

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        monkeypatch.setattr(fast, "block_forward", spy)
        with torch.no_grad():
            monkeypatch.setattr(fast, "SERIAL_ELEMENTS", 1 << 40)  # every block serial
            serial = net.synthesis(ws, "const")
            assert seen and set(seen) == {1} and torch.get_num_threads() == 2
            seen.clear()
            monkeypatch.setattr(fast, "SERIAL_ELEMENTS", 0)  # every block on the caller's threads
            parallel = net.synthesis(ws, "const")
            assert set(seen) == {2}
        torch.testing.assert_close(serial, parallel, atol=TOL, rtol=0)
    finally:
        torch.set_num_threads(before)
