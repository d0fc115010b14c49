"""``installation dataset``: make training image folders from video, images, or a procedural maker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer


def _write(make: Callable[[], list[Path]], size: int, out: Path, hint: str) -> None:
    """Run a frame writer; what it refuses (a bad clip, an empty folder) is a usage error on ``hint``."""
    try:
        paths = make()
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from exc
    typer.echo(f"wrote {len(paths)} images of {size}x{size} to {out}")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(
        help="Make a folder of square training images (JPEG) from a video clip, images, or a procedural maker.",
        no_args_is_help=True,
    )

    @sub.command("from-video")
    def from_video(
        clip: Path = typer.Argument(..., help="Video file to cut frames from (anything FFmpeg decodes)."),
        size: int = typer.Option(256, help="Output size in pixels (square)."),
        every: int = typer.Option(1, help="Keep every N-th frame."),
        crop: str = typer.Option("center", help="center: square crop from the middle; none: squash the whole frame."),
        start: float = typer.Option(0.0, help="Skip this many seconds first."),
        limit: int | None = typer.Option(None, help="Stop after this many images."),
        out: Path = typer.Option(None, "--out", "-o", help="Output folder \\[data/CLIP-NAME]."),
    ):
        """Decode CLIP with av and write every N-th frame, square-cropped and resized, as a JPEG sequence."""
        from ..train.frames import frames_from_video

        out = out or Path("data") / clip.stem
        _write(
            lambda: frames_from_video(clip, out, size=size, every=every, crop=crop, start=start, limit=limit),
            size,
            out,
            "CLIP",
        )

    @sub.command("from-images")
    def from_images(
        folder: Path = typer.Argument(..., help="Folder of images (searched recursively)."),
        size: int = typer.Option(256, help="Output size in pixels (square)."),
        crop: str = typer.Option("center", help="center: square crop from the middle; none: squash the whole image."),
        out: Path = typer.Option(None, "--out", "-o", help="Output folder \\[data/FOLDER-NAME]."),
    ):
        """Square-crop and resize every image in FOLDER into a JPEG training folder."""
        from ..train.frames import frames_from_images

        out = out or Path("data") / folder.name
        _write(lambda: frames_from_images(folder, out, size=size, crop=crop), size, out, "FOLDER")

    @sub.command("procedural")
    def procedural(
        name: str = typer.Argument(..., help="Maker registered by a plugin (see `installation plugins`), e.g. waves."),
        count: int = typer.Option(1000, help="Number of images."),
        size: int = typer.Option(64, help="Image size in pixels (square)."),
        seed: int = typer.Option(0, help="Seed: the same seed gives the same images."),
        out: Path = typer.Option(None, "--out", "-o", help="Output folder \\[data/NAME]."),
    ):
        """Generate a data set with a maker from the register_datasets hook."""
        from ..plugins import make_plugin_manager

        makers = make_plugin_manager().datasets()
        if name not in makers:
            raise typer.BadParameter(
                f"unknown data set {name!r}; available: {', '.join(sorted(makers)) or 'none'}", param_hint="NAME"
            )
        if count < 1 or size < 1:
            raise typer.BadParameter("--count and --size must be positive")
        out = out or Path("data") / name
        paths = makers[name](out, count, size, seed)
        typer.echo(f"wrote {len(paths)} {name} images of {size}x{size} to {out}")

    app.add_typer(sub, name="dataset")
