"""The shared training loop: checkpoints, resume, sample grids, validation, progress.

Each model plugin supplies a :class:`TrainTask` (networks, losses, one optimisation step);
this loop owns everything around it so every ``installation train NAME`` behaves the same:
resumable from ``OUT/checkpoint.pt``, sample grids in ``OUT/samples/``, a rich progress bar
showing kimg, losses and time left on a terminal (a log line at least every ``log_every``
seconds elsewhere), and early stopping on a validation split when the task can validate.
Checkpoints are plain tensors and numbers, saved with ``torch.save`` and read back with
``weights_only=True``: resuming never executes code from a file.

Trust: Ctrl-C or SIGTERM finishes the step, saves a checkpoint and exports (:mod:`.stop`); the
checkpoint records every option of the run (``run``: the model options and the loop's), which
the CLI reuses on resume; a resumed run whose options no longer fit the saved networks is a
clear error naming them, other changes are printed; :mod:`.watch` warns of collapse and
divergence.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

from ..problems import Problem, ProblemError
from ..progress import Progress
from .data import ImageFolder, save_grid
from .stop import StopOnSignal
from .timelapse import Timelapse
from .watch import RunWatch, spread


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
    #: the model options the task was made with (``-O``), recorded in the checkpoint
    options: dict = field(default_factory=dict)
    log_every: float = 30.0  # seconds between progress lines when standard error is not a terminal
    watch: bool = True  # warn of collapsing samples and diverging losses
    watch_warmup: int = 500  # steps before alike samples count as collapse (unless they were varied before)
    timelapse: Path | None = None  # a video of the fixed-seed samples over training
    timelapse_every: int = 100
    metrics_features: Path | None = None  # Inception v3 state dict: FID/KID (and PPL) at every checkpoint
    metrics_count: int = 256  # samples (and real images, at most) the checkpoint figures use
    metrics_ppl: int = 128  # paths the checkpoint PPL averages (0: no PPL)

    def run_record(self, task_name: str) -> dict[str, Any]:
        """Every option of the run, as the checkpoint stores it (plain values only)."""
        keep = (
            "steps",
            "batch_size",
            "resolution",
            "seed",
            "checkpoint_every",
            "sample_every",
            "sample_count",
            "val_fraction",
            "val_every",
            "patience",
            "timelapse_every",
        )
        return {"task": task_name, "options": dict(self.options), **{k: getattr(self, k) for k in keep}}


@dataclass
class TrainResult:
    steps_done: int
    images_seen: int
    last_losses: dict[str, float]
    weights: Path | None
    stopped_early: bool = False
    best_val: float | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    #: the signal that stopped the run early (``"SIGINT"``, ``"SIGTERM"``), after saving and exporting
    interrupted: str | None = None
    warnings: list[str] = field(default_factory=list)


def _note(losses: dict[str, float], images_seen: int) -> str:
    return "  ".join([f"kimg {images_seen / 1000:.2f}"] + [f"{k} {v:.4f}" for k, v in losses.items()])


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def stored_run(out_dir: Path | str) -> dict[str, Any] | None:
    """The ``run`` record of ``OUT/checkpoint.pt`` (``None``: no checkpoint, or one from before records)."""
    ckpt = Path(out_dir) / CHECKPOINT
    if not ckpt.exists():
        return None
    run = (load_checkpoint(ckpt).get("extra") or {}).get("run")
    return run if isinstance(run, dict) else None


def run_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{option: (stored, now)}`` for the model options and loop settings that differ."""
    out = {}
    for k in sorted(set(old.get("options", {})) | set(new.get("options", {}))):
        a, b = old.get("options", {}).get(k), new.get("options", {}).get(k)
        if a != b:
            out[k] = (a, b)
    for k in sorted(set(old) | set(new)):
        if k not in ("options", "task", "steps") and old.get(k) != new.get(k) and k in old:
            out[f"--{k.replace('_', '-')}"] = (old.get(k), new.get(k))
    return out


def _describe(changes: dict[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in changes.items())


CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"  # one JSON line of figures per checkpoint (also in the checkpoint's ``metrics``)
BEST = "best.pt"  # the best validated task state, kept across resumes


def save_checkpoint(
    path: Path, task: TrainTask, step: int, images_seen: int, rng: torch.Generator, extra: dict | None = None
) -> None:
    state = {
        "task": task.state_dict(),
        "step": step,
        "images_seen": images_seen,
        "rng": rng.get_state(),
        "extra": extra or {},
    }
    _save_atomic(state, path)


def _save_atomic(state: dict, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: a crash mid-save leaves the previous file intact


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a ProblemError is a ValueError: callers that caught that still do
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProblemError(
            path,
            Problem(
                None,
                "checkpoint",
                f"cannot read as a training checkpoint ({first[:200]})",
                "delete it, train into a new --out, or pass --no-resume",
            ),
        ) from None


def run_training(task: TrainTask, data: ImageFolder, cfg: TrainConfig) -> TrainResult:
    """Train ``task`` on ``data`` for ``cfg.steps`` steps (counting steps already done on resume)."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(
        json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}, indent=2)
    )
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    task.setup(device, cfg.resolution)
    rng = torch.Generator().manual_seed(cfg.seed)

    val_data = None
    # ``validate`` is optional in a TrainTask: early stopping only for a task that has it
    validate = getattr(task, "validate", None) if cfg.val_fraction > 0 else None
    can_validate = validate is not None
    if can_validate:
        data, val_data = data.split(cfg.val_fraction, cfg.seed)

    step, images_seen, extra = 0, 0, {}
    ckpt = out / CHECKPOINT
    record = cfg.run_record(task.name)
    if cfg.resume and ckpt.exists():
        state = load_checkpoint(ckpt)
        extra = state.get("extra", {})
        changes = run_changes(extra.get("run") or {}, record) if extra.get("run") else {}
        try:
            task.load_state_dict(state["task"])
        except (RuntimeError, KeyError, ValueError, IndexError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            what = (
                f"these options changed the model's shape: {_describe(changes)}"
                if changes
                else "the saved networks do not fit this model"
            )
            raise ProblemError(
                ckpt,
                Problem(
                    None,
                    "options",
                    f"cannot resume: {what} ({first[:200]})",
                    "resume with the options the run was started with (they are stored in the "
                    "checkpoint and reused when not given), or train into a new --out",
                ),
            ) from None
        if changes:
            _say(f"{task.name}: resuming {ckpt} with changed options: {_describe(changes)}")
        step, images_seen = int(state["step"]), int(state["images_seen"])
        rng.set_state(state["rng"])

    best_val = extra.get("best_val")
    bad_evals = int(extra.get("bad_evals", 0))
    best_state = None
    losses: dict[str, float] = {}
    history: list[dict[str, float]] = []
    stopped_early = False

    watch = None
    if cfg.watch:
        watch = RunWatch(data_spread=spread(data.images[:256].float() / 255.0), warmup=cfg.watch_warmup)

    judge = None
    if cfg.metrics_features is not None:
        from .judge import CheckpointMetrics

        judge = CheckpointMetrics(
            cfg.metrics_features,
            data,
            cfg.metrics_count,
            device,
            cfg.seed,
            ppl_count=cfg.metrics_ppl,
            task_name=task.name,
        )
        if judge.skipped:
            _say(f"{task.name}: {judge.skipped}")
    figures_log: list[dict[str, float]] = list(extra.get("metrics") or [])  # every checkpoint's figures

    def save() -> None:
        save_checkpoint(
            ckpt,
            task,
            step,
            images_seen,
            rng,
            {"best_val": best_val, "bad_evals": bad_evals, "run": record, "metrics": figures_log},
        )

    film = None
    if cfg.timelapse is not None:
        film = Timelapse(cfg.timelapse, out / "timelapse", cfg.timelapse_every)
        if not film.frames():  # the first frame: where training starts
            with torch.no_grad():
                film.add(step, images_seen, task.sample(cfg.sample_count, cfg.seed))

    interrupted = None
    progress = Progress(task.name, cfg.steps, "steps", every=cfg.log_every, enabled=cfg.progress, initial=step)
    with progress, StopOnSignal() as stop:
        while step < cfg.steps:
            batch = data.batch(cfg.batch_size, rng).to(device)
            losses = {k: float(v) for k, v in task.train_step(batch, step).items()}
            step += 1
            images_seen += batch.shape[0]
            history.append({"step": step, **losses})
            progress.advance(1, _note(losses, images_seen))
            if watch is not None and (w := watch.losses(step, losses)):
                _say(w)
            if validate is not None and val_data is not None and step % cfg.val_every == 0:
                with torch.no_grad():
                    vloss = float(validate(val_data.images.float().div(255).to(device)))
                history[-1]["val"] = vloss
                if best_val is None or vloss < best_val:
                    best_val, bad_evals = vloss, 0
                    best_state = _clone(task.state_dict())
                    _save_atomic(best_state, out / BEST)
                else:
                    bad_evals += 1
                    if bad_evals >= cfg.patience:
                        stopped_early = True
            interrupted = stop.requested
            if step % cfg.sample_every == 0 or step == cfg.steps or stopped_early or interrupted:
                with torch.no_grad():
                    samples = task.sample(cfg.sample_count, cfg.seed)
                save_grid(samples, out / "samples" / f"step{step:07d}.png")
                if watch is not None and (w := watch.samples(step, samples.detach().cpu())):
                    _say(w)
            if film is not None and (film.due(step) or step == cfg.steps or stopped_early or interrupted):
                with torch.no_grad():
                    film.add(step, images_seen, task.sample(cfg.sample_count, cfg.seed))
            if step % cfg.checkpoint_every == 0 or step == cfg.steps or stopped_early or interrupted:
                if judge is not None and not interrupted:  # measured first: the checkpoint keeps them
                    figures = judge(task, lambda: stop.requested is not None)
                    if figures is None:  # a signal while measuring: save now, unmeasured
                        interrupted = stop.requested
                        _say(f"{task.name}: {interrupted} while measuring step {step}: figures skipped")
                    else:
                        history[-1].update(figures)
                        figures_log.append({"step": step, "kimg": images_seen / 1000, **figures})
                        _append_json(out / METRICS, figures_log[-1])
                        _say(f"{task.name}: step {step}: " + "  ".join(f"{k} {v:.4g}" for k, v in figures.items()))
                save()
            if stopped_early or interrupted:
                break
        if interrupted is None and stop.requested:  # a signal after the last step
            interrupted = stop.requested
        if interrupted:
            _say(f"{task.name}: {interrupted} at step {step}: checkpoint saved to {ckpt}; exporting the weights")
    if best_state is None and best_val is not None and (out / BEST).exists():
        best_state = load_checkpoint(out / BEST)  # the resumed run's best came before the resume
    if best_state is not None:
        task.load_state_dict(best_state)  # early stopping keeps the best validated weights
    weights = task.export(out)
    if film is not None:
        film.write()
    return TrainResult(
        step,
        images_seen,
        losses,
        weights,
        stopped_early,
        best_val,
        history,
        interrupted,
        watch.warnings if watch is not None else [],
    )


def _append_json(path: Path, row: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(row) + "\n")


def _clone(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return obj
