"""``installation metrics A [B] --features FILE [--ppl]``: FID, KID, precision/recall, path length.

With ``--ppl`` each model among A and B also gets its perceptual path length (one measurement,
installation/studio/ppl.py, the same as ``installation ppl``); ``metrics MODEL --ppl`` gives that alone.

A and B are each a folder of images or a model (a generator plugin name, or a checkpoint file):
a model is sampled at seeds ``--start``, ``--start + 1``, ... exactly as a contact sheet shows
them.  The Inception v3 weights are the user's (``--features``; see installation/studio/inception.py).
"""

from __future__ import annotations

from pathlib import Path

import typer

from .common import parse_options, resolve_device


def _model(source: str, plugin, device, options):
    """``(name, generator)`` of a model source; a folder is not one (``None``)."""
    if Path(source).is_dir():
        return None
    from .seeds import load_model

    name, _ckpt, gen = load_model(source, plugin, device, options)
    return name, gen


def _features(source: str, net, count: int, start: int, size: int, batch: int, device, model, limit):
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

        name, gen = model
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
        b: str | None = typer.Argument(
            None, help="Set to judge: a folder of images or a model (plugin name or checkpoint file)."
        ),
        features: Path = typer.Option(
            ...,
            "--features",
            exists=True,
            dir_okay=False,
            help="Inception v3 state dict (torchvision inception_v3 or pytorch-fid pt_inception layout).",
        ),
        count: int = typer.Option(1000, "--count", min=4, help="Samples drawn from a model (and --ppl paths)."),
        start: int = typer.Option(0, "--start", help="First seed sampled from a model."),
        limit: int | None = typer.Option(None, "--limit", help="Use at most this many images of a folder."),
        size: int = typer.Option(299, "--size", min=16, help="Folder images are centre-cropped square at this size."),
        kid_subsets: int = typer.Option(100, "--kid-subsets", min=1, help="Random subsets KID is averaged over."),
        kid_size: int = typer.Option(
            1000, "--kid-subset-size", min=2, help="Samples per KID subset (at most the set sizes)."
        ),
        batch: int = typer.Option(32, "--batch", min=1),
        ppl: bool = typer.Option(
            False, "--ppl", help="Also the perceptual path length of each model (with A alone: only that)."
        ),
        ppl_space: str = typer.Option("auto", "--ppl-space", help="auto (w with a mapping network, else z) | z | w."),
        plugin: str | None = typer.Option(None, "--plugin", help="Generator plugin that reads a checkpoint model."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        option: list[str] = typer.Option([], "--option", "-O", help="Generator option KEY=VALUE (repeatable)."),
    ):
        """FID, KID, precision and recall of B against A (folders or models); --ppl: path length of models."""
        from ..studio.inception import load_inception
        from ..studio.metrics import compare

        if b is None and not ppl:
            raise typer.BadParameter(
                "give a set B to compare A with, or --ppl for the path length of model A", param_hint="B"
            )
        if ppl_space not in ("auto", "z", "w"):
            raise typer.BadParameter(f"use auto, z or w, not {ppl_space!r}", param_hint="--ppl-space")
        sources = [a] if b is None else [a, b]
        if ppl and all(Path(s).is_dir() for s in sources):
            raise typer.BadParameter(
                "--ppl needs a model (a plugin name or a checkpoint), not only folders", param_hint="--ppl"
            )
        dev = resolve_device(device)
        net = load_inception(features).to(dev).eval()
        opts = parse_options(option)
        models = {s: _model(s, plugin, dev, opts) for s in sources}
        if b is not None:
            fa, what_a = _features(a, net, count, start, size, batch, dev, models[a], limit)
            fb, what_b = _features(b, net, count, start, size, batch, dev, models[b], limit)
            typer.echo(f"A: {what_a}\nB: {what_b}")
            for line in compare(fa, fb, kid_subsets, kid_size).lines():
                typer.echo(line)
        if ppl:
            for model in models.values():
                if model is not None:
                    typer.echo(
                        _ppl(model, net, dev, count, ppl_space, False, batch, 1.0, 0, "--ppl-space").line(model[0])
                    )

    @app.command("ppl")
    def ppl(
        model_source: str = typer.Argument(
            ..., metavar="MODEL", help="A model: a generator plugin name, or a checkpoint file."
        ),
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
        from ..studio.inception import load_inception

        if space not in ("auto", "w", "z"):
            raise typer.BadParameter("use auto, w or z", param_hint="--space")
        dev = resolve_device(device)
        net = load_inception(features).to(dev).eval()
        model = _model(model_source, plugin, dev, parse_options(option))
        if model is None:
            raise typer.BadParameter(f"{model_source} is a folder; PPL needs a model", param_hint="MODEL")
        typer.echo(_ppl(model, net, dev, count, space, end, batch, crop, seed).line(model[0], crop))


def _ppl(model, net, device, count: int, space: str, end: bool, batch: int, crop: float, seed: int, hint="--space"):
    """:func:`installation.studio.ppl.model_ppl` with a progress bar; a space the model lacks is a clear error."""
    from ..problems import Problem, ProblemError
    from ..progress import Progress
    from ..studio.ppl import model_ppl, resolve_space

    name, gen = model
    try:
        space = resolve_space(gen, space)
    except ValueError as exc:
        raise ProblemError(None, Problem(None, hint, f"{name}: {exc}")) from None
    with Progress(f"ppl {name}", count, "paths") as bar:
        return model_ppl(gen, lambda x: net(x.to(device)), count, space, end, batch, crop, seed, progress=bar)
