"""Training you can trust: signals save and export, options live in the checkpoint, runs that go wrong warn."""
from __future__ import annotations

import math
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from installation.cli import build_app
from installation.train import ImageFolder, TrainConfig, run_training
from installation.train.watch import RunWatch
from installation.weights import current_umask
from plugins.wgan.bikes import make_bikes
from plugins.wgan.loader import make_wgan
from plugins.wgan.train import WGANTask

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--resolution", "32", "--batch", "4", "--device", "cpu", "-O", "z_dim=16", "-O", "width=8", "-O", "n_critic=2"]


@pytest.fixture(scope="module")
def bikes(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bikes")
    make_bikes(d, 12, 32, seed=0)
    return d


def ckpt(run: Path) -> dict:
    return torch.load(run / "checkpoint.pt", weights_only=True)


@pytest.mark.slow
@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_saves_a_checkpoint_and_exports_then_resume_reuses_the_options(tmp_path, bikes, sig, code):
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "installation", "train", "wgan", str(bikes), "--out", str(run),
                             "--steps", "1000000", "--checkpoint-every", "1000000", "--sample-every", "1000000",
                             "--log-every", "0.3", *SMALL],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if line.startswith("wgan: steps ") and not line.startswith("wgan: steps 0/"):
                break  # a progress line from a non-terminal run: steps are being taken
        else:
            pytest.fail("no progress line: " + "".join(lines))
        assert not (run / "checkpoint.pt").exists()  # nothing saved yet: the signal must do it
        proc.send_signal(sig)
        _stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert f"{signal.Signals(sig).name} at step" in stderr and "Traceback" not in stderr
    state = ckpt(run)
    assert state["step"] >= 1
    assert state["extra"]["run"]["options"] == {"z_dim": 16, "width": 8, "n_critic": 2}
    assert state["extra"]["run"]["resolution"] == 32 and state["extra"]["run"]["batch_size"] == 4
    weights = run / "wgan.safetensors"
    assert stat.S_IMODE(weights.stat().st_mode) == 0o666 & ~current_umask()  # world-readable like any file
    assert make_wgan(str(weights)).generate(torch.randn(1, 16)).shape == (1, 3, 32, 32)
    # resume with no options at all: the stored ones (z_dim=16, width=8, 32 px) are reused
    done = state["step"]
    again = CliRunner().invoke(build_app(), ["train", "wgan", str(bikes), "--out", str(run), "--steps", str(done + 2),
                                             "--device", "cpu"])
    assert again.exit_code == 0, again.output
    assert ckpt(run)["step"] == done + 2 and ckpt(run)["extra"]["run"]["options"]["width"] == 8


def test_shape_option_conflict_is_a_clear_error_optimiser_change_is_logged(tmp_path, bikes):
    run = tmp_path / "run"
    first = CliRunner().invoke(build_app(), ["train", "wgan", str(bikes), "--out", str(run), "--steps", "2", *SMALL])
    assert first.exit_code == 0, first.output
    bad = CliRunner().invoke(build_app(), ["train", "wgan", str(bikes), "--out", str(run), "--steps", "4",
                                           "-O", "width=16"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert f"{run / 'checkpoint.pt'}: options: cannot resume: these options changed the model's shape: width 8 -> 16" in bad.output
    assert ckpt(run)["step"] == 2  # the refused run saved nothing over the checkpoint
    ok = CliRunner().invoke(build_app(), ["train", "wgan", str(bikes), "--out", str(run), "--steps", "4",
                                          "-O", "lr_g=0.001"])
    assert ok.exit_code == 0, ok.output
    assert "changed options: lr_g None -> 0.001" in ok.output
    state = ckpt(run)
    assert state["extra"]["run"]["options"]["lr_g"] == 0.001
    assert state["task"]["opt_g"]["param_groups"][0]["lr"] == pytest.approx(0.001)


def test_a_real_run_whose_generator_cannot_learn_warns_of_collapse(tmp_path, bikes, capsys):
    data = ImageFolder(bikes, 32)
    task = WGANTask(z_dim=16, width=8, n_critic=1, lr_g=0.0)  # a generator that never moves stays one blur
    cfg = TrainConfig(out_dir=tmp_path / "run", steps=8, batch_size=4, resolution=32, sample_every=2,
                      checkpoint_every=8, progress=False, sample_count=8, watch_warmup=4)
    result = run_training(task, data, cfg)
    assert any("collapsing" in w and "lr_g" in w for w in result.warnings)
    assert "collapsing" in capsys.readouterr().err


def test_watch_figures():
    varied = torch.rand(8, 3, 8, 8)
    alike = torch.full((8, 3, 8, 8), 0.5) + 0.001 * torch.rand(8, 3, 8, 8)
    w = RunWatch(data_spread=float(varied.std(0).mean()), warmup=100, patience=2)
    assert w.samples(10, alike) is None and w.samples(20, alike) is None  # fresh and alike: not yet judged
    assert w.samples(30, varied) is None  # varied once: armed
    assert w.samples(40, alike) is None
    warning = w.samples(50, alike)
    assert warning and "collapsing" in warning and "n_critic" in warning
    assert w.samples(60, alike) is None  # said once
    assert w.samples(70, varied) is None and w.samples(80, alike) is None
    assert w.samples(90, alike)  # recovered, then collapsed again: said again
    d = RunWatch(data_spread=0.2, window=5)
    assert all(d.losses(i, {"loss_d": 0.1, "loss_g": 0.5}) is None for i in range(50))
    assert any(d.losses(50 + i, {"loss_d": 0.1 * 50, "loss_g": 0.5}) for i in range(10))
    n = RunWatch(data_spread=0.2)
    assert "diverged" in n.losses(1, {"loss_g": math.nan})


@pytest.mark.slow
def test_stylegan2_resume_without_its_options_works_and_a_new_lr_takes_effect(tmp_path, bikes):
    run = tmp_path / "run"
    opts = ["-O", "z_dim=32", "-O", "w_dim=32", "-O", "mapping_layers=2", "-O", "channel_base=256", "-O", "channel_max=32"]
    base = ["train", "stylegan2", str(bikes), "--out", str(run), "--device", "cpu"]
    first = CliRunner().invoke(build_app(), base + ["--steps", "2", "--resolution", "32", "--batch", "2", *opts])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(build_app(), base + ["--steps", "3"])  # the traceback: options not recorded
    assert again.exit_code == 0, again.output
    bad = CliRunner().invoke(build_app(), base + ["--steps", "4", "-O", "mapping_layers=3"])
    assert bad.exit_code == 1 and "mapping_layers 2 -> 3" in bad.output and "Traceback" not in bad.output
    lr = CliRunner().invoke(build_app(), base + ["--steps", "4", "-O", "lr=0.001"])
    assert lr.exit_code == 0 and "lr None -> 0.001" in lr.output
    assert ckpt(run)["task"]["opt_g"]["param_groups"][0]["lr"] == pytest.approx(0.001)


@pytest.mark.slow
def test_timelapse_video_of_fixed_seeds_grows_across_a_resume(tmp_path, bikes):
    from installation.output.video import read_video

    run, film = tmp_path / "run", tmp_path / "film.mp4"
    args = ["train", "wgan", str(bikes), "--out", str(run), "--timelapse", str(film), "--timelapse-every", "2",
            "--sample-every", "100", "--checkpoint-every", "100"]
    first = CliRunner().invoke(build_app(), args + ["--steps", "6", *SMALL, "-O", "lr_g=0.01", "-O", "lr_d=0.001"])
    assert first.exit_code == 0, first.output
    frames, fps = read_video(film)
    assert len(frames) == 4 and fps == pytest.approx(10)  # steps 0, 2, 4, 6
    assert sorted(p.name for p in (run / "timelapse").iterdir())[-1] == "step0000006.png"
    assert frames[0].std() > 1 and abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 2  # the samples moved
    again = CliRunner().invoke(build_app(), args + ["--steps", "8"])
    assert again.exit_code == 0, again.output
    assert len(read_video(film)[0]) == 5


@pytest.mark.slow
def test_a_signal_while_the_checkpoint_figures_are_measured_saves_at_once(tmp_path, bikes):
    # the checkpoint figures take a minute on a loaded CPU; SIGTERM during them must not wait for them
    from safetensors.torch import save_file

    from installation.studio.inception import InceptionFeatures

    torch.manual_seed(0)
    state = {k: v.contiguous() for k, v in InceptionFeatures(fid_variant=False).state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 2048), torch.zeros(1000)
    save_file(state, str(tmp_path / "inception.safetensors"))

    class SignalWhileMeasured(WGANTask):
        """Sends SIGTERM to this process from inside the second checkpoint's measurement."""

        measured = 0

        def sample(self, n, seed):
            self.measured += seed == 1  # each measurement starts at seed 1 (the grids sample at 0)
            if seed == 1 and self.measured == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            return super().sample(n, seed)

    task = SignalWhileMeasured(z_dim=16, width=8, n_critic=1)
    cfg = TrainConfig(out_dir=tmp_path / "run", steps=50, batch_size=4, resolution=32, sample_every=100,
                      checkpoint_every=3, progress=False, metrics_features=tmp_path / "inception.safetensors",
                      metrics_count=8, metrics_ppl=4)
    result = run_training(task, ImageFolder(bikes, 32), cfg)
    assert result.interrupted == "SIGTERM" and result.steps_done == 6
    saved = ckpt(tmp_path / "run")
    assert saved["step"] == 6 and [r["step"] for r in saved["extra"]["metrics"]] == [3]
    assert result.weights is not None and result.weights.exists()
    assert "fid" in result.history[2] and "fid" not in result.history[5]
