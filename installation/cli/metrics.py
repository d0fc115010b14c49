"""``installation metrics A B --features FILE``: FID, KID, precision and recall between two image sets.

A and B are each a folder of images or a model (a generator plugin name, or a checkpoint file):
a model is sampled at seeds ``--start``, ``--start + 1``, ... exactly as a contact sheet shows
them.  The Inception v3 weights are the user's (``--features``; see installation/studio/inception.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import parse_options, resolve_device


def _features(source: str, net, count: int, start: int, size: int, batch: int, device, plugin, options, limit):
    import torch

    from ..progress import Progress

    path = Path(source)
    if path.is_dir():
        from ..train.data import ImageFolder

        images = ImageFolder(path, size, limit=limit).images
        chunks = lambda: (images[i:i + batch].float() / 255 for i in range(0, images.shape[0], batch))
        total, what = images.shape[0], f"{images.shape[0]} images in {path}"
    else:
        from ..studio.latents import frames_of, seed_z
        from .seeds import load_model

        name, _ckpt, gen = load_model(source, plugin, device, options)
        seeds = list(range(start, start + count))
        chunks = lambda: (frames_of(gen, seed_z(seeds[i:i + batch], int(gen.latent_dim))) for i in range(0, count, batch))
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
        b: str = typer.Argument(..., help="Set to judge: a folder of images or a model (plugin name or checkpoint file)."),
        features: Path = typer.Option(..., "--features", exists=True, dir_okay=False,
                                      help="Inception v3 state dict (torchvision inception_v3 or pytorch-fid pt_inception layout)."),
        count: int = typer.Option(1000, "--count", min=4, help="Samples drawn from a model."),
        start: int = typer.Option(0, "--start", help="First seed sampled from a model."),
        limit: Optional[int] = typer.Option(None, "--limit", help="Use at most this many images of a folder."),
        size: int = typer.Option(299, "--size", min=16, help="Folder images are centre-cropped square at this size."),
        kid_subsets: int = typer.Option(100, "--kid-subsets", min=1, help="Random subsets KID is averaged over."),
        kid_size: int = typer.Option(1000, "--kid-subset-size", min=2, help="Samples per KID subset (at most the set sizes)."),
        batch: int = typer.Option(32, "--batch", min=1),
        plugin: Optional[str] = typer.Option(None, "--plugin", help="Generator plugin that reads a checkpoint model."),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        option: List[str] = typer.Option([], "--option", "-O", help="Generator option KEY=VALUE (repeatable)."),
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
