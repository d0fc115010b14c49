"""Keep only images photographed on a white background (how the 862 bikes were picked).

A product shot on white has a border that is almost all near-white pixels, whatever the object;
a street photo does not.  So the test looks only at a frame of ``border`` (fraction of the
shorter side) around the edge: a pixel is white when its *darkest* channel is at least
``threshold`` (a pale blue wall is not white), and an image passes when at least
``min_fraction`` of its border pixels are white.  Border-only also makes the test immune to
what the object is, which is the point: the filter must not bias the data set's content.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from installation.api import list_images


def white_border_fraction(img: np.ndarray, threshold: int = 235, border: float = 0.06) -> float:
    """Fraction of near-white pixels in the border frame of an RGB/BGR/grey uint8 image."""
    if img.ndim == 2:
        img = img[..., None]
    h, w = img.shape[:2]
    b = max(1, int(round(min(h, w) * border)))
    mask = np.zeros((h, w), bool)
    mask[:b], mask[-b:], mask[:, :b], mask[:, -b:] = True, True, True, True
    darkest = img[..., :3].min(axis=2)
    return float((darkest[mask] >= threshold).mean())


def has_white_background(
    img: np.ndarray, threshold: int = 235, min_fraction: float = 0.9, border: float = 0.06
) -> bool:
    return white_border_fraction(img, threshold, border) >= min_fraction


@dataclass
class FilterReport:
    kept: list[Path] = field(default_factory=list)
    rejected: list[Path] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)


def filter_white(
    src: Path | str,
    dst: Path | str,
    threshold: int = 235,
    min_fraction: float = 0.9,
    border: float = 0.06,
    move: bool = False,
) -> FilterReport:
    """Copy (or move) the images of ``src`` that have a white background into ``dst``.

    Sub-folders are searched; files keep their path relative to ``src``.  Files that cannot be
    decoded are listed in ``unreadable`` (and left where they are) rather than stopping a run
    over thousands of scraped images.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise FileNotFoundError(f"source folder not found: {src}")
    if not 0 <= threshold <= 255 or not 0 < min_fraction <= 1 or not 0 < border < 0.5:
        raise ValueError("need 0 <= threshold <= 255, 0 < min_fraction <= 1 and 0 < border < 0.5")
    if dst.resolve().is_relative_to(src.resolve()):
        raise ValueError(f"destination {dst} must not be inside the source folder {src}")
    report = FilterReport()
    for path in list_images(src):
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None or img.ndim not in (2, 3) or img.size == 0:
            report.unreadable.append(path)
            continue
        if img.dtype != np.uint8:  # 16-bit PNG/TIFF: compare on an 8-bit scale
            img = (img / 257).astype(np.uint8) if img.dtype == np.uint16 else img.astype(np.uint8)
        if img.ndim == 3 and img.shape[2] == 4:  # transparent background counts as white
            alpha = img[..., 3:4].astype(np.float32) / 255
            img = (img[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
        if has_white_background(img, threshold, min_fraction, border):
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.move if move else shutil.copy2)(str(path), str(target))
            report.kept.append(target)
        else:
            report.rejected.append(path)
    return report


def register_cli(app) -> None:
    """``installation wgan filter-white SRC DST``."""
    import typer

    wgan_app = typer.Typer(help="WGAN bikes tools.", no_args_is_help=True)

    @wgan_app.command("filter-white")
    def filter_white_cmd(
        src: Path = typer.Argument(..., help="Folder of images (searched recursively)."),
        dst: Path = typer.Argument(..., help="Folder to copy the white-background images into."),
        threshold: int = typer.Option(235, help="A pixel is white when its darkest channel is at least this (0-255)."),
        min_fraction: float = typer.Option(0.9, help="Fraction of border pixels that must be white."),
        border: float = typer.Option(0.06, help="Border width as a fraction of the shorter side."),
        move: bool = typer.Option(False, help="Move files instead of copying them."),
    ):
        """Keep only images on a white background (product shots), for GAN training sets."""
        try:
            report = filter_white(src, dst, threshold, min_fraction, border, move)
        except (FileNotFoundError, ValueError) as exc:
            raise typer.BadParameter(str(exc)) from exc
        for path in report.unreadable:
            typer.echo(f"skipped, cannot decode: {path}", err=True)
        typer.echo(
            f"kept {len(report.kept)}, rejected {len(report.rejected)}, unreadable {len(report.unreadable)} -> {dst}"
        )

    app.add_typer(wgan_app, name="wgan")
