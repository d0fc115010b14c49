"""The StyleGAN2 network: FIR resampling, modulated conv, mapping/truncation, w+, noise, classes."""
from __future__ import annotations

import pytest
import torch

from plugins.stylegan2.network import G2Config, StyleGAN2, mix_styles
from plugins.stylegan2.ops import downsample2d, make_filter, modulated_conv2d, upsample2d


def small(res=32, **kw) -> StyleGAN2:
    torch.manual_seed(0)
    return StyleGAN2(G2Config(resolution=res, z_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=32, **kw)).eval()


def test_fir_upsample_keeps_flat_images_flat_and_doubles_size():
    f = make_filter()
    x = torch.full((1, 2, 8, 8), 0.7)
    y = upsample2d(x, f)
    assert y.shape == (1, 2, 16, 16)
    assert torch.allclose(y[..., 2:-2, 2:-2], torch.full_like(y[..., 2:-2, 2:-2], 0.7), atol=1e-6)  # gain 4 is right
    d = downsample2d(y, f)
    assert d.shape == (1, 2, 8, 8) and torch.allclose(d[..., 2:-2, 2:-2], x[..., 2:-2, 2:-2], atol=1e-6)


def test_fir_upsample_is_a_lowpass_not_nearest():
    x = torch.zeros(1, 1, 8, 8)
    x[..., 4, 4] = 1.0
    y = upsample2d(x, make_filter())
    assert float(y.sum()) == pytest.approx(4.0, rel=1e-5)  # energy ×4 for ×2 in each axis
    assert int((y > 1e-6).sum()) > 4  # spread beyond a 2×2 nearest-neighbour block


def test_modulated_conv_demodulation_is_scale_invariant_and_fused_matches():
    torch.manual_seed(1)
    x, w, s = torch.randn(3, 5, 8, 8), torch.randn(7, 5, 3, 3), torch.randn(3, 5).abs() + 0.1
    fir = make_filter()
    for up in (False, True):
        a = modulated_conv2d(x, w, s, up=up, fir=fir, fused=True)
        b = modulated_conv2d(x, w, s, up=up, fir=fir, fused=False)
        assert a.shape == (3, 7, 16 if up else 8, 16 if up else 8)
        assert torch.allclose(a, b, atol=1e-5)
        assert torch.allclose(a, modulated_conv2d(x, w * 9.0, s * 0.3, up=up, fir=fir), atol=1e-4)
    undemod = modulated_conv2d(x, w, s, demodulate=False)
    assert not torch.allclose(undemod, modulated_conv2d(x, w * 2, s, demodulate=False))


@pytest.mark.parametrize("res", [32, 64])
def test_shapes_and_num_ws(res):
    net = small(res)
    assert net.num_ws == 2 * (res.bit_length() - 1) - 2
    with torch.no_grad():
        ws = net.mapping(torch.randn(2, 16))
        assert ws.shape == (2, net.num_ws, 16)
        img = net.synthesis(ws, "const")
    assert img.shape == (2, 3, res, res) and torch.isfinite(img).all()


def test_1024_config_builds_and_runs():
    net = StyleGAN2(G2Config(resolution=1024, z_dim=8, w_dim=8, mapping_layers=1, channel_base=4096, channel_max=4)).eval()
    assert net.num_ws == 18
    with torch.no_grad():
        assert net(torch.randn(1, 8), noise_mode="none").shape == (1, 3, 1024, 1024)
    assert G2Config(resolution=1024).ch(1024) == 32 and G2Config(resolution=1024).ch(32) == 512


def test_bad_resolution_and_ws_shape_raise():
    with pytest.raises(ValueError, match="power of two"):
        G2Config(resolution=48)
    with pytest.raises(ValueError, match=r"ws must be \[N, 8, 16\]"):
        small().synthesis(torch.zeros(1, 3, 16))


def test_truncation_and_cutoff():
    net = small()
    net.mapping.w_avg.copy_(torch.randn(16))
    z = torch.randn(4, 16)
    with torch.no_grad():
        full = net.mapping(z)
        zero = net.mapping(z, psi=0.0)
        half = net.mapping(z, psi=0.5)
        cut = net.mapping(z, psi=0.0, cutoff=3)
    assert torch.allclose(zero, net.mapping.w_avg.expand_as(zero))
    assert torch.allclose(half, net.mapping.w_avg + 0.5 * (full - net.mapping.w_avg), atol=1e-6)
    assert torch.allclose(cut[:, :3], zero[:, :3]) and torch.allclose(cut[:, 3:], full[:, 3:])


def test_w_avg_tracks_the_mapped_mean():
    net = small(w_avg_beta=0.95)
    for _ in range(200):
        net.mapping(torch.randn(64, 16), update_w_avg=True)
    with torch.no_grad():
        mean = net.mapping(torch.randn(4096, 16))[:, 0].mean(0)
    assert float((net.mapping.w_avg - mean).norm()) < 0.2 * float(mean.norm()) + 0.05


def test_style_mixing_switches_rows_and_changes_the_image():
    net = small()
    with torch.no_grad():
        a, b = net.mapping(torch.randn(1, 16)), net.mapping(torch.randn(1, 16))
        mixed = mix_styles(a, b, torch.tensor([4]))
        assert torch.equal(mixed[:, :4], a[:, :4]) and torch.equal(mixed[:, 4:], b[:, 4:])
        ia, im = net.synthesis(a, "const"), net.synthesis(mixed, "const")
    assert float((ia - im).abs().mean()) > 1e-3


def test_noise_modes():
    net = small()
    with torch.no_grad():
        for blk in net.synthesis.blocks:
            blk.conv.noise_strength.fill_(0.5)
        ws = net.mapping(torch.randn(1, 16))
        c1, c2 = net.synthesis(ws, "const"), net.synthesis(ws, "const")
        r1, r2 = net.synthesis(ws, "random"), net.synthesis(ws, "random")
        n = net.synthesis(ws, "none")
    assert torch.equal(c1, c2) and not torch.equal(r1, r2) and not torch.equal(n, c1)
    with pytest.raises(ValueError, match="noise_mode"):
        net.synthesis(ws, "loud")


def test_class_conditioning():
    net = small(c_dim=4)
    z = torch.randn(1, 16)
    with torch.no_grad():
        a = net(z, torch.eye(4)[[0]], noise_mode="const")
        b = net(z, torch.eye(4)[[2]], noise_mode="const")
    assert float((a - b).abs().mean()) > 1e-3
    with pytest.raises(ValueError, match="class-conditional"):
        net(z)


def test_config_round_trip():
    cfg = G2Config(resolution=64, channels={4: 8, 8: 8}, conv_clamp=256.0)
    again = G2Config.from_dict(cfg.to_dict())
    assert again == cfg and again.ch(8) == 8
    with pytest.raises(ValueError, match="unknown"):
        G2Config.from_dict({"resolution": 64, "bogus": 1})
