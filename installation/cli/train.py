"""``installation train NAME DATA``: train any registered model with the shared loop.

A run's options (the model's ``-O`` options and the loop's) are stored in its checkpoint; a
resumed run reuses them, and what is given again on the command line wins (the loop prints
each change, and refuses one that changes the networks' shapes).  Ctrl-C or SIGTERM saves a
checkpoint and exports before exiting (exit status 130 or 143).  With ``--metrics-features`` each
checkpoint also measures FID and KID against the data and the perceptual path length, logs them
and keeps them in the checkpoint (``metrics``) and in ``OUT/metrics.jsonl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from .common import parse_options, resolve_device

#: loop settings a resumed run takes from its checkpoint when not given: CLI name → (record key, default)
SETTINGS = {
    "resolution": ("resolution", 64),
    "steps": ("steps", 2000),
    "batch": ("batch_size", 16),
    "seed": ("seed", 0),
    "checkpoint_every": ("checkpoint_every", 200),
    "sample_every": ("sample_every", 200),
    "val_fraction": ("val_fraction", 0.0),
    "timelapse_every": ("timelapse_every", 100),
}


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        name: str = typer.Argument(
            ..., help="Model to train (see `installation plugins`): stylegan2, vae, deblur, wgan, superres, ..."
        ),
        data: Path = typer.Argument(..., help="Folder of training images (make one with `installation dataset`)."),
        out: Path = typer.Option(
            None, "--out", "-o", help="Run folder for checkpoints, sample grids and exported weights \\[runs/NAME]."
        ),
        resolution: int | None = typer.Option(
            None, help="Training resolution in pixels (square, power of two for GANs) [64, or the resumed run's]."
        ),
        steps: int | None = typer.Option(
            None,
            help="Total optimisation steps (a resumed run continues up to this count) [2000, or the resumed run's].",
        ),
        batch: int | None = typer.Option(None, help="Images per step [16, or the resumed run's]."),
        device: str = typer.Option(
            "auto", help="auto | cpu | cuda; mixed precision is used on CUDA where the model supports it."
        ),
        seed: int | None = typer.Option(
            None, help="Seed for sampling batches and the sample grids [0, or the resumed run's]."
        ),
        resume: bool = typer.Option(
            True, help="Continue from OUT/checkpoint.pt when present, with its stored options."
        ),
        checkpoint_every: int | None = typer.Option(None, help="Steps between checkpoints [200]."),
        sample_every: int | None = typer.Option(None, help="Steps between sample grids in OUT/samples/ [200]."),
        val_fraction: float | None = typer.Option(
            None,
            help="Hold out this fraction for validation and stop early when it stops improving (models that "
            "validate) [0].",
        ),
        limit: int | None = typer.Option(None, help="Use at most this many images."),
        timelapse: Path | None = typer.Option(
            None,
            "--timelapse",
            help="Also write a video of the fixed-seed samples over training (frames kept in OUT/timelapse/).",
        ),
        timelapse_every: int | None = typer.Option(
            None, "--timelapse-every", min=1, help="Steps between timelapse frames [100]."
        ),
        metrics_features: Path | None = typer.Option(
            None,
            "--metrics-features",
            exists=True,
            dir_okay=False,
            help="Inception v3 state dict: log FID, KID (against the data) and PPL at every checkpoint.",
        ),
        metrics_count: int = typer.Option(256, "--metrics-count", min=4, help="Samples the checkpoint FID/KID use."),
        metrics_ppl: int = typer.Option(
            128, "--metrics-ppl", min=0, help="Paths the checkpoint perceptual path length averages (0: none)."
        ),
        log_every: float = typer.Option(
            30.0, "--log-every", min=0.1, help="Seconds between progress lines when not on a terminal."
        ),
        option: list[str] = typer.Option(
            [],
            "--option",
            "-O",
            help="Model option KEY=VALUE (repeatable), e.g. -O kl_weight=0.5; stored in the checkpoint.",
        ),
    ):
        """Train a model; weights are exported to OUT as safetensors + JSON when it finishes."""
        from ..plugins import make_plugin_manager
        from ..train import ImageFolder, TrainConfig, run_training
        from ..train.loop import stored_run

        trainers = make_plugin_manager().trainers()
        if name not in trainers:
            raise typer.BadParameter(
                f"unknown model {name!r}; available: {', '.join(sorted(trainers)) or 'none'}", param_hint="NAME"
            )
        out_dir = out or Path("runs") / name
        stored = stored_run(out_dir) if resume else None
        if stored is not None and stored.get("task") not in (None, name):
            raise typer.BadParameter(
                f"{out_dir} holds a {stored.get('task')} run, not {name}; use another --out", param_hint="--out"
            )
        given = {
            "resolution": resolution,
            "steps": steps,
            "batch": batch,
            "seed": seed,
            "checkpoint_every": checkpoint_every,
            "sample_every": sample_every,
            "val_fraction": val_fraction,
            "timelapse_every": timelapse_every,
        }
        settings: dict[str, Any] = {
            k: v if v is not None else (stored or {}).get(key, default)
            for k, v in given.items()
            for key, default in [SETTINGS[k]]
        }
        options = {**((stored or {}).get("options") or {}), **parse_options(option)}
        try:
            task = trainers[name](**options)
        except (TypeError, ValueError) as exc:
            raise typer.BadParameter(f"{name}: {exc}", param_hint="--option") from None
        dataset = ImageFolder(data, settings["resolution"], limit=limit)
        cfg = TrainConfig(
            out_dir=out_dir,
            steps=settings["steps"],
            batch_size=settings["batch"],
            resolution=settings["resolution"],
            device=str(resolve_device(device)),
            seed=settings["seed"],
            resume=resume,
            checkpoint_every=settings["checkpoint_every"],
            sample_every=settings["sample_every"],
            val_fraction=settings["val_fraction"],
            options=options,
            log_every=log_every,
            timelapse=timelapse,
            timelapse_every=settings["timelapse_every"],
            metrics_features=metrics_features,
            metrics_count=metrics_count,
            metrics_ppl=metrics_ppl,
        )
        result = run_training(task, dataset, cfg)
        if result.interrupted:
            typer.echo(
                f"stopped {name} by {result.interrupted} at step {result.steps_done}: checkpoint "
                f"{out_dir / 'checkpoint.pt'}, weights {result.weights} (run again to resume)"
            )
            raise typer.Exit(130 if result.interrupted == "SIGINT" else 143)
        typer.echo(
            f"trained {name}: {result.steps_done} steps, {result.images_seen / 1000:.1f} kimg; weights {result.weights}"
            + (f"; timelapse {timelapse}" if timelapse is not None else "")
        )
