"""Opening hours: midnight, weekday changes, closed days, resume after restart, DST."""
from __future__ import annotations

import datetime as dt

import pytest

from installation.show.loader import parse_show
from installation.show.playhead import Playhead
from installation.show.schedule import OpeningHours
from installation.show.schema import Schedule
from installation.show.timeline import Timeline

H = 3600.0


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def hours():
    # 2026-05-04 is a Monday.  Daily 10-18, Friday night instead 20:00-02:00, Sundays closed, and a holiday.
    return OpeningHours(Schedule(timezone="Europe/Berlin", hours={"daily": ["10:00-18:00"], "fri": ["20:00-02:00"], "sun": []},
                                 closed=[dt.date(2026, 5, 6)], epoch=dt.date(2026, 5, 4)))


@pytest.mark.parametrize("when, is_open, show_t", [
    ("2026-05-04T09:59:59", False, 0.0),
    ("2026-05-04T10:00:00", True, 0.0),
    ("2026-05-04T17:59:30", True, 8 * H - 30),
    ("2026-05-04T18:00:00", False, 0.0),
    ("2026-05-06T12:00:00", False, 0.0),     # the holiday
    ("2026-05-08T10:30:00", False, 0.0),     # Friday has its own hours
    ("2026-05-08T23:00:00", True, 3 * H),
    ("2026-05-09T01:30:00", True, 5.5 * H),  # past midnight, now Saturday: still Friday's opening
    ("2026-05-09T02:00:00", False, 0.0),
    ("2026-05-09T10:00:05", True, 5.0),
    ("2026-05-10T12:00:00", False, 0.0),     # Sunday closed
])
def test_opening_resume(hours, when, is_open, show_t):
    pos = hours.position(at(when))
    assert pos.open == is_open
    assert pos.show_t == pytest.approx(show_t)


def test_since_close_spans_the_closed_sunday(hours):
    assert hours.position(at("2026-05-10T12:00:00")).since_close == pytest.approx(18 * H)
    assert hours.position(at("2026-05-09T02:30:00")).since_close == pytest.approx(0.5 * H)


def test_continuous_resume_counts_open_time_since_the_epoch(hours):
    cont = OpeningHours(hours.spec.model_copy(update={"resume": "continuous"}))
    assert cont.position(at("2026-05-04T10:00:00")).show_t == pytest.approx(0)
    assert cont.position(at("2026-05-05T10:00:10")).show_t == pytest.approx(8 * H + 10)
    assert cont.position(at("2026-05-07T11:00:00")).show_t == pytest.approx(17 * H)  # Wed was a holiday
    assert cont.position(at("2026-05-09T01:00:00")).show_t == pytest.approx(24 * H + 5 * H)
    assert cont.position(at("2026-05-11T10:30:00")).show_t == pytest.approx(24 * H + 6 * H + 8 * H + 0.5 * H)


def test_daylight_saving_night_is_an_hour_shorter():
    h = OpeningHours(Schedule(timezone="Europe/Berlin", hours={"daily": ["00:00-06:00"]}))
    assert h.position(at("2026-03-29T05:00:00")).show_t == pytest.approx(4 * H)  # clocks went 02:00 → 03:00
    assert h.position(at("2026-03-28T05:00:00")).show_t == pytest.approx(5 * H)


def test_aware_times_are_converted_to_the_venue_zone(hours):
    utc = dt.datetime(2026, 5, 4, 8, 30, tzinfo=dt.timezone.utc)  # 10:30 in Berlin (CEST)
    assert hours.position(utc).show_t == pytest.approx(0.5 * H)


def test_fades_at_opening_and_closing():
    h = OpeningHours(Schedule(timezone="UTC", hours={"daily": ["10:00-18:00"]}, fade=60))
    assert h.position(at("2026-05-04T10:00:30")).fade == pytest.approx(0.5)
    assert h.position(at("2026-05-04T17:59:45")).fade == pytest.approx(0.25)
    assert h.position(at("2026-05-04T12:00:00")).fade == 1.0


SHOW = """
[[scenes]]
name = "a"
duration = 600
transition = 0
[scenes.generator]
plugin = "noisefield"
[[scenes]]
name = "b"
duration = 300
transition = 10
[scenes.generator]
plugin = "noisefield"
[[scenes]]
name = "closed"
[scenes.generator]
plugin = "noisefield"
[[cues]]
scene = "a"
[[cues]]
scene = "b"
[schedule]
timezone = "UTC"
hours = {{ daily = ["10:00-18:00"] }}
outside = "{outside}"
{extra}
"""


class FakeNow:
    def __init__(self, when: str):
        self.when = at(when)

    def __call__(self):
        return self.when


def test_restarted_machine_resumes_where_the_schedule_says():
    show = parse_show(SHOW.format(outside="blackout", extra=""))
    now = FakeNow("2026-05-04T14:32:00")
    ph = Playhead(show, now=now)
    layers = ph.update(clock_t=0.0)               # the clock just started: the schedule decides
    t = 4 * H + 32 * 60
    assert ph.t == t
    expected = Timeline(show).layers_at(t)
    assert [(l.index, l.local_t, l.opacity) for l in layers] == [(l.index, l.local_t, l.opacity) for l in expected]


def test_outside_hours_blackout_or_holding_scene():
    now = FakeNow("2026-05-04T20:00:00")
    assert Playhead(parse_show(SHOW.format(outside="blackout", extra="")), now=now).update(0.0) == []
    hold = Playhead(parse_show(SHOW.format(outside="hold", extra='holding_scene = "closed"')), now=now)
    (layer,) = hold.update(0.0)
    assert layer.scene.name == "closed" and layer.local_t == pytest.approx(2 * H)


def test_a_new_opening_starts_a_fresh_cue_list():
    show = parse_show(SHOW.format(outside="blackout", extra="").replace('[[cues]]\nscene = "b"', '[[cues]]\nscene = "b"\ncontinue = "manual"'))
    now = FakeNow("2026-05-04T10:05:00")
    ph = Playhead(show, now=now)
    ph.update(0.0)
    ph.go()                                        # operator skips ahead at 10:05
    now.when = at("2026-05-04T10:06:00")
    assert ph.update(0.0)[-1].scene.name == "b"
    now.when = at("2026-05-05T10:06:00")           # next morning: the GO log is gone
    assert [l.scene.name for l in ph.update(0.0)] == ["a"]


def test_epoch_seconds_and_any_zone_are_instants(hours):
    instant = dt.datetime(2026, 5, 4, 8, 30, tzinfo=dt.timezone.utc)  # 10:30 in Berlin (CEST)
    auckland = instant.astimezone(__import__("zoneinfo").ZoneInfo("Pacific/Auckland"))
    assert hours.position(instant.timestamp()).show_t == pytest.approx(0.5 * H)
    assert hours.position(auckland).show_t == pytest.approx(0.5 * H)
    assert hours.localize(instant.timestamp()).isoformat() == "2026-05-04T10:30:00+02:00"
    with pytest.raises(TypeError, match="instant"):
        hours.position("2026-05-04T10:30")


def test_playhead_reports_the_schedule_it_used():
    show = parse_show(SHOW.format(outside="blackout", extra="fade = 60"))
    ph = Playhead(show, now=lambda: dt.datetime(2026, 5, 4, 10, 0, 30, tzinfo=dt.timezone.utc).timestamp())
    assert ph.schedule_status() is None  # no frame yet
    ph.update(0.0)
    st = ph.schedule_status()
    assert st["open"] and st["show_time_s"] == 30.0 and st["fade"] == 0.5
    assert st["venue_time"] == "2026-05-04T10:00:30.000+00:00" and st["timezone"] == "UTC"
