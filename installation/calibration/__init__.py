"""Projection calibration: profiles (TOML), the one-draw GL pass, the live editor.

Public API used by the render spine::

    profile = load_profile("calibration/venue.toml")
    cal = CalibrationPass(ctx, profile)
    cal.render(canvas_texture, output_index, framebuffer)
"""

from .io import ProfileError, load_profile, save_profile
from .profile import Blend, BlendEdge, CalibrationProfile, Color, Mask, Mesh, Output

__all__ = [
    "Blend",
    "BlendEdge",
    "CalibrationPass",
    "CalibrationProfile",
    "Color",
    "Mask",
    "Mesh",
    "Output",
    "ProfileError",
    "load_profile",
    "save_profile",
]


def __getattr__(name):
    # the GL pass imports moderngl; keep profile handling importable without it
    if name == "CalibrationPass":
        from .glpass import CalibrationPass

        return CalibrationPass
    raise AttributeError(name)
