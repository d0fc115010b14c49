"""Calibration profiles: schema, TOML round trip, refusals that name file, field and line."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from installation.calibration import (
    CalibrationProfile, Color, Mask, Mesh, ProfileError, load_profile, save_profile,
)
from installation.calibration import geometry
from installation.calibration.io import key_lines

ROOT = Path(__file__).resolve().parents[1]


def warped_profile() -> CalibrationProfile:
    p = CalibrationProfile.span(2, 640, 360, 80, curve=2.5, gamma=2.4, name="venue")
    out = p.outputs[0]
    out.corners = ((0.03, 0.011), (0.97, 0.0), (1.0, 0.98), (0.01, 1.0))
    grid = geometry.flat_grid(4, 3)
    grid[1, 1] += (0.013, -0.02)
    out.mesh = Mesh(cols=4, rows=3, points=[tuple(map(float, q)) for q in grid.reshape(-1, 2)], subdivisions=6)
    out.color = Color(gamma=(1.1, 1.0, 0.93), brightness=(0.9, 1.0, 1.0), black_level=(0.02, 0.02, 0.025))
    out.masks = [Mask(polygon=[(0.0, 0.0), (0.2, 0.0), (0.1, 0.15)], mode="hide", feather=3.0)]
    return CalibrationProfile.model_validate(p.model_dump())


@pytest.mark.parametrize("name", ["identity-1920x1080.toml", "two-projector-2x1920x1080.toml"])
def test_example_profiles_load(name):
    p = load_profile(ROOT / "calibration" / name)
    assert p.outputs
    if name.startswith("two"):
        assert p.canvas == (3600, 1080)
        left, right = p.outputs
        assert left.region[0] + left.region[2] - right.region[0] == 240
        assert left.blend.right.width == right.blend.left.width == 240


def test_identity_factory():
    p = CalibrationProfile.identity(1920, 1080)
    assert p.canvas == (1920, 1080) and len(p.outputs) == 1
    assert np.allclose(p.outputs[0].homography(), np.eye(3))


@pytest.mark.parametrize("make", [lambda: CalibrationProfile.identity(1920, 1080), warped_profile])
def test_saved_profiles_reload_identically(tmp_path, make):
    p = make()
    path = save_profile(p, tmp_path / "p.toml")
    q = load_profile(path)
    assert q == p
    assert q.model_dump() == p.model_dump()
    # writing the reloaded profile gives the same bytes: the writer is stable
    text = path.read_text()
    save_profile(q, tmp_path / "q.toml")
    assert (tmp_path / "q.toml").read_text() == text


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


GOOD = """\
canvas = [1920, 1080]

[[outputs]]
name = "a"
resolution = [1920, 1080]
region = [0, 0, 1920, 1080]
corners = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
"""


def refused(path) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    text = str(info.value)
    assert str(path) in text
    return info.value


def test_good_minimal_profile_loads(tmp_path):
    assert load_profile(write(tmp_path, GOOD)).outputs[0].name == "a"


def test_point_out_of_range_is_refused_with_field_and_line(tmp_path):
    err = refused(write(tmp_path, GOOD.replace("[1.0, 1.0], [0.0, 1.0]]", "[7.0, 1.0], [0.0, 1.0]]")))
    p = err.problems[0]
    field, msg, line = p.field, p.message, p.line
    assert field == "outputs[0].corners[2]"
    assert "out of range" in msg
    assert line == 7
    assert f"{err.path}:7: outputs[0].corners[2]" in str(err)


def test_self_crossing_quad_is_refused(tmp_path):
    bow_tie = "corners = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]"
    err = refused(write(tmp_path, GOOD.replace(GOOD.splitlines()[6], bow_tie)))
    p = err.problems[0]
    field, msg, line = p.field, p.message, p.line
    assert field == "outputs[0].corners" and "crosses itself" in msg and line == 7


def test_concave_and_degenerate_quads_are_refused(tmp_path):
    assert "not convex" in geometry.quad_problem([(0, 0), (1, 0), (0.3, 0.3), (0, 1)])
    assert "one line" in geometry.quad_problem([(0, 0), (0.5, 0), (1, 0), (0, 1)])
    assert geometry.quad_problem([(1, 0), (0, 0), (0, 1), (1, 1)]) is None  # mirrored is fine


def test_region_outside_canvas_is_refused(tmp_path):
    err = refused(write(tmp_path, GOOD.replace("region = [0, 0, 1920, 1080]", "region = [100, 0, 1920, 1080]")))
    assert err.problems[0].field == "outputs[0].region" and err.problems[0].line == 6


def test_unknown_key_is_refused(tmp_path):
    err = refused(write(tmp_path, GOOD + "colour = 3\n"))
    assert err.problems[0].field == "outputs[0].colour" and err.problems[0].line == 8
    assert err.problems[0].message == "unknown key" and err.problems[0].hint == "did you mean 'color'?"


def test_second_output_errors_point_at_its_own_lines(tmp_path):
    text = GOOD.replace("canvas = [1920, 1080]", "canvas = [3840, 1080]") + """
[[outputs]]
name = "b"
resolution = [1920, 1080]
region = [1920, 0, 1920, 1080]

[outputs.blend.left]
width = -5
"""
    err = refused(write(tmp_path, text))
    assert err.problems[0].field == "outputs[1].blend.left.width" and err.problems[0].line == 15


def test_mesh_shape_and_folds_are_refused(tmp_path):
    mesh = "\n[outputs.mesh]\ncols = 2\nrows = 2\npoints = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]\n"
    err = refused(write(tmp_path, GOOD + mesh))
    assert err.problems[0].field == "outputs[0].mesh" and "cols*rows" in err.problems[0].message
    folded = mesh.replace("[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]", "[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]")
    err = refused(write(tmp_path, GOOD + folded))
    assert "folded" in err.problems[0].message


def test_duplicate_names_and_blends_wider_than_region(tmp_path):
    p = CalibrationProfile.span(2, 100, 100, 10)
    data = p.model_dump()
    data["outputs"][1]["name"] = data["outputs"][0]["name"]
    data["outputs"][1]["blend"]["right"] = {"width": 95.0}
    with pytest.raises(ValueError) as info:
        CalibrationProfile.model_validate(data)
    assert "outputs[1].name" in str(info.value) and "outputs[1].blend" in str(info.value)


def test_missing_mask_image_and_syntax_errors(tmp_path):
    err = refused(write(tmp_path, GOOD + '\n[[outputs.masks]]\nimage = "nope.png"\n'))
    assert err.problems[0].field == "outputs[0].masks[0].image" and err.problems[0].line == 10
    err = refused(write(tmp_path, GOOD + "oops = \n"))
    assert err.problems[0].field == "<toml>" and err.problems[0].line == 8
    err = refused(tmp_path / "absent.toml")
    assert "cannot read" in err.problems[0].message


def test_polygon_mask_checks():
    with pytest.raises(ValueError, match="crosses itself"):
        Mask(polygon=[(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValueError, match="exactly one"):
        Mask()


def test_key_lines_tracks_arrays_of_tables():
    text = "a = 1\n[[outputs]]\nx = 1\n[outputs.blend.left]\nwidth = 2\n[[outputs]]\nx = 3\n"
    lines = key_lines(text)
    assert lines[("a",)] == 1
    assert lines[("outputs", 0, "blend", "left", "width")] == 5
    assert lines[("outputs", 1, "x")] == 7


def test_homography_maps_the_corners():
    dst = [(0.1, 0.2), (0.9, 0.1), (0.8, 0.9), (0.2, 0.7)]
    h = geometry.homography(geometry.UNIT_SQUARE, dst)
    assert np.allclose(geometry.apply_homography(h, geometry.UNIT_SQUARE), dst)
    assert np.all(geometry.homogeneous(h, geometry.flat_grid(5, 5))[..., 2] > 0)


def test_flat_mesh_surface_is_the_identity():
    for cols, rows in [(2, 2), (3, 5), (6, 4)]:
        surf = geometry.mesh_surface(geometry.flat_grid(cols, rows), 7)
        ref = geometry.flat_grid((cols - 1) * 7 + 1, (rows - 1) * 7 + 1)
        assert np.allclose(surf, ref, atol=1e-12)


def test_mesh_surface_passes_through_control_points():
    grid = geometry.flat_grid(4, 4)
    grid[1, 2] += (0.05, 0.03)
    surf = geometry.mesh_surface(grid, 5)
    assert np.allclose(surf[::5, ::5], grid)
    assert not np.allclose(surf, geometry.flat_grid(16, 16))


def test_bourke_ramps_are_complementary():
    from installation.calibration.blendmap import blend_tables, bourke

    t = np.linspace(0, 1, 101)
    for p in (1.0, 2.0, 3.7):
        assert np.allclose(bourke(t, p) + bourke(1 - t, p), 1.0)
    assert np.allclose(bourke(t, 1.0), t)
    profile = CalibrationProfile.span(2, 300, 10, 60, curve=3.0, gamma=2.4)
    left_x, left_y = blend_tables(profile.outputs[0])
    right_x, _ = blend_tables(profile.outputs[1])
    assert np.allclose(left_y, 1.0) and np.all(left_x[:240] == 1.0)
    assert np.allclose(left_x[240:] ** 2.4 + right_x[:60] ** 2.4, 1.0, atol=1e-6)


from hypothesis import given, settings, strategies as st  # noqa: E402

_jitter = st.floats(-0.2, 0.2, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(offsets=st.lists(st.tuples(_jitter, _jitter), min_size=4, max_size=4),
       gamma=st.tuples(*[st.floats(0.1, 10.0)] * 3), lift=st.floats(0.0, 0.5), width=st.floats(0.0, 300.0),
       curve=st.floats(0.01, 10.0))
def test_any_valid_profile_round_trips_exactly(tmp_path_factory, offsets, gamma, lift, width, curve):
    corners = tuple((cx + dx, cy + dy) for (cx, cy), (dx, dy) in zip(geometry.UNIT_SQUARE, offsets))
    p = CalibrationProfile.span(2, 640, 360, 300)
    data = p.model_dump()
    data["outputs"][0].update(corners=corners, color={"gamma": gamma, "black_level": (lift, 0.0, lift / 2)},
                              blend={"right": {"width": width, "curve": curve}})
    try:
        p = CalibrationProfile.model_validate(data)
    except ValueError:
        assert geometry.quad_problem(corners) is not None  # only a bad quad may be refused here
        return
    path = save_profile(p, tmp_path_factory.mktemp("rt") / "p.toml")
    assert load_profile(path) == p
