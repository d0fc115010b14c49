"""Contact sheets, the seed bank and named seeds in walks, through the real CLI on the shipped models."""
from __future__ import annotations

import io
import re
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from installation.app import build_source
from installation.bank import Bank
from installation.cli import build_app
from installation.plugins import make_plugin_manager
from installation.progress import Progress
from installation.show.loader import load_show
from installation.studio.sheet import cell_origin, cell_size, layout, read_png, to_uint8
from installation.weights import current_umask

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def cli(*args: str):
    return runner.invoke(build_app(), list(args), catch_exceptions=False)


SHOW = """
[show]
name = "bank test"
seed = 5
[output]
width = 64
height = 64
[[scenes]]
name = "one"
duration = 10
{truncation}
[scenes.generator]
plugin = "{plugin}"
[scenes.walk]
type = "slerp"
seeds = [{seeds}]
hold = 2
transition = 2
"""


def write_show(path: Path, plugin: str, seeds: str, truncation: float | None = None) -> Path:
    path.write_text(SHOW.format(plugin=plugin, seeds=seeds,
                                truncation=f"truncation = {truncation}" if truncation is not None else ""))
    return path


def walk_frame(show_path: Path, t: float = 0.0) -> np.ndarray:
    """The frame the show's first scene generates at local time ``t``, as the worker makes it (uint8 HWC)."""
    show = load_show(show_path)
    source = build_source(show.scenes[0], make_plugin_manager(), torch.device("cpu"), show.show.seed)
    frame = source.make(int(round(t * source.rate)))
    return to_uint8(frame.unsqueeze(0).cpu())[0]


def sheet_cell(sheet: np.ndarray, index: int, n: int, native: tuple[int, int]) -> np.ndarray:
    """Cell ``index`` of a sheet, scaled back to the model's size (cells are nearest-neighbour blow-ups)."""
    ch, cw = cell_size(n, native[0], native[1], None)
    cols, _ = layout(n, None)
    y, x = cell_origin(index, cols, ch, cw)
    cell = sheet[y:y + ch, x:x + cw]
    return cell[:: ch // native[0], :: cw // native[1]]


@pytest.mark.parametrize("plugin,truncation", [("stylegan2", 0.7), ("wgan", None), ("vae", None)])
def test_sheet_cell_is_the_frame_a_walk_of_that_seed_plays(tmp_path, plugin, truncation):
    out = tmp_path / "sheet.png"
    args = ["seeds", "sheet", plugin, "--count", "6", "--start", "40", "--out", str(out), "--device", "cpu"]
    if truncation is not None:
        args += ["--truncation", str(truncation)]
    res = cli(*args)
    assert res.exit_code == 0, res.output
    sheet = read_png(out)
    show = write_show(tmp_path / "s.toml", plugin, "43", truncation)
    frame = walk_frame(show)
    cell = sheet_cell(sheet, 3, 6, frame.shape[:2])
    assert cell.shape == frame.shape
    assert np.abs(cell.astype(int) - frame.astype(int)).max() <= 2  # batched vs single convolution rounding
    other = sheet_cell(sheet, 2, 6, frame.shape[:2])  # seed 42 is another picture
    assert np.abs(other.astype(int) - frame.astype(int)).mean() > 3


@pytest.mark.slow
def test_sheet_labels_and_layout_through_the_real_command(tmp_path):
    out = tmp_path / "sheet.png"
    proc = subprocess.run([sys.executable, "-m", "installation", "seeds", "sheet", "wgan", "--count", "8",
                           "--out", str(out), "--columns", "4", "--device", "cpu"],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "samples 8/8 (100%)" in proc.stderr  # not a terminal: log lines, not a bar
    sheet = read_png(out)
    ch, cw = cell_size(8, 64, 64, None)
    y, x = cell_origin(5, 4, ch, cw)
    assert sheet.shape[1] == cell_origin(3, 4, ch, cw)[1] + cw + 2
    label = sheet[y + ch:y + ch + 16, x:x + cw]
    assert (label > 200).any()  # the seed number is written under the cell
    assert not (sheet[y + ch + 1:y + ch + 15, x + 2:x + 10] > 200).any()  # centred, not at the edge


def test_truncation_on_a_model_without_w_space_is_a_clear_error(tmp_path):
    res = runner.invoke(build_app(), ["seeds", "sheet", "wgan", "--count", "2", "--truncation", "0.5",
                                      "--out", str(tmp_path / "x.png"), "--device", "cpu"])
    assert res.exit_code == 2 and "mapping network" in " ".join(res.output.replace("│", " ").split())


def test_keep_list_and_named_seeds_in_a_walk(tmp_path):
    show = write_show(tmp_path / "show.toml", "stylegan2", '"calm-1", 12', 0.8)
    res = cli("seeds", "keep", "stylegan2", "7", "--name", "calm-1", "--show", str(show), "--device", "cpu")
    assert res.exit_code == 0, res.output
    bank_file = tmp_path / "seeds.safetensors"
    for f in (bank_file, bank_file.with_suffix(".json")):
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~current_umask()
    bank = Bank.load(bank_file)
    assert bank.entries["calm-1"].seed == 7 and bank.entries["calm-1"].w.shape[-1] == 128
    assert bank.model == "stylegan2" and bank.model_hash.startswith("sha256:")
    assert b"pickle" not in bank_file.read_bytes()[:64]
    listed = cli("seeds", "list", "--bank", str(bank_file))
    assert "calm-1: seed 7" in listed.output
    assert cli("show", "validate", str(show)).exit_code == 0
    # the named latent plays exactly what seed 7 plays
    frame_named = walk_frame(show)
    frame_seed = walk_frame(write_show(tmp_path / "by-number.toml", "stylegan2", "7, 12", 0.8))
    assert np.array_equal(frame_named, frame_seed)


def test_validate_names_the_line_of_a_missing_name(tmp_path):
    show = write_show(tmp_path / "show.toml", "wgan", '3, "storm"')
    res = runner.invoke(build_app(), ["show", "validate", str(show)])
    assert res.exit_code == 1
    line = next(i for i, text in enumerate(show.read_text().splitlines(), 1) if text.startswith("seeds"))
    assert f"{show}:{line}: scenes[0].walk.seeds[1]" in res.output and "seed bank file not found" in res.output
    assert cli("seeds", "keep", "wgan", "9", "--name", "stormy", "--show", str(show), "--device", "cpu").exit_code == 0
    res = runner.invoke(build_app(), ["show", "validate", str(show)])
    assert res.exit_code == 1 and "no latent named 'storm'" in res.output and "did you mean 'stormy'" in res.output


def test_bank_refuses_another_models_latents(tmp_path):
    bank = tmp_path / "b.safetensors"
    assert cli("seeds", "keep", "wgan", "1", "2", "--name", "bike", "--bank", str(bank), "--device", "cpu").exit_code == 0
    assert set(Bank.load(bank).entries) == {"bike-1", "bike-2"}
    res = runner.invoke(build_app(), ["seeds", "keep", "vae", "1", "--name", "w", "--bank", str(bank), "--device", "cpu"])
    assert res.exit_code == 1 and "belongs to another model" in res.output and "Traceback" not in res.output
    # a walk on another model than the bank's: the scene's walk is refused with that message
    show = write_show(tmp_path / "show.toml", "vae", '"bike-1"')
    (tmp_path / "seeds.safetensors").write_bytes(bank.read_bytes())
    (tmp_path / "seeds.json").write_bytes(bank.with_suffix(".json").read_bytes())
    with pytest.raises(Exception, match="belongs to another model"):
        walk_frame(show)
    # the same weights re-exported in another file are the same model
    from installation.weights import load_weights, save_weights

    state, meta = load_weights(ROOT / "plugins/wgan/weights/bikes64.safetensors")
    copy = save_weights(tmp_path / "copy.safetensors", state, meta)
    res = cli("seeds", "keep", str(copy), "3", "--name", "again", "--bank", str(bank), "--device", "cpu")
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(copy.stat().st_mode) == 0o666 & ~current_umask()  # exported weights follow the umask (was 0600)


def test_bank_never_inside_the_package(tmp_path):
    res = runner.invoke(build_app(), ["seeds", "keep", "wgan", "1", "--bank", str(ROOT / "plugins/wgan/weights/x.safetensors")])
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", res.output).split())  # however the panel wraps it
    assert res.exit_code == 2 and "inside the installed package" in words, res.output


def test_progress_logs_a_line_at_least_every_interval_while_a_step_runs():
    stream = io.StringIO()
    with Progress("job", 2, "items", every=0.2, stream=stream, tty=False) as bar:
        time.sleep(0.9)  # one slow step: lines still come
        bar.advance()
        bar.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 5 and lines[0].startswith("job: items 0/2") and lines[-1].startswith("job: items 2/2 (100%)")


def test_help_shows_the_bracketed_defaults_rich_would_take_for_markup():
    # rich reads "[try each]" as a style tag and drops it; the help strings escape such brackets
    def help_of(*cmd):
        res = CliRunner().invoke(build_app(), [*cmd, "--help"], env={"COLUMNS": "240"}, terminal_width=240)
        assert res.exit_code == 0, res.output
        return " ".join(res.output.replace("│", " ").split())

    assert "Bank file [beside --show, else ./seeds.safetensors]." in help_of("seeds", "project")
    assert "reads a checkpoint MODEL [try each]." in help_of("seeds", "keep")
    assert "Cells per row [square grid]." in help_of("seeds", "sheet")
    assert "exported weights [runs/NAME]." in help_of("train")
