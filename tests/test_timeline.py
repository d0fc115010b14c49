"""Timeline state at arbitrary t, against hand-computed expectations."""
from __future__ import annotations

import math

import pytest

from installation.show.easing import ease
from installation.show.loader import parse_show
from installation.show.timeline import Timeline

SCENE = '[[scenes]]\nname = "{name}"\nduration = {d}\ntransition = {tr}\n[scenes.generator]\nplugin = "noisefield"\n'


def scenes(*specs):
    return "".join(SCENE.format(name=n, d=d, tr=tr) for n, d, tr in specs)


def state(tl: Timeline, t: float):
    return [(l.scene.name, round(l.local_t, 6), round(l.opacity, 6)) for l in tl.layers_at(t)]


def test_easing_curves_hit_their_ends_and_middle():
    for curve in ("linear", "smooth", "ease-in", "ease-out", "ease-in-out"):
        assert ease(curve, 0) == 0 and ease(curve, 1) == 1
    assert ease("linear", 0.25) == 0.25 and ease("ease-in", 0.5) == 0.25 and ease("ease-out", 0.5) == 0.75
    assert ease("smooth", 0.5) == 0.5 and ease("ease-in-out", 0.5) == pytest.approx(0.5)
    assert ease("cut", 0.0) == 1.0


@pytest.fixture
def implicit():
    text = scenes(("a", 10, '{ duration = 2, curve = "linear" }'), ("b", 5, '{ duration = 1, curve = "linear" }'))
    return parse_show("loop = true\n" + text)


def test_implicit_cues_play_scenes_in_order_and_loop(implicit):
    tl = Timeline(implicit)
    assert state(tl, 0) == [("a", 0, 1)]
    assert state(tl, 9.99) == [("a", 9.99, 1)]
    assert state(tl, 10) == [("a", 10, 1), ("b", 0, 0)]
    assert state(tl, 10.5) == [("a", 10.5, 1), ("b", 0.5, 0.5)]
    assert state(tl, 11) == [("b", 1, 1)]
    assert state(tl, 16) == [("b", 6, 1), ("a", 1, 0.5)]  # the loop fades b back into a
    # week-long seek: 15 s cycle, computed not played
    assert state(tl, 15 * 40_000 + 3) == [("a", 3, 1)]
    assert state(tl, 15 * 40_000 + 10.5) == [("a", 10.5, 1), ("b", 0.5, 0.5)]


def test_without_loop_the_last_scene_holds(implicit):
    tl = Timeline(implicit.model_copy(update={"loop": False}))
    assert state(tl, 15.5) == [("b", 5.5, 1)]
    assert state(tl, 1000) == [("b", 990, 1)]
    assert tl.next_fire(1000) == (math.inf, None)


CUES = scenes(("a", 60, 0), ("b", 60, 0), ("c", 60, 0)) + """
[[cues]]
scene = "a"
duration = 10

[[cues]]
scene = "b"
pre_wait = 2
duration = 6
transition = { duration = 2, curve = "linear" }
continue = "auto-continue"
post_wait = 3

[[cues]]
name = "stand by"
scene = "c"
pre_wait = 1
transition = { duration = 4, curve = "linear" }
continue = "manual"

[[cues]]
scene = "a"
duration = 5
transition = { curve = "cut" }
"""


def test_pre_wait_auto_follow_auto_continue_and_manual():
    tl = Timeline(parse_show("loop = false\n" + CUES))
    assert state(tl, 11) == [("a", 11, 1)]                     # cue 1 fired at 10, pre-wait to 12
    assert state(tl, 12) == [("a", 12, 1), ("b", 0, 0)]
    assert state(tl, 13) == [("a", 13, 1), ("b", 1, 0.5)]
    assert state(tl, 14) == [("b", 2, 1)]
    assert state(tl, 15.5) == [("b", 3.5, 1)]                   # cue 2 fired at 15 (post-wait 3), pre-wait 1
    assert state(tl, 17) == [("b", 5, 1), ("c", 1, 0.25)]
    assert state(tl, 20) == [("c", 4, 1)]
    assert state(tl, 1000) == [("c", 984, 1)]                   # manual: waits for GO forever
    assert tl.next_fire(20) == (math.inf, None)
    tl.go(30)
    assert state(tl, 29.9) == [("c", 13.9, 1)]                  # the future GO changes nothing before it
    assert state(tl, 30) == [("a", 0, 1)]                       # cut
    assert state(tl, 100) == [("a", 70, 1)]                     # last cue, no loop: holds


def test_go_during_a_wait_fires_the_next_cue_at_once():
    tl = Timeline(parse_show("loop = false\n" + CUES))
    tl.go(13)                                                   # during b's fade-in, before its post-wait ends
    assert state(tl, 13.5) == [("a", 13.5, 1), ("b", 1.5, 0.75)]
    assert state(tl, 14) == [("b", 2, 1), ("c", 0, 0)]          # c's pre-wait of 1 s from the GO
    assert tl.next_fire(14) == (math.inf, None)


def test_goto_jumps_to_a_cue_and_auto_cues_follow_from_there():
    tl = Timeline(parse_show("loop = true\n" + CUES))
    tl.goto(50, 1)
    assert state(tl, 51) == [("c", 35, 1)]                      # still c until b's pre-wait ends
    assert state(tl, 52.5) == [("c", 36.5, 1), ("b", 0.5, 0.25)]
    assert tl.next_fire(52.5) == (55, 2)


PLAYLIST = scenes(("x", 60, 0), ("y", 60, 0)) + """
[[playlists]]
name = "p"
items = [{ scene = "x", duration = 4, transition = { duration = 1, curve = "linear" } },
         { scene = "y", duration = 6, transition = { duration = 1, curve = "linear" } }]

[[playlists]]
name = "solo"
items = [{ scene = "x", duration = 4 }]
"""


def test_endless_playlist_loops_until_go_and_seeks_fast():
    tl = Timeline(parse_show(PLAYLIST + '[[cues]]\nplaylist = "p"\nrepeat = 0\ncontinue = "manual"\n'))
    assert state(tl, 0) == [("x", 0, 1)]
    assert state(tl, 4.5) == [("x", 4.5, 1), ("y", 0.5, 0.5)]
    assert state(tl, 10.5) == [("y", 6.5, 1), ("x", 0.5, 0.5)]
    assert state(tl, 10 * 100_000 + 4.5) == [("x", 4.5, 1), ("y", 0.5, 0.5)]


def test_playlist_repeat_then_auto_follow():
    text = PLAYLIST + '[[cues]]\nplaylist = "p"\nrepeat = 2\n[[cues]]\nscene = "y"\ntransition = 0\ncontinue = "manual"\n'
    tl = Timeline(parse_show("loop = false\n" + text))
    assert state(tl, 14.5) == [("x", 4.5, 1), ("y", 0.5, 0.5)]   # second pass
    assert tl.next_fire(14.5) == (20, 1)
    assert state(tl, 19) == [("y", 5, 1)]
    assert state(tl, 25) == [("y", 25 - 14, 1)]                 # cue 2 plays y again: the same scene continues


def test_same_scene_repeats_continue_without_restart():
    tl = Timeline(parse_show(PLAYLIST + '[[cues]]\nplaylist = "solo"\nrepeat = 0\ncontinue = "manual"\n'))
    assert state(tl, 1_000_001) == [("x", 1_000_001, 1)]
    single = Timeline(parse_show("loop = true\n" + scenes(("only", 30, 5))))
    assert state(single, 90 * 1000 + 7) == [("only", 90 * 1000 + 7, 1)]


@pytest.mark.parametrize("t", [0.0, 3.3, 9.99, 12.0, 14.75, 17.2, 23.9, 31.0])
def test_automatic_show_is_periodic(t):
    text = CUES.replace('continue = "manual"', 'continue = "auto-follow"\nduration = 7')
    tl = Timeline(parse_show("loop = true\n" + text))
    # one cycle: 10 + (2 + 3) + (1 + 7) + 5 = 28 s
    assert state(tl, t + 28) == state(tl, t + 28 * 1234) == state(tl, t + 28 * 3)
    assert state(tl, t + 28) != []
    # cue 3 plays a from 23; the loop's cue 0 plays a again, so a keeps running from 23
    assert state(tl, 28 + 11) == [("a", 16, 1)]


def test_zero_length_loop_is_rejected():
    text = scenes(("a", 10, 0)) + '[[cues]]\nscene = "a"\ncontinue = "auto-continue"\n'
    with pytest.raises(ValueError, match="without taking any time"):
        Timeline(parse_show("loop = true\n" + text))


def test_live_transition_overrides_only_the_fired_cue(implicit):
    from installation.show.schema import Transition
    tl = Timeline(implicit)
    tl.goto(3.0, 1, Transition(duration=4.0, curve="linear"))   # b fired live with a 4 s fade (its own: 1 s)
    assert state(tl, 5.0) == [("a", 5.0, 1), ("b", 2.0, 0.5)]
    assert state(tl, 7.5) == [("b", 4.5, 1)]
    # b auto-follows into a at 8 with a's own 2 s transition, untouched by the override
    assert state(tl, 9.0) == [("b", 6.0, 1), ("a", 1.0, 0.5)]
