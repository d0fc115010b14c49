"""The deadline pacer keeps a display's slots under a fake clock: no timed assertions, only counts and indices."""

from installation.pacing import Pacer


class FakeTime:
    def __init__(self):
        self.t = 0.0

    def now(self):
        return self.t

    def sleep(self, s):
        self.t += max(s, 0.0)


def run(work_times, fps=10.0):
    ft = FakeTime()
    p = Pacer(fps, now=ft.now, sleep=ft.sleep)
    for w in work_times:
        ft.t += w  # the frame's work (a slow keyframe upload, a GC pause ...)
        p.presented_now()
        p.wait()
    return p


def test_fast_frames_fill_every_slot_without_drift():
    p = run([0.03] * 50)
    assert list(p.slots) == list(range(50))
    assert p.dropped == 0


def test_a_slightly_late_frame_is_caught_up_without_a_drop():
    p = run([0.03] * 5 + [0.13] + [0.03] * 5)  # 0.03 s past its slot's end: less than half a period
    assert p.dropped == 0
    assert list(p.slots) == list(range(11))


def test_a_very_late_frame_gives_up_its_missed_slots_and_the_grid_keeps_its_place():
    p = run([0.03] * 5 + [0.36] + [0.03] * 5)  # due at the end of slot 5, shown in slot 8
    assert p.dropped == 3
    assert list(p.slots)[:6] == [0, 1, 2, 3, 4, 5 + 3]
    assert list(p.slots)[6:] == list(range(9, 14))


def test_a_frame_that_takes_most_of_its_slot_is_not_a_drop():
    p = run([0.09] * 20)  # 90 % of a period each: every slot still gets its frame
    assert p.dropped == 0 and list(p.slots) == list(range(20))
