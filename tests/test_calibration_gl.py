"""The calibration pass read back from headless EGL: corner pin, mesh, blend, colour, masks."""
from __future__ import annotations

import numpy as np
import pytest

from installation.calibration import (
    CalibrationProfile, Color, Mask, Mesh, Output,
)
from installation.calibration import geometry

import cv2  # noqa: E402  (opencv-python-headless is a dependency)
pytestmark = pytest.mark.gl


@pytest.fixture
def ctx(gl_ctx):
    """The session's EGL context (tests/conftest.py): a GL test that cannot get one fails."""
    return gl_ctx


def upload(ctx, img: np.ndarray):
    """An RGBA8 texture in GL convention (row 0 at the bottom) from a top-down image."""
    h, w = img.shape[:2]
    return ctx.texture((w, h), 4, np.ascontiguousarray(img[::-1]).tobytes())


def render(ctx, cal, canvas, index, size, dtype="f1"):
    w, h = size
    fbo = ctx.framebuffer(color_attachments=[ctx.texture((w, h), 4, dtype=dtype)])
    cal.render(canvas, index, fbo)
    np_dtype = np.uint8 if dtype == "f1" else np.float32
    out = np.frombuffer(fbo.read(components=4, dtype=dtype), np_dtype).reshape(h, w, 4)[::-1]
    fbo.color_attachments[0].release()
    fbo.release()
    return out


def test_image(w, h, seed=0) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 4), np.uint8)
    img[..., 0] = x * 255 // max(w - 1, 1)
    img[..., 1] = y * 255 // max(h - 1, 1)
    img[..., 2] = (np.sin(x / 6.0) * np.cos(y / 4.0) * 0.5 + 0.5) * 255
    img[..., 3] = 255
    return cv2.GaussianBlur(img, (0, 0), 1.0)


test_image.__test__ = False


def test_identity_profile_is_pixel_exact(ctx):
    from installation.calibration import CalibrationPass

    w, h = 257, 131
    img = (np.random.default_rng(1).random((h, w, 4)) * 255).astype(np.uint8)
    img[..., 3] = 255
    cal = CalibrationPass(ctx, CalibrationProfile.identity(w, h))
    out = render(ctx, cal, upload(ctx, img), 0, (w, h))
    assert np.array_equal(out, img)


def corner_pin_profile(w, h, ow, oh, corners, mesh=None):
    return CalibrationProfile(canvas=(w, h), outputs=[
        Output(resolution=(ow, oh), region=(0, 0, w, h), corners=corners, mesh=mesh)])


def test_corner_pin_matches_cv2_warp_perspective(ctx):
    from installation.calibration import CalibrationPass

    w, h, ow, oh = 320, 240, 400, 300
    img = test_image(w, h)
    corners = ((0.1, 0.05), (0.93, 0.12), (0.85, 0.95), (0.04, 0.8))
    profile = corner_pin_profile(w, h, ow, oh, corners)
    out = render(ctx, CalibrationPass(ctx, profile), upload(ctx, img), 0, (ow, oh))

    # profile coordinates are pixel edges, normalised; cv2 works on pixel centres
    to_src = np.array([[1 / w, 0, 0.5 / w], [0, 1 / h, 0.5 / h], [0, 0, 1]])
    from_out = np.array([[ow, 0, -0.5], [0, oh, -0.5], [0, 0, 1]])
    hom = from_out @ profile.outputs[0].homography() @ to_src
    ref = cv2.warpPerspective(img, hom, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    inside = cv2.warpPerspective(np.ones((h, w), np.uint8), hom, (ow, oh), flags=cv2.INTER_NEAREST)
    inside = cv2.erode(inside, np.ones((5, 5), np.uint8)) > 0  # rasterisation and cv2 differ at the quad's edge
    assert inside.sum() > 0.5 * ow * oh
    diff = np.abs(out[..., :3].astype(int) - ref[..., :3].astype(int))[inside]
    assert diff.max() <= 2, diff.max()
    assert diff.mean() < 0.2
    outside = cv2.dilate(inside.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    assert out[outside][:, :3].max() == 0  # beyond the quad the projector shows black


@pytest.mark.parametrize("corners", [geometry.UNIT_SQUARE, ((0.05, 0.0), (1.0, 0.1), (0.9, 1.0), (0.0, 0.93))])
def test_flat_mesh_equals_no_mesh(ctx, corners):
    from installation.calibration import CalibrationPass

    w, h = 240, 160
    img = test_image(w, h)
    canvas = upload(ctx, img)
    plain = render(ctx, CalibrationPass(ctx, corner_pin_profile(w, h, w, h, corners)), canvas, 0, (w, h))
    meshed = render(ctx, CalibrationPass(ctx, corner_pin_profile(w, h, w, h, corners, Mesh.flat(5, 4))),
                    canvas, 0, (w, h))
    diff = np.abs(plain.astype(int) - meshed.astype(int)).max(axis=-1)
    if corners == geometry.UNIT_SQUARE:
        assert np.array_equal(meshed, img)
    # inside the quad the two agree to one level; on its very edge the tessellated outline may
    # cover a pixel or two differently from the single quad's
    covered = cv2.erode((plain[..., :3].max(-1) > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert diff[covered].max() <= 1
    assert (diff > 1).sum() <= 0.001 * w * h


def test_mesh_point_moves_the_picture_locally(ctx):
    from installation.calibration import CalibrationPass

    w, h = 200, 200
    img = np.zeros((h, w, 4), np.uint8)
    img[..., 3] = 255
    img[95:105, 95:105, :3] = 255  # a white square at the centre
    grid = geometry.flat_grid(3, 3)
    grid[1, 1] = (0.6, 0.5)  # drag the centre node right by 20 px
    mesh = Mesh(cols=3, rows=3, points=[tuple(p) for p in grid.reshape(-1, 2)], subdivisions=16)
    out = render(ctx, CalibrationPass(ctx, corner_pin_profile(w, h, w, h, geometry.UNIT_SQUARE, mesh)),
                 upload(ctx, img), 0, (w, h))
    ys, xs = np.nonzero(out[..., 0] > 128)
    assert abs(xs.mean() - 119.5) < 1.5 and abs(ys.mean() - 99.5) < 1.0
    assert np.array_equal(out[:5, :5], img[:5, :5])  # the border nodes did not move


def test_overlap_blend_ramps_sum_to_one_in_linear_light(ctx):
    from installation.calibration import CalibrationPass

    ow, oh, overlap, gamma = 480, 64, 96, 2.2
    for curve in (1.0, 2.0, 3.5):
        profile = CalibrationProfile.span(2, ow, oh, overlap, curve=curve, gamma=gamma)
        cw, ch = profile.canvas
        white = upload(ctx, np.full((ch, cw, 4), 255, np.uint8))
        cal = CalibrationPass(ctx, profile)
        left, right = (render(ctx, cal, white, i, (ow, oh), dtype="f4")[..., :3] for i in range(2))
        light = left[:, ow - overlap:] ** gamma + right[:, :overlap] ** gamma
        assert np.allclose(light, 1.0, atol=2e-4), (curve, light.min(), light.max())
        ramp = left[0, ow - overlap:, 0]
        assert np.all(np.diff(ramp) < 0) and ramp[0] > 0.9 and ramp[-1] < 0.1  # a real fade, not a step
        assert np.allclose(left[:, : ow - overlap], 1.0, atol=1e-6) and np.allclose(right[:, overlap:], 1.0, atol=1e-6)


def test_colour_correction_matches_the_formula(ctx):
    from installation.calibration import CalibrationPass

    w, h = 64, 32
    img = test_image(w, h)
    color = Color(gamma=(1.4, 1.0, 0.8), brightness=(0.9, 1.2, 1.0), black_level=(0.05, 0.0, 0.1),
                  black_level_mode="everywhere")
    profile = CalibrationProfile(canvas=(w, h), outputs=[Output(resolution=(w, h), region=(0, 0, w, h), color=color)])
    out = render(ctx, CalibrationPass(ctx, profile), upload(ctx, img), 0, (w, h), dtype="f4")[..., :3]
    c = img[..., :3] / 255.0
    ref = c ** (1 / np.array(color.gamma)) * np.array(color.brightness)
    lift = np.array(color.black_level)
    ref = np.clip(lift + (1 - lift) * ref, 0, 1)
    assert np.allclose(out, ref, atol=2e-3)


def test_black_level_lift_stays_out_of_the_blend_zone(ctx):
    from installation.calibration import CalibrationPass

    profile = CalibrationProfile.span(2, 100, 20, 20)
    profile.outputs[0].color = Color(black_level=(0.1, 0.1, 0.1))
    profile = CalibrationProfile.model_validate(profile.model_dump())
    cw, ch = profile.canvas
    black = upload(ctx, np.zeros((ch, cw, 4), np.uint8) + np.array([0, 0, 0, 255], np.uint8))
    out = render(ctx, CalibrationPass(ctx, profile), black, 0, (100, 20), dtype="f4")
    assert np.allclose(out[:, :80, :3], 0.1, atol=1e-3) and np.all(out[:, 80:, :3] == 0)


def test_polygon_mask_blacks_out_its_area(ctx):
    from installation.calibration import CalibrationPass

    w, h = 100, 80
    white = upload(ctx, np.full((h, w, 4), 255, np.uint8))
    mask = Mask(polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)], mode="hide")
    profile = CalibrationProfile(canvas=(w, h), outputs=[Output(resolution=(w, h), region=(0, 0, w, h), masks=[mask])])
    out = render(ctx, CalibrationPass(ctx, profile), white, 0, (w, h))
    assert out[:39, :49, :3].max() == 0
    assert out[41:, :, :3].min() == 255 and out[:, 51:, :3].min() == 255


def test_two_outputs_share_one_spanning_framebuffer(ctx):
    from installation.calibration import CalibrationPass

    profile = CalibrationProfile.span(2, 64, 32, 0)
    cw, ch = profile.canvas
    img = test_image(cw, ch)
    cal = CalibrationPass(ctx, profile)
    fbo = ctx.simple_framebuffer((128, 32), components=4)
    canvas = upload(ctx, img)
    for i in range(2):
        cal.render(canvas, i, fbo)
    out = np.frombuffer(fbo.read(components=4, viewport=(0, 0, 128, 32)), np.uint8).reshape(32, 128, 4)[::-1]
    assert np.array_equal(out, img)


def test_update_after_an_edit_changes_the_picture(ctx):
    from installation.calibration import CalibrationPass

    w, h = 80, 60
    img = test_image(w, h)
    canvas = upload(ctx, img)
    profile = CalibrationProfile.identity(w, h)
    cal = CalibrationPass(ctx, profile)
    before = render(ctx, cal, canvas, 0, (w, h))
    edited = profile.model_copy(deep=True)
    edited.outputs[0].corners = ((0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9))
    cal.update(edited)
    after = render(ctx, cal, canvas, 0, (w, h))
    assert after[:5, :5, :3].max() == 0 and not np.array_equal(before, after)
    cal.update(profile)
    assert np.array_equal(render(ctx, cal, canvas, 0, (w, h)), img)


def test_mask_image_beside_the_profile(ctx, tmp_path):
    from installation.calibration import CalibrationPass, load_profile, save_profile

    w, h = 64, 48
    mask = np.zeros((h // 2, w // 2), np.uint8)  # any size: scaled to the output
    mask[:, : w // 4] = 255  # left half marked
    (tmp_path / "masks").mkdir()
    cv2.imwrite(str(tmp_path / "masks" / "left.png"), mask)
    profile = CalibrationProfile(canvas=(w, h), outputs=[Output(
        resolution=(w, h), region=(0, 0, w, h), masks=[Mask(image="masks/left.png", mode="show")])])
    save_profile(profile, tmp_path / "venue.toml")
    loaded = load_profile(tmp_path / "venue.toml")
    white = upload(ctx, np.full((h, w, 4), 255, np.uint8))
    out = render(ctx, CalibrationPass(ctx, loaded), white, 0, (w, h))
    assert out[:, : w // 2 - 1, :3].min() == 255 and out[:, w // 2 + 1:, :3].max() == 0


def test_shrinking_output_is_supersampled(ctx, monkeypatch):
    from installation.calibration import CalibrationPass, glpass
    from installation.calibration.glpass import features

    w, h = 256, 128
    y, x = np.mgrid[0:h, 0:w]
    checker = np.zeros((h, w, 4), np.uint8)
    checker[..., :3] = (((x + y) % 2) * 255)[..., None]
    checker[..., 3] = 255
    small = CalibrationProfile(canvas=(w, h), outputs=[Output(resolution=(100, 50), region=(0, 0, w, h))])  # 2.56x
    assert "USE_SUPERSAMPLE" in features(small.outputs[0])
    assert "USE_SUPERSAMPLE" not in features(CalibrationProfile.identity(w, h).outputs[0])
    canvas = upload(ctx, checker)
    out = render(ctx, CalibrationPass(ctx, small), canvas, 0, (100, 50))[..., 0].astype(float)
    assert abs(out.mean() - 127.5) < 3 and out.std() < 15  # a 1-px checker shrunk: near-flat grey
    monkeypatch.setattr(glpass, "SUPERSAMPLE_ABOVE", 99.0)  # plain bilinear for comparison: moire
    plain = render(ctx, CalibrationPass(ctx, small), canvas, 0, (100, 50))[..., 0].astype(float)
    assert plain.std() > 2 * out.std() + 10
