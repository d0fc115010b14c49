"""The standard address set, derived from a show's layout.

Every show gets the same addresses, sized to its scenes, cues, layers, post stages and latent
directions, so a TouchOSC layout made for one show works on the next.  Names follow DESIGN.md:
lower-case paths such as ``/scene/next``, ``/walk/speed``, ``/layer/1/opacity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .config import ControlConfig, ParamOverride
from .params import Parameter, ParameterRegistry
from .stats import Counters


@dataclass
class ShowLayout:
    """What the registry needs to know about a show (filled from the show file)."""

    scenes: Sequence[str] = ()
    cues: Sequence[str] = ()
    layers: int = 1
    post_stages: Sequence[str] = ()
    directions: int = 8
    extra: list[Parameter] = field(default_factory=list)


def standard_parameters(layout: ShowLayout) -> list[Parameter]:
    scenes = tuple(layout.scenes)
    cues = tuple(layout.cues)
    p = [
        # requests, not state: no value between requests, so asking for any scene (also the one
        # playing, or the first) always acts; the scene playing is /status/scene
        Parameter("/scene", "str", default=None, choices=scenes or None, description="jump to a scene by name"),
        Parameter("/scene/index", "int", (0, max(len(scenes) - 1, 0)), None, "jump to a scene by position (0-based)"),
        Parameter("/scene/next", "trigger", description="go to the next scene"),
        Parameter("/scene/prev", "trigger", description="go to the previous scene"),
        Parameter("/cue/go", "trigger", description="fire the standing-by cue (GO)"),
        Parameter("/cue/next", "trigger", description="move standby to the next cue without firing"),
        Parameter("/cue/prev", "trigger", description="move standby to the previous cue without firing"),
        Parameter("/cue/goto", "str", default=None, choices=cues or None, description="fire a cue by name"),
        Parameter("/walk/speed", "float", (0.0, 8.0), 1.0, "latent walk speed (1 = as written in the show)"),
        Parameter("/walk/direction", "float", (-1.0, 1.0), 1.0, "walk direction: 1 forward, -1 backward, 0 hold"),
        Parameter(
            "/walk/truncation",
            "float",
            (0.0, 1.5),
            None,
            "truncation psi (0 = average image, 1 = full range); unset = the scene's own",
        ),
        Parameter(
            "/crossfade/time",
            "float",
            (0.0, 60.0),
            None,
            "seconds each keyframe fades into the next (0 = cut); unset = the whole keyframe interval",
        ),
        Parameter(
            "/transition/time",
            "float",
            (0.0, 120.0),
            None,
            "transition time of scene changes fired live (GO, next, goto); unset = the cue's own",
        ),
        Parameter("/output/brightness", "float", (0.0, 2.0), 1.0, "output gain applied in the compositor"),
        Parameter("/output/blackout", "bool", default=False, description="black the output at once"),
        # state, not commands: the app writes the scene playing here each frame (for /query)
        Parameter(
            "/status/scene",
            "str",
            default=scenes[0] if scenes else None,
            choices=scenes or None,
            description="state: the scene playing (written by the show; send /scene to change it)",
        ),
        Parameter(
            "/status/scene/index",
            "int",
            (0, max(len(scenes) - 1, 0)),
            0,
            "state: position of the scene playing (written by the show; send /scene/index to change it)",
        ),
    ]
    for k in range(layout.directions):
        p.append(Parameter(f"/direction/{k}", "float", (-5.0, 5.0), 0.0, f"offset along latent direction {k}"))
    for n in range(1, layout.layers + 1):
        p.append(Parameter(f"/layer/{n}/opacity", "float", (0.0, 1.0), 1.0, f"opacity of layer {n}"))
    for name in layout.post_stages:
        p.append(Parameter(f"/post/{name}/enabled", "bool", default=True, description=f"run post stage {name}"))
        p.append(Parameter(f"/post/{name}/mix", "float", (0.0, 1.0), 1.0, f"blend of post stage {name} over its input"))
    p.extend(layout.extra)
    return p


def _apply_override(param: Parameter, ov: ParamOverride) -> Parameter:
    from dataclasses import replace

    rng = (ov.range[0], ov.range[1]) if ov.range is not None else param.range
    default = ov.default if ov.default is not None else param.default
    if ov.default is None and rng is not None and isinstance(default, (int, float)) and not isinstance(default, bool):
        default = min(max(default, rng[0]), rng[1])  # a narrowed range keeps a default inside it
    try:
        return replace(param, range=rng, default=default)
    except ValueError as exc:
        raise ValueError(f"[control.params] {param.address}: {exc}") from None


def build_registry(
    layout: ShowLayout, config: ControlConfig | None = None, counters: Counters | None = None
) -> ParameterRegistry:
    """Registry of :func:`standard_parameters` with the show's ``[control.params]`` overrides."""
    config = config or ControlConfig()
    params = {p.address: p for p in standard_parameters(layout)}
    for address, ov in config.params.items():
        if address not in params:
            raise ValueError(f"[control.params] names {address!r}, which is not a parameter of this show")
        params[address] = _apply_override(params[address], ov)
    return ParameterRegistry(params.values(), counters=counters)
