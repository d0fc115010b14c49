"""The shared training loop: checkpoints, resume, sample grids, validation, progress.

Each model plugin supplies a :class:`TrainTask` (networks, losses, one optimisation step);
this loop owns everything around it so every ``installation train NAME`` behaves the same:
resumable from ``OUT/checkpoint.pt``, sample grids in ``OUT/samples/``, a rich progress bar
showing kimg, losses and time left, and early stopping on a validation split when the task
can validate.  Checkpoints are plain tensors and numbers, saved with ``torch.save`` and read
back with ``weights_only=True``: resuming never executes code from a file.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from .data import ImageFolder, save_grid


@runtime_checkable
class TrainTask(Protocol):
    """What a plugin implements to be trainable."""

    name: str

    def setup(self, device: torch.device, resolution: int) -> None:
        """Build networks and optimisers on ``device``."""

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        """One optimisation step on ``batch`` (``[B, 3, H, W]`` float [0, 1]); return losses."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: networks, optimisers, EMA, counters."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    def sample(self, n: int, seed: int) -> torch.Tensor:
        """``n`` images ``[n, 3, H, W]`` in [0, 1] for the sample grid (fixed seed: comparable grids)."""

    def export(self, out_dir: Path) -> Path:
        """Write the inference weights (safetensors + JSON config) and return the weights path."""


@dataclass
class TrainConfig:
    out_dir: Path
    steps: int = 1000
    batch_size: int = 16
    resolution: int = 64
    device: str = "cpu"
    seed: int = 0
    resume: bool = True
    checkpoint_every: int = 200
    sample_every: int = 200
    sample_count: int = 16
    val_fraction: float = 0.0  # >0 and a task with ``validate`` → early stopping
    val_every: int = 50
    patience: int = 5  # validations without improvement before stopping
    progress: bool = True


@dataclass
class TrainResult:
    steps_done: int
    images_seen: int
    last_losses: dict[str, float]
    weights: Path | None
    stopped_early: bool = False
    best_val: float | None = None
    history: list[dict[str, float]] = field(default_factory=list)


class _LossColumn(ProgressColumn):
    def render(self, task) -> Text:
        losses = task.fields.get("losses") or {}
        kimg = task.fields.get("kimg", 0.0)
        parts = [f"kimg {kimg:.2f}"] + [f"{k} {v:.4f}" for k, v in losses.items()]
        return Text("  ".join(parts), style="cyan")


CHECKPOINT = "checkpoint.pt"
BEST = "best.pt"  # the best validated task state, kept across resumes


def save_checkpoint(path: Path, task: TrainTask, step: int, images_seen: int, rng: torch.Generator, extra: dict | None = None) -> None:
    state = {"task": task.state_dict(), "step": step, "images_seen": images_seen, "rng": rng.get_state(), "extra": extra or {}}
    _save_atomic(state, path)


def _save_atomic(state: dict, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: a crash mid-save leaves the previous file intact


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"cannot read training checkpoint {path}: {exc}") from exc


def run_training(task: TrainTask, data: ImageFolder, cfg: TrainConfig) -> TrainResult:
    """Train ``task`` on ``data`` for ``cfg.steps`` steps (counting steps already done on resume)."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}, indent=2))
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    task.setup(device, cfg.resolution)
    rng = torch.Generator().manual_seed(cfg.seed)

    val_data = None
    can_validate = cfg.val_fraction > 0 and hasattr(task, "validate")
    if can_validate:
        data, val_data = data.split(cfg.val_fraction, cfg.seed)

    step, images_seen, extra = 0, 0, {}
    ckpt = out / CHECKPOINT
    if cfg.resume and ckpt.exists():
        state = load_checkpoint(ckpt)
        task.load_state_dict(state["task"])
        step, images_seen = int(state["step"]), int(state["images_seen"])
        rng.set_state(state["rng"])
        extra = state.get("extra", {})

    best_val = extra.get("best_val")
    bad_evals = int(extra.get("bad_evals", 0))
    best_state = None
    losses: dict[str, float] = {}
    history: list[dict[str, float]] = []
    stopped_early = False

    progress = Progress(
        TextColumn(f"[bold]{task.name}[/]"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        _LossColumn(), TimeElapsedColumn(), TimeRemainingColumn(), disable=not cfg.progress,
    )
    with progress:
        bar = progress.add_task(task.name, total=cfg.steps, completed=step, losses={}, kimg=images_seen / 1000)
        while step < cfg.steps:
            batch = data.batch(cfg.batch_size, rng).to(device)
            losses = {k: float(v) for k, v in task.train_step(batch, step).items()}
            step += 1
            images_seen += batch.shape[0]
            history.append({"step": step, **losses})
            progress.update(bar, completed=step, losses=losses, kimg=images_seen / 1000)
            if can_validate and step % cfg.val_every == 0:
                with torch.no_grad():
                    vloss = float(task.validate(val_data.images.float().div(255).to(device)))
                history[-1]["val"] = vloss
                if best_val is None or vloss < best_val:
                    best_val, bad_evals = vloss, 0
                    best_state = _clone(task.state_dict())
                    _save_atomic(best_state, out / BEST)
                else:
                    bad_evals += 1
                    if bad_evals >= cfg.patience:
                        stopped_early = True
            if step % cfg.sample_every == 0 or step == cfg.steps or stopped_early:
                with torch.no_grad():
                    save_grid(task.sample(cfg.sample_count, cfg.seed), out / "samples" / f"step{step:07d}.png")
            if step % cfg.checkpoint_every == 0 or step == cfg.steps or stopped_early:
                save_checkpoint(ckpt, task, step, images_seen, rng, {"best_val": best_val, "bad_evals": bad_evals})
            if stopped_early:
                break
    if best_state is None and best_val is not None and (out / BEST).exists():
        best_state = load_checkpoint(out / BEST)  # the resumed run's best came before the resume
    if best_state is not None:
        task.load_state_dict(best_state)  # early stopping keeps the best validated weights
    weights = task.export(out)
    return TrainResult(step, images_seen, losses, weights, stopped_early, best_val, history)


def _clone(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return obj
