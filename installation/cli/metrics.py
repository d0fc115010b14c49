"""``installation metrics A B --features FILE``: FID, KID, precision and recall between two image sets.

A and B are each a folder of images or a model (a generator plugin name, or a checkpoint file):
a model is sampled at seeds ``--start``, ``--start + 1``, ... exactly as a contact sheet shows
them.  The Inception v3 weights are the user's (``--features``; see installation/studio/inception.py).
"""

from __future__ import annotations

from pathlib import Path

import typer

from .common import parse_options, resolve_device


def _features(source: str, net, count: int, start: int, size: int, batch: int, device, plugin, options, limit):
    import torch

    from ..progress import Progress

    path = Path(source)
    if path.is_dir():
        from ..train.data import ImageFolder

        images = ImageFolder(path, size, limit=limit).images
        chunks = lambda: (images[i : i + batch].float() / 255 for i in range(0, images.shape[0], batch))
        total, what = images.shape[0], f"{images.shape[0]} images in {path}"
    else:
        from ..studio.latents import frames_of, seed_z
        from .seeds import load_model

        name, _ckpt, gen = load_model(source, plugin, device, options)
        seeds = list(range(start, start + count))
        chunks = lambda: (
            frames_of(gen, seed_z(seeds[i : i + batch], int(gen.latent_dim))) for i in range(0, count, batch)
        )
        total, what = count, f"{count} samples of {name} (seeds {start}..{start + count - 1})"
    out = []
    with Progress(f"features {path.name or source}", total, "images") as bar, torch.no_grad():
        for x in chunks():
            out.append(net(x.to(device)).cpu())
            bar.advance(x.shape[0])
    return torch.cat(out), what


def register(app: typer.Typer) -> None:
    @app.command("metrics")
    def metrics(
        a: str = typer.Argument(..., help="Reference set: a folder of images (e.g. the training data) or a model."),
        b: str = typer.Argument(
            ..., help="Set to judge: a folder of images or a model (plugin name or checkpoint file)."
        ),
        features: Path = typer.Option(
            ...,
            "--features",
            exists=True,
            dir_okay=False,
            help="Inception v3 state dict (torchvision inception_v3 or pytorch-fid pt_inception layout).",
        ),
        count: int = typer.Option(1000, "--count", min=4, help="Samples drawn from a model."),
        start: int = typer.Option(0, "--start", help="First seed sampled from a model."),
        limit: int | None = typer.Option(None, "--limit", help="Use at most this many images of a folder."),
        size: int = typer.Option(299, "--size", min=16, help="Folder images are centre-cropped square at this size."),
        kid_subsets: int = typer.Option(100, "--kid-subsets", min=1, help="Random subsets KID is averaged over."),
        kid_size: int = typer.Option(
            1000, "--kid-subset-size", min=2, help="Samples per KID subset (at most the set sizes)."
        ),
        batch: int = typer.Option(32, "--batch", min=1),
        plugin: str | None = typer.Option(None, "--plugin", help="Generator plugin that reads a checkpoint model."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        option: list[str] = typer.Option([], "--option", "-O", help="Generator option KEY=VALUE (repeatable)."),
    ):
        """FID, KID, precision and recall of B against A (folders of images or models)."""
        from ..studio.inception import load_inception
        from ..studio.metrics import compare

        dev = resolve_device(device)
        net = load_inception(features).to(dev)
        opts = parse_options(option)
        fa, what_a = _features(a, net, count, start, size, batch, dev, plugin, opts, limit)
        fb, what_b = _features(b, net, count, start, size, batch, dev, plugin, opts, limit)
        typer.echo(f"A: {what_a}\nB: {what_b}")
        for line in compare(fa, fb, kid_subsets, kid_size).lines():
            typer.echo(line)

    @app.command("ppl")
    def ppl(
        model: str = typer.Argument(..., help="A model: a generator plugin name, or a checkpoint file."),
        features: Path = typer.Option(
            ...,
            "--features",
            exists=True,
            dir_okay=False,
            help="Inception v3 state dict the distances are measured with (as for metrics).",
        ),
        count: int = typer.Option(1000, "--count", min=2, help="Path samples (the paper uses 100 000)."),
        space: str = typer.Option("auto", "--space", help="auto (w where the model has a mapping network) | w | z"),
        end: bool = typer.Option(False, "--end", help="t in {0, 1} only (the paper's PPL end); else t in [0, 1]."),
        crop: float = typer.Option(1.0, "--crop", min=0.05, max=1.0, help="Middle share of each side measured."),
        seed: int = typer.Option(0, "--seed"),
        batch: int = typer.Option(16, "--batch", min=1),
        plugin: str | None = typer.Option(None, "--plugin", help="Generator plugin that reads a checkpoint model."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        option: list[str] = typer.Option([], "--option", "-O", help="Generator option KEY=VALUE (repeatable)."),
    ):
        """Perceptual path length of MODEL (Karras et al. 2019).

        Slerp in z or lerp in w, eps 1e-4, mean within the 1st-99th percentile."""
        import torch

        from ..progress import Progress
        from ..studio.inception import load_inception
        from ..studio.ppl import filtered_mean, path_lengths
        from ..walks.wspace import has_w_space
        from .seeds import load_model

        dev = resolve_device(device)
        net = load_inception(features).to(dev).eval()
        name, _ckpt, gen = load_model(model, plugin, dev, parse_options(option))
        if space == "auto":
            space = "w" if has_w_space(gen) else "z"
        if space not in ("w", "z"):
            raise typer.BadParameter("use auto, w or z", param_hint="--space")
        if space == "w" and not has_w_space(gen):
            raise typer.BadParameter(f"{name} has no mapping network (no w space); use --space z", param_hint="--space")
        dim = int(gen.latent_dim)
        if space == "w":
            from ..studio.latents import w_of

            def sample(n, rng):
                return w_of(gen, torch.randn(2 * n, dim, generator=rng)).to(gen.device)

            def render(lat):
                return gen.synthesize(lat)[:, :3].float()
        else:

            def sample(n, rng):
                return torch.randn(2 * n, dim, generator=rng)

            def render(lat):
                # slerp runs on the unit sphere; scaled back to the prior's typical radius sqrt(D)
                return gen.generate((lat * dim**0.5).to(gen.device))[:, :3].float()

        with Progress(f"ppl {name}", count, "paths") as bar:
            lengths = path_lengths(
                render, lambda x: net(x.clamp(0, 1).to(dev)), sample, count, space, end, batch, crop, seed, progress=bar
            )
        typer.echo(f"{name}: {count} paths in {space} ({'end' if end else 'full'}), crop {crop:g}")
        typer.echo(f"PPL {filtered_mean(lengths):.6g} (1st-99th percentile; median {float(lengths.median()):.6g})")
