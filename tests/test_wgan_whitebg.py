"""The white-background filter, on a folder of real image files (PNG, JPEG, RGBA, corrupt)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from plugins.wgan.bikes import draw_bike
from plugins.wgan.whitebg import filter_white, white_border_fraction


def _scene(rng, size=96):
    """A 'street photo': textured, mid-tone everywhere, with a bike in the middle."""
    base = rng.integers(40, 200, (size // 8, size // 8, 3)).astype(np.uint8)
    img = cv2.resize(base, (size, size), interpolation=cv2.INTER_CUBIC)
    bike = draw_bike(rng, size)
    mask = bike.min(axis=2) < 200
    img[mask] = bike[mask]
    return img


@pytest.fixture()
def photos(tmp_path):
    rng = np.random.default_rng(5)
    src = tmp_path / "photos"
    (src / "sub").mkdir(parents=True)
    white = [src / "bike_white.png", src / "sub" / "bike_white.jpg"]
    cv2.imwrite(str(white[0]), cv2.cvtColor(draw_bike(rng, 96), cv2.COLOR_RGB2BGR))
    shot = draw_bike(rng, 96)  # a studio shot: "white" is 244-252 with sensor noise, then JPEG
    bg = shot.min(axis=2) > 240
    shot[bg] = rng.integers(244, 253, (int(bg.sum()), 1)).repeat(3, 1)
    cv2.imwrite(str(white[1]), cv2.cvtColor(shot, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70])
    rgba = np.zeros((80, 120, 4), np.uint8)  # transparent cut-out: the border counts as white
    rgba[20:60, 30:90] = (30, 40, 200, 255)
    cv2.imwrite(str(src / "cutout.png"), rgba)
    not_white = [src / "street.jpg", src / "bluewall.png", src / "sub" / "grey_bike.png"]
    cv2.imwrite(str(not_white[0]), cv2.cvtColor(_scene(rng), cv2.COLOR_RGB2BGR))
    blue = draw_bike(rng, 96)
    blue[blue.min(axis=2) > 240] = (205, 225, 250)  # pale blue studio wall (RGB): not white
    cv2.imwrite(str(not_white[1]), cv2.cvtColor(blue, cv2.COLOR_RGB2BGR))
    grey = draw_bike(rng, 96)
    grey[grey.min(axis=2) > 240] = (200, 200, 200)
    cv2.imwrite(str(not_white[2]), grey)
    (src / "broken.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    (src / "notes.txt").write_text("not an image")
    return src, white + [src / "cutout.png"], not_white


def test_border_fraction():
    img = np.full((50, 50, 3), 255, np.uint8)
    assert white_border_fraction(img) == 1.0
    img[:, :3] = 0  # a dark stripe on the left edge: 3 of 50 columns of the border frame
    assert 0.7 < white_border_fraction(img) < 0.95


def test_filter_keeps_only_white_background_images(photos, tmp_path):
    src, white, not_white = photos
    dst = tmp_path / "kept"
    report = filter_white(src, dst)
    assert sorted(p.relative_to(dst) for p in report.kept) == sorted(p.relative_to(src) for p in white)
    assert sorted(report.rejected) == sorted(not_white)
    assert report.unreadable == [src / "broken.jpg"]
    for path in report.kept:  # real files, readable, identical to the source
        assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is not None
        assert path.read_bytes() == (src / path.relative_to(dst)).read_bytes()
    assert all(p.exists() for p in white)  # copied, not moved


def test_threshold_is_respected(photos, tmp_path):
    src, white, _ = photos
    strict = filter_white(src, tmp_path / "strict", threshold=255, min_fraction=1.0)
    assert len(strict.kept) < len(white)  # JPEG noise is not pure white
    loose = filter_white(src, tmp_path / "loose", threshold=190)
    assert len(loose.kept) > len(white)  # the grey and pale blue walls now pass


def test_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        filter_white(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "src").mkdir()
    with pytest.raises(ValueError, match="inside"):
        filter_white(tmp_path / "src", tmp_path / "src" / "out")
    with pytest.raises(ValueError, match="threshold"):
        filter_white(tmp_path / "src", tmp_path / "out", threshold=300)


def test_cli_command(photos, tmp_path):
    from installation.cli import build_app

    src, white, _ = photos
    dst = tmp_path / "cli_out"
    result = CliRunner().invoke(build_app(), ["wgan", "filter-white", str(src), str(dst), "--threshold", "235", "--move"])
    assert result.exit_code == 0, result.output
    assert f"kept {len(white)}, rejected 3, unreadable 1" in result.output
    assert "broken.jpg" in result.output
    assert not any(p.exists() for p in white)  # --move
    assert len(list(dst.rglob("*.*"))) == len(white)
    missing = CliRunner().invoke(build_app(), ["wgan", "filter-white", str(tmp_path / "nowhere"), str(dst)])
    assert missing.exit_code != 0 and "nowhere" in missing.output
