"""``installation train NAME DATA``: train any registered model with the shared loop."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import parse_options, resolve_device


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        name: str = typer.Argument(..., help="Model to train (see `installation plugins`): stylegan2, vae, deblur, wgan, superres, ..."),
        data: Path = typer.Argument(..., help="Folder of training images (make one with `installation dataset`)."),
        out: Path = typer.Option(None, "--out", "-o", help="Run folder for checkpoints, sample grids and exported weights [runs/NAME]."),
        resolution: int = typer.Option(64, help="Training resolution in pixels (square, power of two for GANs)."),
        steps: int = typer.Option(2000, help="Total optimisation steps (a resumed run continues up to this count)."),
        batch: int = typer.Option(16, help="Images per step."),
        device: str = typer.Option("auto", help="auto | cpu | cuda; mixed precision is used on CUDA where the model supports it."),
        seed: int = typer.Option(0, help="Seed for sampling batches and the sample grids."),
        resume: bool = typer.Option(True, help="Continue from OUT/checkpoint.pt when present."),
        checkpoint_every: int = typer.Option(200, help="Steps between checkpoints."),
        sample_every: int = typer.Option(200, help="Steps between sample grids in OUT/samples/."),
        val_fraction: float = typer.Option(0.0, help="Hold out this fraction for validation and stop early when it stops improving (models that validate)."),
        limit: Optional[int] = typer.Option(None, help="Use at most this many images."),
        option: list[str] = typer.Option([], "--option", "-O", help="Model option KEY=VALUE (repeatable), e.g. -O kl_weight=0.5."),
    ):
        """Train a model; weights are exported to OUT as safetensors + JSON when it finishes."""
        from ..plugins import make_plugin_manager
        from ..train import ImageFolder, TrainConfig, run_training

        trainers = make_plugin_manager().trainers()
        if name not in trainers:
            raise typer.BadParameter(f"unknown model {name!r}; available: {', '.join(sorted(trainers)) or 'none'}", param_hint="NAME")
        task = trainers[name](**parse_options(option))
        dataset = ImageFolder(data, resolution, limit=limit)
        cfg = TrainConfig(
            out_dir=out or Path("runs") / name, steps=steps, batch_size=batch, resolution=resolution,
            device=str(resolve_device(device)), seed=seed, resume=resume, checkpoint_every=checkpoint_every,
            sample_every=sample_every, val_fraction=val_fraction,
        )
        result = run_training(task, dataset, cfg)
        typer.echo(f"trained {name}: {result.steps_done} steps, {result.images_seen / 1000:.1f} kimg; weights {result.weights}")
