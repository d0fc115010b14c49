"""``installation seeds``: contact sheets of a model's seeds, and a bank of favourite latents."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import parse_options, resolve_device

MODEL_HELP = "A generator plugin name (its shipped weights, e.g. stylegan2, vae, wgan) or a checkpoint file."


def load_model(model: str, plugin: str | None, device, options: dict):
    """``(plugin name, checkpoint or None, generator)`` for MODEL; a ProblemError when nothing loads it."""
    from ..plugins import make_plugin_manager
    from ..problems import Problem, ProblemError

    gens = make_plugin_manager().generators()
    if plugin is not None and plugin not in gens:
        raise typer.BadParameter(
            f"unknown generator {plugin!r}; available: {', '.join(sorted(gens))}", param_hint="--plugin"
        )
    if model in gens and plugin is None and not Path(model).exists():
        try:
            return model, None, gens[model](checkpoint=None, device=device, **options)
        except (TypeError, ValueError) as exc:
            raise ProblemError(None, Problem(None, model, str(exc))) from None
    path = Path(model)
    if not path.exists():
        raise typer.BadParameter(
            f"{model!r} is neither a generator plugin ({', '.join(sorted(gens))}) nor a file", param_hint="MODEL"
        )
    reasons = []
    for name in [plugin] if plugin else [n for n in sorted(gens) if n != "noisefield"]:
        try:
            return name, str(path.resolve()), gens[name](checkpoint=str(path), device=device, **options)
        except Exception as exc:  # each plugin refuses files it cannot read; say why each did
            reasons.append(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    raise ProblemError(
        path,
        Problem(None, "MODEL", "no generator plugin loads this file", "; ".join(reasons) + " (pick one with --plugin)"),
    )


def bank_path(bank: Path | None, show: Path | None) -> Path:
    """``--bank`` as given, else beside ``--show``, else ``seeds.safetensors`` here; never inside the package."""
    import installation

    from ..bank import DEFAULT_NAME

    path = (
        bank if bank is not None else (show.resolve().parent / DEFAULT_NAME if show is not None else Path(DEFAULT_NAME))
    )
    root = Path(installation.__file__).resolve().parent.parent
    resolved = path.resolve()
    for pkg in (root / "installation", root / "plugins"):
        if resolved == pkg or pkg in resolved.parents:
            raise typer.BadParameter(
                f"{path} is inside the installed package ({pkg}); keep banks beside your shows", param_hint="--bank"
            )
    return path


def open_bank(path: Path, plugin_name: str, ckpt: str | None, digest: str):
    """The bank at ``path`` (checked to belong to this model), or a new one for it."""
    from ..bank import Bank

    if path.with_suffix(".json").exists() or path.exists():
        b = Bank.load(path)
        b.check_model(digest, f"{plugin_name} {ckpt or '(shipped weights)'}")
        return b
    return Bank(path, plugin_name, digest, ckpt)


def parse_seeds(text: list[str]) -> list[int]:
    """``["3", "10-13"]`` → ``[3, 10, 11, 12, 13]``."""
    out: list[int] = []
    for item in text:
        for part in item.split(","):
            part = part.strip()
            try:
                if "-" in part[1:]:
                    a, b = (
                        part.split("-", 1)
                        if not part.startswith("-")
                        else ("-" + part[1:].split("-", 1)[0], part[1:].split("-", 1)[1])
                    )
                    out.extend(range(int(a), int(b) + 1))
                elif part:
                    out.append(int(part))
            except ValueError:
                raise typer.BadParameter(
                    f"{part!r} is not a seed number or range like 10-13", param_hint="SEED"
                ) from None
    return out


def register(app: typer.Typer) -> None:
    seeds_app = typer.Typer(
        help="Contact sheets of a model's seeds; keep favourite latents in a seed bank.", no_args_is_help=True
    )
    app.add_typer(seeds_app, name="seeds")

    @seeds_app.command("sheet")
    def sheet(
        model: str = typer.Argument(..., help=MODEL_HELP),
        out: Path = typer.Option(Path("sheet.png"), "--out", "-o", help="PNG to write."),
        count: int = typer.Option(64, "--count", "-n", min=1, max=4096, help="Number of samples."),
        start: int = typer.Option(0, "--start", help="First seed (cells are seeds START, START+1, ...)."),
        truncation: float | None = typer.Option(
            None,
            "--truncation",
            "-t",
            min=0.0,
            max=2.0,
            help="Truncation psi, as a scene's `truncation` (w-space models).",
        ),
        class_index: int | None = typer.Option(None, "--class", help="Class of a conditional model (its class_index)."),
        columns: int | None = typer.Option(None, "--columns", min=1, help="Cells per row \\[square grid]."),
        cell: int | None = typer.Option(
            None, "--cell", min=16, max=2048, help="Cell height in pixels \\[model size, at least ~96]."
        ),
        batch: int = typer.Option(16, "--batch", min=1, help="Samples generated at once."),
        plugin: str | None = typer.Option(
            None, "--plugin", help="Generator plugin that reads a checkpoint MODEL \\[try each]."
        ),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        option: list[str] = typer.Option([], "--option", "-O", help="Generator option KEY=VALUE (repeatable)."),
    ):
        """Render a labelled grid of samples: cell N is what a walk's `seeds = [N]` shows."""
        from ..progress import Progress
        from ..studio.sheet import compose, render_cells, write_png

        opts = parse_options(option)
        if class_index is not None:
            opts["class_index"] = class_index
        name, _ckpt, gen = load_model(model, plugin, resolve_device(device), opts)
        from ..walks.wspace import has_w_space

        if truncation is not None and truncation != 1.0 and not has_w_space(gen):
            raise typer.BadParameter(
                f"{name} has no mapping network (w space) to truncate in", param_hint="--truncation"
            )
        seeds = list(range(start, start + count))
        with Progress(f"sheet {name}", len(seeds), "samples") as bar:
            cells = render_cells(gen, seeds, truncation, batch, bar)
        img = compose(cells, [str(s) for s in seeds], columns, cell)
        write_png(img, out)
        typer.echo(f"wrote {out}: seeds {seeds[0]}..{seeds[-1]} of {name}, {img.shape[1]}x{img.shape[0]} px")

    @seeds_app.command("keep")
    def keep(
        model: str = typer.Argument(..., help=MODEL_HELP),
        seeds: list[str] = typer.Argument(..., help="Seed numbers (as on a sheet); ranges like 10-13 too."),
        name: list[str] = typer.Option(
            [],
            "--name",
            help="Name for each seed, in order; one name for several seeds names them NAME-SEED \\[seed-N].",
        ),
        bank: Path | None = typer.Option(
            None, "--bank", help="Bank file (.safetensors, with its .json) \\[beside --show]."
        ),
        show: Path | None = typer.Option(
            None, "--show", help="Keep in the bank beside this show file \\[./seeds.safetensors]."
        ),
        force: bool = typer.Option(False, "--force", help="Replace entries that already have these names."),
        class_index: int | None = typer.Option(None, "--class", help="Class of a conditional model (its class_index)."),
        plugin: str | None = typer.Option(
            None, "--plugin", help="Generator plugin that reads a checkpoint MODEL \\[try each]."
        ),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        option: list[str] = typer.Option([], "--option", "-O", help="Generator option KEY=VALUE (repeatable)."),
    ):
        """Store seeds' latents (z, and w for StyleGAN2) under names a show's walks can use."""
        from ..bank import Entry, check_name, model_hash
        from ..studio.latents import seed_z, w_of
        from ..walks.wspace import has_w_space

        numbers = parse_seeds(seeds)
        if len(name) > 1 and len(name) != len(numbers):
            raise typer.BadParameter(f"{len(name)} names for {len(numbers)} seeds", param_hint="--name")
        if len(name) == len(numbers):
            names = list(name)
        else:
            prefix = name[0] if name else "seed"
            names = [prefix if len(numbers) == 1 else f"{prefix}-{n}" for n in numbers]
        for n in names:
            try:
                check_name(n)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--name") from None
        path = bank_path(bank, show)
        opts = parse_options(option)
        if class_index is not None:
            opts["class_index"] = class_index
        plugin_name, ckpt, gen = load_model(model, plugin, resolve_device(device), opts)
        digest = model_hash(gen)
        from ..bank import BankError

        b = open_bank(path, plugin_name, ckpt, digest)
        taken = [n for n in names if n in b.entries and not force]
        if taken:
            raise BankError(
                b.meta_path, f"already has {', '.join(map(repr, taken))}", "use --force to replace, or other names"
            )
        z = seed_z(numbers, int(gen.latent_dim))
        w = w_of(gen, z) if has_w_space(gen) else None
        for i, (n, s) in enumerate(zip(names, numbers)):
            b.entries[n] = Entry(n, z[i], None if w is None else w[i], s)
        b.save()
        typer.echo(
            f"kept {', '.join(f'{n} (seed {s})' for n, s in zip(names, numbers))} in {b.path} "
            f"({len(b.entries)} entries, model {plugin_name} {digest[:19]})"
        )

    @seeds_app.command("project")
    def project_(
        model: str = typer.Argument(..., help=MODEL_HELP),
        image: Path = typer.Argument(..., exists=True, dir_okay=False, help="The picture to find (JPEG, PNG)."),
        name: str = typer.Option(..., "--name", help="Name to keep the latent under."),
        bank: Path | None = typer.Option(None, "--bank", help="Bank file \\[beside --show, else ./seeds.safetensors]."),
        show: Path | None = typer.Option(None, "--show", help="Keep in the bank beside this show file."),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Before/after PNG \\[NAME-projection.png beside the bank]."
        ),
        steps: int = typer.Option(
            300, "--steps", min=1, help="Optimisation steps (w for StyleGAN2, z from the encoder mean for the VAE)."
        ),
        lr: float = typer.Option(0.08, "--lr", min=1e-5, help="Learning rate of the optimisation."),
        force: bool = typer.Option(False, "--force", help="Replace an entry of that name."),
        plugin: str | None = typer.Option(
            None, "--plugin", help="Generator plugin that reads a checkpoint MODEL \\[try each]."
        ),
        device: str = typer.Option("auto", help="auto | cpu | cuda"),
        option: list[str] = typer.Option([], "--option", "-O", help="Generator option KEY=VALUE (repeatable)."),
    ):
        """Find the latent that reproduces IMAGE and keep it.

        w for StyleGAN2; for the VAE the encoder mean, refined through the decoder."""
        import torch

        from ..bank import BankError, Entry, check_name, model_hash
        from ..progress import Progress
        from ..studio.project import can_project, fit_target, project
        from ..studio.sheet import compose, read_png, to_uint8, write_png

        try:
            check_name(name)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--name") from None
        path = bank_path(bank, show)
        plugin_name, ckpt, gen = load_model(model, plugin, resolve_device(device), parse_options(option))
        if not can_project(gen):
            raise typer.BadParameter(
                f"{plugin_name} has neither a mapping network nor an encoder to project into", param_hint="MODEL"
            )
        digest = model_hash(gen)
        b = open_bank(path, plugin_name, ckpt, digest)
        if name in b.entries and not force:
            raise BankError(b.meta_path, f"already has {name!r}", "use --force to replace it, or another --name")
        photo = torch.from_numpy(read_png(image)).permute(2, 0, 1).float() / 255.0
        target = fit_target(photo, tuple(gen.resolution))
        with Progress(f"project {image.name}", steps, "steps") as bar:
            result = project(gen, target, steps, lr, bar)
        b.entries[name] = Entry(name, result.z, result.w, None, str(image), round(result.psnr, 2))
        b.save()
        pair = to_uint8(torch.stack([target[0].cpu(), result.frame]))
        picture = compose(pair, ["picture", f"{name}: {result.psnr:.1f} dB"], columns=2)
        out = out or b.path.with_name(f"{name}-projection.png")
        write_png(picture, out)
        typer.echo(
            f"kept {name} ({'w' if result.w is not None else 'z'}, PSNR {result.psnr:.1f} dB) in {b.path}; "
            f"before/after {out}"
        )

    @seeds_app.command("list")
    def list_(
        bank: Path | None = typer.Option(None, "--bank", help="Bank file \\[beside --show, else ./seeds.safetensors]."),
        show: Path | None = typer.Option(None, "--show", help="The bank beside this show file."),
    ):
        """List a bank's entries and the model they belong to."""
        from ..bank import Bank

        path = (
            bank
            if bank is not None
            else (show.resolve().parent / "seeds.safetensors" if show else Path("seeds.safetensors"))
        )
        b = Bank.load(path)
        typer.echo(
            f"{b.path}: model {b.model} {b.checkpoint or '(shipped weights)'} {b.model_hash[:19]}, "
            f"{len(b.entries)} entries"
        )
        for e in sorted(b.entries.values(), key=lambda e: e.name):
            space = " ".join(
                ([f"z[{e.z.numel()}]"] if e.z is not None else [])
                + ([f"w{list(e.w.shape)}"] if e.w is not None else [])
            )
            origin = (
                f"seed {e.seed}, "
                if e.seed is not None
                else (f"projected from {e.source} ({e.psnr:.1f} dB), " if e.source else "")
            )
            typer.echo(f"  {e.name}: {origin}{space}")
