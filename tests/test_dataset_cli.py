"""``installation dataset``: from-video (a real mp4 encoded here with av), from-images, procedural."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from installation.cli import build_app
from installation.train.data import list_images, load_image

runner = CliRunner()


def invoke(*args):
    return runner.invoke(build_app(), [str(a) for a in args], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 2 s, 12 fps, 96×64 H.264 clip: frame i is a solid colour with red = 10·i and a white
    square in the middle third (so a centre crop keeps it and a squash keeps the sides)."""
    import av

    path = tmp_path_factory.mktemp("video") / "sea.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(24):
            img = np.zeros((64, 96, 3), np.uint8)
            img[..., 0] = 10 * i
            img[..., 2] = 200
            img[24:40, 40:56] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_from_video_every_nth_frame_center_crop(clip, tmp_path):
    out = tmp_path / "frames"
    result = invoke("dataset", "from-video", clip, "--size", 32, "--every", 4, "--crop", "center", "--out", out)
    assert result.exit_code == 0, result.output
    paths = list_images(out)
    assert len(paths) == 6 and "wrote 6 images of 32x32" in result.output
    imgs = [load_image(p) for p in paths]
    assert all(img.shape == (32, 32, 3) for img in imgs)
    reds = [float(img[2:6, 2:6, 0].mean()) for img in imgs]  # corner: the solid colour
    assert all(b - a > 25 for a, b in zip(reds, reds[1:])), reds  # frames 0, 4, 8 ...: red rises 40 a step
    assert abs(reds[1] - 40) < 15 and abs(reds[5] - 200) < 20
    centre = imgs[0][12:20, 12:20].mean()
    assert centre > 200  # the white square sits in the middle of a centre crop


def test_from_video_crop_none_squashes_whole_frame(clip, tmp_path):
    out = tmp_path / "squash"
    assert invoke("dataset", "from-video", clip, "--size", 24, "--every", 12, "--crop", "none", "--out", out).exit_code == 0
    img = load_image(list_images(out)[0])
    assert img.shape == (24, 24, 3)
    # squashed 96×64 → 24×24 the 16×16 square becomes 4 wide and 6 tall; a centre crop keeps it square
    wide = int((img[12, :, 1] > 128).sum())
    tall = int((img[:, 12, 1] > 128).sum())
    assert tall - wide >= 2, (wide, tall)
    crop = tmp_path / "crop"
    assert invoke("dataset", "from-video", clip, "--size", 24, "--every", 12, "--out", crop).exit_code == 0
    img = load_image(list_images(crop)[0])
    assert abs(int((img[12, :, 1] > 128).sum()) - int((img[:, 12, 1] > 128).sum())) <= 1


def test_from_video_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.mp4"
    result = invoke("dataset", "from-video", missing, "--out", tmp_path / "x")
    assert result.exit_code != 0 and "nope.mp4" in result.output
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    result = invoke("dataset", "from-video", junk, "--out", tmp_path / "y")
    assert result.exit_code != 0 and "junk.mp4" in result.output


def test_from_images_crops_and_resizes(tmp_path):
    src = tmp_path / "photos"
    (src / "sub").mkdir(parents=True)
    wide = np.zeros((40, 80, 3), np.uint8)
    wide[:, 20:60] = 255  # centre crop of a 80-wide image keeps exactly the white middle
    cv2.imwrite(str(src / "wide.png"), wide)
    cv2.imwrite(str(src / "sub" / "tall.jpg"), np.full((90, 30, 3), 100, np.uint8))
    out = tmp_path / "data"
    result = invoke("dataset", "from-images", src, "--size", 16, "--out", out)
    assert result.exit_code == 0, result.output
    imgs = [load_image(p) for p in list_images(out)]
    assert len(imgs) == 2 and all(i.shape == (16, 16, 3) for i in imgs)
    assert min(float(i.mean()) for i in imgs) > 90
    result = invoke("dataset", "from-images", tmp_path / "empty-missing", "--out", out)
    assert result.exit_code != 0 and "empty-missing" in result.output


def test_procedural_waves_through_the_hook(tmp_path):
    out = tmp_path / "waves"
    result = invoke("dataset", "procedural", "waves", "--count", 3, "--size", 32, "--seed", 2, "--out", out)
    assert result.exit_code == 0, result.output
    imgs = [load_image(p) for p in list_images(out)]
    assert len(imgs) == 3 and imgs[0].shape == (32, 32, 3)
    assert not np.array_equal(imgs[0], imgs[1])
    result = invoke("dataset", "procedural", "unicorns", "--out", out)
    assert result.exit_code != 0 and "waves" in result.output  # lists what is available
