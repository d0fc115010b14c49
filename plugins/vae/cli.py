"""``installation vae encode|decode``: bring your own photos into the VAE's latent space."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    vae = typer.Typer(help="VAE watches: encode photos to latents, decode latents to images.", no_args_is_help=True)

    @vae.command("encode")
    def encode(
        photos: list[Path] = typer.Argument(
            ..., help="Image files to encode (centre-cropped square, resized to the model)."
        ),
        out: Path = typer.Option(
            Path("latents.safetensors"), "--out", "-o", help="Latents file to write (safetensors)."
        ),
        checkpoint: Path | None = typer.Option(None, help="VAE weights \\[shipped watch model]."),
    ):
        """Encode PHOTOS to their mean latents; walk between them with `type = "latents"`."""
        from installation.api import WeightsMeta, save_weights

        from .generator import VAEGenerator
        from .walk import LATENTS_KEY, LATENTS_MODEL

        gen = VAEGenerator(checkpoint, "cpu")
        try:
            z = gen.encode_files(photos)
        except (ValueError, FileNotFoundError) as exc:
            raise typer.BadParameter(str(exc), param_hint="PHOTOS") from exc
        meta = WeightsMeta(
            model=LATENTS_MODEL,
            config={"latent_dim": gen.latent_dim},
            provenance={"photos": [str(p) for p in photos], "checkpoint": str(checkpoint or "shipped")},
        )
        path = save_weights(out, {LATENTS_KEY: z}, meta)
        typer.echo(f"encoded {len(photos)} photo(s) → {path} [{z.shape[0]}×{z.shape[1]}]")

    @vae.command("decode")
    def decode(
        latents: Path = typer.Argument(..., help="Latents file from `installation vae encode`."),
        out: Path = typer.Option(Path("decoded.png"), "--out", "-o", help="PNG grid of the decoded images."),
        checkpoint: Path | None = typer.Option(None, help="VAE weights \\[shipped watch model]."),
        deblur: bool = typer.Option(False, help="Run the shipped deblur stage on the result."),
    ):
        """Decode a latents file to a PNG grid (check what the VAE made of your photos)."""
        from installation.api import CheckpointError, save_grid

        from .generator import DeblurStage, VAEGenerator
        from .walk import read_latents

        gen = VAEGenerator(checkpoint, "cpu")
        try:
            z = read_latents(latents)
        except CheckpointError as exc:
            raise typer.BadParameter(str(exc), param_hint="LATENTS") from exc
        if z.shape[1] != gen.latent_dim:
            raise typer.BadParameter(f"{latents}: latents are {z.shape[1]}-d, the model takes {gen.latent_dim}-d")
        images = gen.generate(z)
        if deblur:
            images = DeblurStage("cpu").process(images)
        typer.echo(f"decoded {z.shape[0]} latent(s) → {save_grid(images, out)}")

    app.add_typer(vae, name="vae")
