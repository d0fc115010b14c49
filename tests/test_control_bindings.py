"""Bindings: range mapping, curves, deadband, slew and one-pole smoothing, combination, learn."""
from __future__ import annotations

import math

import pytest

from installation.control.bindings import shape
from installation.control.config import BindingSpec
from installation.control.events import ControlEvent
from installation.control.params import Parameter, ParameterRegistry
from installation.control.router import ControlRouter


def make(bindings, combine=None, extra=()):
    reg = ParameterRegistry([
        Parameter("/walk/speed", "float", (0.0, 8.0), 1.0),
        Parameter("/output/brightness", "float", (0.0, 2.0), 1.0),
        Parameter("/scene/index", "int", (0, 4), 0),
        Parameter("/output/blackout", "bool", default=False),
        Parameter("/cue/go", "trigger"),
        *extra,
    ])
    router = ControlRouter(reg, [BindingSpec(**b) for b in bindings], combine=combine)
    return reg, router


def ev(address, *args):
    return ControlEvent(address, tuple(args), "test")


def test_linear_range_mapping_and_inversion():
    reg, r = make([
        {"input": "/fader", "param": "/walk/speed", "in_range": [0, 1], "out_range": [0, 4]},
        {"input": "/knob", "param": "/output/brightness", "in_range": [0, 127], "out_range": [2, 0]},
    ])
    r.update([ev("/fader", 0.5)], dt=1 / 60)
    assert reg["/walk/speed"] == pytest.approx(2.0)
    r.update([ev("/fader", 7.0)], dt=1 / 60)  # beyond in_range clamps
    assert reg["/walk/speed"] == pytest.approx(4.0)
    r.update([ev("/knob", 127)], dt=1 / 60)
    assert reg["/output/brightness"] == pytest.approx(0.0)
    r.update([ev("/knob", 31.75)], dt=1 / 60)
    assert reg["/output/brightness"] == pytest.approx(1.5)


def test_default_out_range_is_the_parameter_range_and_midi_in_range_is_0_127():
    reg, r = make([{"input": "/midi/cc/1/7", "param": "/walk/speed"}])
    r.update([ev("/midi/cc/1/7", 127)], dt=0.0)
    assert reg["/walk/speed"] == 8.0


@pytest.mark.parametrize("curve", ["exp", "log", "s-curve"])
def test_curves_keep_ends_and_are_monotonic(curve):
    xs = [i / 100 for i in range(101)]
    ys = [shape(x, curve, 4.0) for x in xs]
    assert ys[0] == pytest.approx(0.0, abs=1e-12) and ys[-1] == pytest.approx(1.0)
    assert all(b > a for a, b in zip(ys, ys[1:]))
    mid = shape(0.5, curve, 4.0)
    if curve == "exp":
        assert mid == pytest.approx((math.exp(2) - 1) / (math.exp(4) - 1)) and mid < 0.5
    elif curve == "log":
        assert mid > 0.5 and shape(shape(0.3, "exp"), "log") == pytest.approx(0.3)
    else:
        assert mid == pytest.approx(0.5) and shape(0.1, curve) < 0.1


def test_exp_curve_through_a_binding():
    reg, r = make([{"input": "/f", "param": "/walk/speed", "out_range": [0, 8], "curve": "exp", "curve_amount": 3}])
    r.update([ev("/f", 0.5)], dt=0.0)
    assert reg["/walk/speed"] == pytest.approx(8 * math.expm1(1.5) / math.expm1(3))


def test_deadband_ignores_jitter_but_passes_ends():
    reg, r = make([{"input": "/f", "param": "/walk/speed", "out_range": [0, 1], "deadband": 0.05}])
    r.update([ev("/f", 0.50)], dt=0.0)
    r.update([ev("/f", 0.53)], dt=0.0)
    assert reg["/walk/speed"] == pytest.approx(0.50)
    r.update([ev("/f", 0.56)], dt=0.0)
    assert reg["/walk/speed"] == pytest.approx(0.56)
    r.update([ev("/f", 0.99)], dt=0.0)
    r.update([ev("/f", 1.0)], dt=0.0)  # the end stop always passes
    assert reg["/walk/speed"] == pytest.approx(1.0)


def test_onepole_follows_with_its_time_constant():
    tau, dt = 0.5, 1 / 60
    reg, r = make([{"input": "/f", "param": "/walk/speed", "out_range": [0, 8],
                    "smoothing": "onepole", "time": tau}])
    reg.set("/walk/speed", 0.0)
    r.update([ev("/f", 1.0)], dt=dt)  # target 8 from 0
    values = [reg["/walk/speed"]]
    for _ in range(29):  # 30 frames = exactly one time constant
        r.update([], dt=dt)
        values.append(reg["/walk/speed"])
    assert values[0] == pytest.approx(8 * (1 - math.exp(-dt / tau)))
    assert values[-1] == pytest.approx(8 * (1 - math.exp(-1.0)), rel=1e-9)
    assert all(b > a for a, b in zip(values, values[1:]))
    for _ in range(2000):
        r.update([], dt=dt)
    assert reg["/walk/speed"] == 8.0  # settles exactly, then stops writing
    assert not r.groups["/walk/speed"].dirty


def test_slew_limits_rate_to_a_full_swing_per_time():
    reg, r = make([{"input": "/f", "param": "/output/brightness", "out_range": [0, 2],
                    "smoothing": "slew", "time": 1.0}])
    reg.set("/output/brightness", 0.0)
    r.update([ev("/f", 1.0)], dt=0.1)
    assert reg["/output/brightness"] == pytest.approx(0.2)  # 2 units per second
    for _ in range(4):
        r.update([], dt=0.1)
    assert reg["/output/brightness"] == pytest.approx(1.0)
    r.update([ev("/f", 0.25)], dt=0.1)  # reverses toward 0.5 at the same rate
    assert reg["/output/brightness"] == pytest.approx(0.8)
    for _ in range(10):
        r.update([], dt=0.1)
    assert reg["/output/brightness"] == pytest.approx(0.5)


def test_several_inputs_last_writer_wins_by_default():
    reg, r = make([
        {"input": "/a", "param": "/walk/speed", "out_range": [0, 8]},
        {"input": "/b", "param": "/walk/speed", "out_range": [0, 8]},
    ])
    r.update([ev("/a", 0.25), ev("/b", 0.5)], dt=0.0)
    assert reg["/walk/speed"] == 4.0
    r.update([ev("/a", 0.125)], dt=0.0)
    assert reg["/walk/speed"] == 1.0


@pytest.mark.parametrize("rule, expected", [("sum", 1.5), ("max", 1.0), ("min", 0.5), ("mean", 0.75)])
def test_combination_rules(rule, expected):
    reg, r = make([
        {"input": "/a", "param": "/output/brightness", "out_range": [0, 1]},
        {"input": "/b", "param": "/output/brightness", "out_range": [0, 1]},
    ], combine={"/output/brightness": rule})
    r.update([ev("/a", 1.0), ev("/b", 0.5)], dt=0.0)
    assert reg["/output/brightness"] == pytest.approx(expected)


def test_sum_is_clamped_to_the_parameter_range():
    reg, r = make([
        {"input": "/a", "param": "/output/brightness"},
        {"input": "/b", "param": "/output/brightness"},
    ], combine={"/output/brightness": "sum"})
    r.update([ev("/a", 1.0), ev("/b", 1.0)], dt=0.0)
    assert reg["/output/brightness"] == 2.0


def test_trigger_and_bool_bindings_fire_on_edges():
    reg, r = make([
        {"input": "/midi/note/1/60", "param": "/cue/go"},
        {"input": "/btn", "param": "/output/blackout"},
    ])
    r.update([ev("/midi/note/1/60", 100), ev("/midi/note/1/60", 110), ev("/midi/note/1/60", 0),
              ev("/midi/note/1/60", 90)], dt=0.0)
    assert reg.pop_triggers() == {"/cue/go": 2}
    r.update([ev("/btn", 1.0)], dt=0.0)
    assert reg["/output/blackout"] is True
    r.update([ev("/btn", 0.0)], dt=0.0)
    assert reg["/output/blackout"] is False


def test_direct_addresses_bad_args_and_unknown_are_counted():
    reg, r = make([{"input": "/f", "param": "/walk/speed"}])
    r.update([ev("/walk/speed", 3.0), ev("/f"), ev("/f", "x"), ev("/f", float("inf")), ev("/what", 1),
              ev("/walk/speed", 99.0), ev("/cue/go")], dt=0.0)
    assert reg["/walk/speed"] == 3.0
    c = reg.counters.snapshot()
    assert c["wrong_type"] == 3 and c["unknown_address"] == 1 and c["out_of_range"] == 1
    assert reg.pop_triggers() == {"/cue/go": 1}


def test_binding_to_missing_or_text_parameter_is_a_clear_error():
    with pytest.raises(ValueError, match="/walk/sped"):
        make([{"input": "/f", "param": "/walk/sped"}])
    with pytest.raises(ValueError, match="text parameters"):
        make([{"input": "/f", "param": "/scene"}], extra=[Parameter("/scene", "str", default="a")])


def test_learn_binds_the_next_input():
    learned = []
    reg, r = make([])
    r.on_learn = learned.append
    r.update([ev("/control/learn", "/output/brightness")], dt=0.0)
    r.update([ev("/walk/speed", 2.0)], dt=0.0)  # parameter addresses are not learned
    r.update([ev("/midi/cc/2/21", 127)], dt=0.0)
    assert r.learning is None and len(learned) == 1
    assert learned[0].input == "/midi/cc/2/21" and learned[0].param == "/output/brightness"
    assert reg["/output/brightness"] == 2.0  # the learning event itself already drives it
    r.update([ev("/midi/cc/2/21", 0)], dt=0.0)
    assert reg["/output/brightness"] == 0.0
    assert 'input = "/midi/cc/2/21"' in learned[0].to_toml()
