"""`seeds project`: a picture the model made comes back as a latent, kept in the bank, played by a walk."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from installation.app import build_source
from installation.bank import Bank
from installation.cli import build_app
from installation.plugins import make_plugin_manager
from installation.show.loader import load_show
from installation.studio.latents import frames_of, seed_z
from installation.studio.project import psnr
from installation.studio.sheet import read_png, to_uint8, write_png


@pytest.mark.slow
def test_stylegan2_projection_of_its_own_picture_reaches_25_db_and_plays_in_a_walk(tmp_path):
    gen = make_plugin_manager().generators()["stylegan2"](checkpoint=None, device="cpu")
    target = frames_of(gen, seed_z([21], gen.latent_dim))
    photo = write_png(to_uint8(target)[0], tmp_path / "sea.png")
    res = CliRunner().invoke(build_app(), ["seeds", "project", "stylegan2", str(photo), "--name", "harbour",
                                           "--bank", str(tmp_path / "seeds.safetensors"), "--steps", "80",
                                           "--device", "cpu"])
    assert res.exit_code == 0, res.output
    entry = Bank.load(tmp_path / "seeds.safetensors").entries["harbour"]
    assert entry.z is None and entry.w.shape == (gen.num_ws, gen.w_dim) and entry.psnr >= 25
    before_after = read_png(tmp_path / "harbour-projection.png")
    assert before_after.shape[1] > 2 * before_after.shape[0] * 0.7  # two cells side by side
    # a walk holding on the projected latent plays the picture back
    show = tmp_path / "show.toml"
    show.write_text('[show]\nname="p"\n[output]\nwidth=64\nheight=64\n[[scenes]]\nname="a"\nduration=5\n'
                    '[scenes.generator]\nplugin="stylegan2"\n[scenes.walk]\ntype="slerp"\nseeds=["harbour", 3]\nhold=2\n')
    s = load_show(show)
    frame = build_source(s.scenes[0], make_plugin_manager(), torch.device("cpu"), 0).make(0).cpu()
    assert psnr(frame, target[0]) >= 25
    # in z space such a latent cannot play: a clear error when the walk is built
    show.write_text(show.read_text().replace('type="slerp"', 'type="slerp"\nspace="z"'))
    with pytest.raises(Exception, match="exist only in w"):
        build_source(load_show(show).scenes[0], make_plugin_manager(), torch.device("cpu"), 0)


def test_vae_projection_refines_the_encoder_mean_to_25_db(tmp_path):
    gen = make_plugin_manager().generators()["vae"](checkpoint=None, device="cpu")
    target = frames_of(gen, seed_z([4], gen.latent_dim))
    photo = write_png(to_uint8(target)[0], tmp_path / "watch.png")
    res = CliRunner().invoke(build_app(), ["seeds", "project", "vae", str(photo), "--name", "face",
                                           "--bank", str(tmp_path / "b.safetensors"), "--steps", "60",
                                           "--lr", "0.05", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    entry = Bank.load(tmp_path / "b.safetensors").entries["face"]
    pixels = torch.from_numpy(read_png(photo)).permute(2, 0, 1).float() / 255
    encoder_mean = gen.encode(pixels.unsqueeze(0))[0]
    assert entry.w is None and entry.z.shape == encoder_mean.shape
    # the kept z, decoded again here, gives back the photo at 25 dB or more (the encoder mean alone: ~21.6)
    back = gen.generate(entry.z.unsqueeze(0))[0, :3].float().clamp(0, 1)
    measured = psnr(back, pixels)
    assert measured >= 25 and abs(measured - entry.psnr) < 0.1
    assert measured > psnr(gen.generate(encoder_mean.unsqueeze(0))[0, :3].float().clamp(0, 1), pixels) + 2
    # the before/after picture's right half is that decoded picture
    pair = read_png(tmp_path / "face-projection.png")
    assert pair.shape[1] > 2 * pair.shape[0] * 0.7
    listed = CliRunner().invoke(build_app(), ["seeds", "list", "--bank", str(tmp_path / "b.safetensors")])
    assert "face: projected from" in listed.output


def test_projection_on_a_model_without_latent_access_is_refused(tmp_path):
    photo = write_png(np.zeros((8, 8, 3), np.uint8), tmp_path / "p.png")
    res = CliRunner().invoke(build_app(), ["seeds", "project", "wgan", str(photo), "--name", "x",
                                           "--bank", str(tmp_path / "b.safetensors"), "--device", "cpu"])
    assert res.exit_code == 2 and "neither a mapping network nor an encoder" in " ".join(res.output.replace("│", " ").split())


def test_the_latent_kept_is_the_one_that_rendered_the_best_picture():
    # Adam with a large rate overshoots a pixel target: the step after the best picture moves away
    # from it, so keeping the latent after that step would keep a worse one than reported
    from installation.studio.project import optimise

    target = torch.full((1, 3, 4, 4), 0.5)
    seen = []

    def render(x):
        img = x.expand(1, 3, 4, 4)
        seen.append((x.detach().clone(), psnr(img.detach()[0], target[0])))
        return img

    best_x, best = optimise(render, torch.zeros(1, 1, 1, 1), target, steps=25, lr=0.3)
    top_x, top = max(seen, key=lambda s: s[1])
    assert best == top and torch.equal(best_x, top_x)
    # it renders the reported figure (with the latent after its step, the figure differs)
    assert psnr(render(best_x)[0], target[0]) == best
    after = [s[0] for s in seen][[s[1] for s in seen].index(top) + 1]
    assert psnr(after.expand(1, 3, 4, 4)[0], target[0]) < best
