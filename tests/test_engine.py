"""Keyframe buffer, worker and mixer: latest wins, never blocks, deterministic when asked."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from installation.engine.buffer import Keyframe, KeyframeBuffer
from installation.engine.mixer import KeyframeMixer
from installation.engine.source import KeyframeSource
from installation.engine.worker import GeneratorWorker
from installation.walks.slerp import SeedSlerp


def kf(i: int) -> Keyframe:
    return Keyframe(i, i / 3, torch.zeros(3, 2, 2), arrival=0.0)


def test_buffer_keeps_newest_and_evicts_oldest():
    buf = KeyframeBuffer(capacity=3)
    for i in [0, 1, 2, 3, 4]:
        buf.put(kf(i))
    assert [k.index for k in buf.snapshot()] == [2, 3, 4]
    assert buf.newest().index == 4
    assert [k.index for k in buf.take_evicted()] == [0, 1]
    assert buf.get(1) is None and buf.get(3).index == 3


def test_buffer_replaces_same_index_and_orders_by_index():
    buf = KeyframeBuffer(capacity=4)
    buf.put(kf(5))
    buf.put(kf(2))
    newer = kf(5)
    buf.put(newer)
    assert [k.index for k in buf.snapshot()] == [2, 5]
    assert buf.get(5) is newer


class GatedGenerator:
    """Blocks inside generate until released: lets a test hold the model 'busy'."""

    latent_dim = 8
    resolution = (4, 4)
    device = torch.device("cpu")

    def __init__(self):
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: list[float] = []

    def generate(self, z):
        self.entered.set()
        self.gate.wait(10)
        self.calls.append(float(z.sum()))
        return torch.full((z.shape[0], 3, 4, 4), 0.5)


def make_worker(gen):
    src = KeyframeSource(gen, SeedSlerp(gen.latent_dim, seeds=[1, 2, 3]), keyframe_rate=4)
    return GeneratorWorker(src, KeyframeBuffer(4), name="test")


def test_request_never_blocks_while_model_is_busy_and_latest_wins():
    gen = GatedGenerator()
    worker = make_worker(gen).start()
    try:
        worker.request(1)
        assert gen.entered.wait(5)
        t0 = time.perf_counter()
        for k in range(2, 50):  # the model is stuck on keyframe 1
            worker.request(k)
        elapsed = time.perf_counter() - t0
        assert elapsed < 1.0  # generous: 48 requests against a blocked model return at once
        assert worker.replaced == 47  # 2..48 were superseded, only 49 is pending
        gen.gate.set()
        deadline = time.time() + 5
        while worker.buffer.get(49) is None and time.time() < deadline:
            time.sleep(0.01)
        assert [k.index for k in worker.buffer.snapshot()] == [1, 49]
        assert worker.produced == 2
    finally:
        gen.gate.set()
        worker.stop()


def test_worker_survives_a_failing_model():
    class Boom(GatedGenerator):
        def generate(self, z):
            raise RuntimeError("boom")

    worker = make_worker(Boom()).start()
    try:
        worker.request(3)
        deadline = time.time() + 5
        while worker.errors == 0 and time.time() < deadline:
            time.sleep(0.01)
        assert worker.errors == 1 and "boom" in worker.last_error
        assert worker.running
    finally:
        worker.stop()


def test_nan_frames_are_rejected_at_the_boundary():
    class NaNGen(GatedGenerator):
        def generate(self, z):
            return torch.full((1, 3, 4, 4), float("nan"))

    worker = make_worker(NaNGen())
    assert worker.ensure(0) is None  # a fault costs the keyframe, never the caller
    assert worker.faults["bad_output"] == 1 and "NaN" in worker.last_error
    assert worker.state == "backoff"


def test_deterministic_mixer_blends_by_fraction_of_keyframe_time():
    gen = GatedGenerator()
    gen.gate.set()
    worker = make_worker(gen)
    mixer = KeyframeMixer(worker, deterministic=True)
    assert mixer.blend(1.3, wall=0.0).b is None and worker.produced == 0  # blend only reads: no work asked
    mixer.plan(1.3, wall=0.0)  # rate 4: position 5.2
    b = mixer.blend(1.3, wall=0.0)
    assert (b.a.index, b.b.index) == (5, 6)
    assert b.mix == pytest.approx(0.2)


def test_realtime_mixer_fades_to_each_new_keyframe():
    gen = GatedGenerator()
    gen.gate.set()
    worker = make_worker(gen)
    mixer = KeyframeMixer(worker, deterministic=False)

    def step(local_t, wall):  # update plans, view blends
        mixer.plan(local_t, wall)
        return mixer.blend(local_t, wall)

    assert step(0.0, wall=0.0).b is None  # nothing generated yet: draw nothing
    worker.ensure(1)
    assert mixer.blend(0.1, wall=1.0).b is None  # a new keyframe is picked up by plan, not by blend
    first = step(0.1, wall=1.0)
    assert first.b.index == 1
    worker.ensure(2)
    fading = step(0.3, wall=2.0)
    assert (fading.a.index, fading.b.index, fading.mix) == (1, 2, 0.0)
    later = step(0.4, wall=2.0 + 0.125)  # half of the 1/rate interval
    assert later.mix == pytest.approx(0.5)
    assert step(0.5, wall=10.0).mix == 1.0


def test_locked_mixer_shows_the_show_time_pair_or_holds_and_never_waits():
    gen = GatedGenerator()  # gate closed: the worker makes nothing until the test lets it
    worker = make_worker(gen)
    mixer = KeyframeMixer(worker, deterministic=False, locked=True)
    mixer.plan(1.3, wall=0.0)  # rate 4: keyframes 5 and 6 at 0.2; neither exists and nothing waits
    assert mixer.blend(1.3, wall=0.0).b is None and worker.produced == 0
    gen.gate.set()
    worker.ensure(5)
    mixer.plan(1.3, wall=0.0)
    held = mixer.blend(1.3, wall=0.0)
    assert (held.a.index, held.b.index, held.mix) == (5, 5, 0.0)  # 6 is missing: 5 holds
    worker.ensure(6)
    mixer.plan(1.3, wall=99.0)  # the wall clock (arrival) plays no part: only show time
    b = mixer.blend(1.3, wall=99.0)
    assert (b.a.index, b.b.index) == (5, 6) and b.mix == pytest.approx(0.2)
    worker.stop()


def test_post_chain_mix_from_the_show_and_live_multiply():
    from installation.engine.post import PostChain

    class Invert:
        def __init__(self, device):
            pass

        def process(self, frames):
            return 1.0 - frames

    chain = PostChain.build([{"stage": "invert", "mix": 0.5}], {"invert": Invert}, torch.device("cpu"))
    x = torch.zeros(1, 3, 4, 4)
    assert torch.allclose(chain(x), torch.full_like(x, 0.5))           # the show's mix alone
    chain.control = {"invert": (True, 0.5)}
    assert torch.allclose(chain(x), torch.full_like(x, 0.25))          # times the live /post/invert/mix
    chain.control = {"invert": (False, 1.0)}
    assert torch.equal(chain(x), x)
