"""Parameter registry, standard address set and show-file control config."""
from __future__ import annotations

import math

import pytest

from installation.control.config import BindingSpec, OscConfig
from installation.problems import ProblemError
from installation.show.loader import load_show
from installation.control.params import Parameter, ParameterRegistry
from installation.control.standard import ShowLayout, build_registry
from installation.control.config import ControlConfig


def test_registry_validates_and_counts_rejects():
    reg = ParameterRegistry([
        Parameter("/walk/speed", "float", (0.0, 8.0), 1.0),
        Parameter("/scene/index", "int", (0, 3), 0),
        Parameter("/output/blackout", "bool", default=False),
        Parameter("/cue/go", "trigger"),
        Parameter("/scene", "str", default="a", choices=("a", "b")),
    ])
    assert reg.set("/walk/speed", 2) and reg["/walk/speed"] == 2.0
    assert not reg.set("/walk/speed", 9.0)
    assert not reg.set("/walk/speed", float("nan"))
    assert not reg.set("/walk/speed", "fast")
    assert not reg.set("/walk/speed", True)
    assert not reg.set("/nope", 1.0)
    assert reg["/walk/speed"] == 2.0
    assert reg.set("/scene/index", 2.0) and reg["/scene/index"] == 2
    assert reg.set("/output/blackout", 1) and reg["/output/blackout"] is True
    assert reg.set("/scene", "b") and not reg.set("/scene", "c") and not reg.set("/scene", 1)
    assert reg.set("/cue/go") and reg.set("/cue/go", 1.0) and reg.set("/cue/go", 0.0)  # release does not fire
    assert reg.pop_triggers() == {"/cue/go": 2}
    assert reg.pop_triggers() == {}
    c = reg.counters.snapshot()
    assert c == {"out_of_range": 3, "wrong_type": 3, "unknown_address": 1}
    assert reg.pop_changes() == {"/walk/speed": 2.0, "/scene/index": 2, "/output/blackout": True, "/scene": "b"}


def test_parameter_rejects_bad_definitions():
    with pytest.raises(ValueError, match="must be a path"):
        Parameter("walk/speed")
    with pytest.raises(ValueError, match="does not fit"):
        Parameter("/x", "float", (0, 1), 2.0)
    reg = ParameterRegistry([Parameter("/x")])
    with pytest.raises(ValueError, match="twice"):
        reg.add(Parameter("/x"))


def test_standard_tree_covers_the_live_parameters():
    layout = ShowLayout(scenes=["dawn", "dusk"], cues=["intro", "storm"], layers=2, post_stages=["deblur"], directions=3)
    reg = build_registry(layout)
    for address in ["/scene", "/scene/next", "/scene/prev", "/cue/go", "/cue/next", "/cue/prev", "/walk/speed",
                    "/walk/direction", "/walk/truncation", "/crossfade/time", "/direction/0", "/direction/2",
                    "/layer/1/opacity", "/layer/2/opacity", "/post/deblur/enabled", "/post/deblur/mix",
                    "/output/brightness"]:
        assert address in reg, address
    assert "/direction/3" not in reg and "/layer/3/opacity" not in reg
    assert reg.param("/scene").choices == ("dawn", "dusk")
    tree = reg.tree()
    assert tree["layer"]["2"]["opacity"]["."]["range"] == [0.0, 1.0]
    text = reg.format_tree()
    assert "/output/brightness  float (f) [0, 2] = 1.0" in text
    assert "/cue/go  trigger (-)" in text
    rows = reg.describe("/layer")
    assert [r["address"] for r in rows] == ["/layer/1/opacity", "/layer/2/opacity"]


def test_param_overrides_narrow_ranges():
    cfg = ControlConfig.model_validate({"params": {"/walk/speed": {"range": [0, 0.5]}}})
    reg = build_registry(ShowLayout(), cfg)
    assert reg.param("/walk/speed").range == (0.0, 0.5)
    assert reg["/walk/speed"] == 0.5  # default clamped into the narrowed range
    bad = ControlConfig.model_validate({"params": {"/walk/sped": {"range": [0, 1]}}})
    with pytest.raises(ValueError, match="/walk/sped"):
        build_registry(ShowLayout(), bad)


SCENE = '\n[[scenes]]\nname = "a"\n[scenes.generator]\nplugin = "noisefield"\n'


def test_load_control_from_show_file(tmp_path):
    show = tmp_path / "show.toml"
    show.write_text(SCENE + '''
[control.osc]
port = 9100
allowlist = ["127.0.0.1", "192.168.1.0/24"]
rate_limit = 200
[control.osc_out]
targets = ["127.0.0.1:9101"]
heartbeat = 0.5
[control.combine]
"/output/brightness" = "sum"

[[bindings]]
input = "/1/fader1"
param = "/walk/speed"
out_range = [0, 4]
curve = "exp"
smoothing = "onepole"
time = 0.25
deadband = 0.01

[[bindings]]
input = "/midi/cc/1/7"
param = "/output/brightness"
''')
    sc = load_show(show)
    assert sc.control.osc.port == 9100 and sc.control.osc.rate_limit == 200
    assert sc.control.osc_out.targets == ["127.0.0.1:9101"]
    assert sc.bindings[0].curve == "exp" and sc.bindings[0].time == 0.25
    assert sc.bindings[1].resolved_in_range() == (0.0, 127.0)
    again = BindingSpec.model_validate(__import__("tomllib").loads(sc.bindings[0].to_toml())["bindings"][0])
    assert again == sc.bindings[0]


@pytest.mark.parametrize("body, line, needle", [
    ('[control.osc]\nrate_limt = 5\n', 2, "control.osc.rate_limt: unknown key (did you mean 'rate_limit'?)"),
    ('[control.osc]\nallowlist = ["lobby"]\n', 2, "lobby"),
    ('[control.osc_out]\ntargets = ["tablet"]\n', 2, "host:port"),
    ('[[bindings]]\ninput = "/a"\nparam = "/walk/speed"\nsmoothing = "slew"\n', 1, "time > 0"),
    ('[[bindings]]\ninput = "/a"\nparam = "/walk/speed"\nin_range = [1, 1]\n', 4, "empty"),
    ('[[bindings]]\ninput = "fader"\nparam = "/walk/speed"\n', 2, "address"),
    ('[control\n', 1, "<toml>: not valid TOML"),
])
def test_bad_control_tables_name_the_file_and_line(tmp_path, body, line, needle):
    """The control tables are checked with the rest of the show, by the one loader (the separate
    control-only loader is gone): errors are located problems like any other."""
    show = tmp_path / "bad.toml"
    show.write_text(body + SCENE)
    with pytest.raises(ProblemError) as err:
        load_show(show)
    assert f"{show}:{line}: " in str(err.value) and needle in str(err.value), str(err.value)


def test_osc_config_defaults_are_safe():
    cfg = OscConfig()
    assert cfg.allowlist == ["127.0.0.1"]
    assert math.isfinite(cfg.rate_limit)
