"""Audio features on synthetic signals whose answers are known: a click track, tones, a drum loop."""

from __future__ import annotations

import numpy as np
import pytest

from installation.audio import features as F
from installation.audio.beats import BeatSource
from installation.audio.decode import AudioError, load, write_wav
from installation.audio.track import analyse

SR = 22050
FRAME = F.HOP / SR


def clicks(bpm=120.0, dur=10.0, off=0.25):
    x = np.zeros(int(SR * dur))
    n = int(0.01 * SR)
    click = np.sin(2 * np.pi * 1000 * np.arange(n) / SR) * np.exp(-np.arange(n) / (0.002 * SR))
    ts = np.arange(off, dur - 0.05, 60 / bpm)
    for t in ts:
        i = int(round(t * SR))
        x[i : i + n] += click
    return x, ts


def drum_loop(bpm=100.0, bars=4, seed=0):
    """Kick on 1 and 3, snare (noise) on 2 and 4, under a sustained chord."""
    rng = np.random.default_rng(seed)
    beat = 60 / bpm
    dur = bars * 4 * beat
    t = np.arange(int(SR * dur)) / SR
    x = 0.2 * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    n = int(0.15 * SR)
    env = np.exp(-np.arange(n) / (0.03 * SR))
    kick = np.sin(2 * np.pi * 60 * np.arange(n) / SR) * env
    snare = rng.standard_normal(n) * env * 0.5
    hits = []
    for k in range(bars * 4):
        i = int(round(k * beat * SR))
        x[i : i + n] += (kick if k % 2 == 0 else snare)[: len(x) - i]
        hits.append(k * beat)
    return x, np.array(hits), beat


def test_click_track_tempo_and_beats():
    x, ts = clicks()
    tr = analyse(x, SR)
    assert abs(tr.tempo - 120.0) < 1.0
    assert len(tr.beats.times) == len(ts)
    assert np.max(np.abs(tr.beats.times - ts)) <= FRAME  # within one feature frame
    assert np.max(np.abs(tr.onsets - ts)) <= FRAME
    assert isinstance(tr.beats, BeatSource)
    assert tr.beats.beat_at(ts[3] + 0.25) == pytest.approx(3.5, abs=0.05)


@pytest.mark.parametrize("bpm", [90.0, 140.0])
def test_other_tempi(bpm):
    x, ts = clicks(bpm=bpm, dur=12.0)
    tr = analyse(x, SR)
    assert abs(tr.tempo - bpm) < 1.0


def test_tones_land_in_their_bands():
    t = np.arange(SR * 2) / SR
    for freq, band in ((100.0, "low"), (1000.0, "mid"), (8000.0, "high")):
        tr = analyse(0.5 * np.sin(2 * np.pi * freq * t), SR, sections="none")
        mid = 1.0
        vals = {b: tr.value(f"/audio/band/{b}", mid) for b in ("low", "mid", "high")}
        raw = F.band_energies(F.spectrogram(0.5 * np.sin(2 * np.pi * freq * t), 2048), SR)
        k = len(t) // F.HOP // 2
        assert max(raw, key=lambda b: raw[b][k]) == band, (freq, vals)
        assert raw[band][k] > 20 * max(raw[b][k] for b in raw if b != band)


def test_configurable_band_edges():
    t = np.arange(SR) / SR
    x = np.sin(2 * np.pi * 440 * t)
    tr = analyse(x, SR, bands=(("a", 400.0, 500.0), ("b", 500.0, 1000.0)), sections="none")
    assert {"/audio/band/a", "/audio/band/b"} <= set(tr.curves)
    with pytest.raises(ValueError, match="holds no FFT bin"):
        analyse(x, SR, bands=(("z", 100.0, 100.001),))


def test_drum_loop_percussive_on_hits_harmonic_between():
    x, hits, beat = drum_loop()
    tr = analyse(x, SR, sections="none")
    assert abs(tr.tempo - 100.0) < 1.0
    perc_on = np.mean([tr.value("/audio/percussive", h + 0.01) for h in hits[1:]])
    perc_off = np.mean([tr.value("/audio/percussive", h + beat / 2) for h in hits[1:-1]])
    assert perc_on > 4 * perc_off
    harm_off = np.mean([tr.value("/audio/harmonic", h + beat / 2) for h in hits[1:-1]])
    assert harm_off > 2 * perc_off  # the chord is harmonic
    err = np.min(np.abs(tr.onsets[:, None] - hits[None, 1:]), axis=0)
    assert np.sum(err <= FRAME) >= len(hits) - 2  # a soft kick under the chord may go unheard


def test_level_follows_loudness():
    t = np.arange(SR * 2) / SR
    x = np.sin(2 * np.pi * 440 * t) * np.where(t < 1, 0.1, 0.8)
    tr = analyse(x, SR, sections="none")
    assert tr.value("/audio/level", 1.5) > 5 * tr.value("/audio/level", 0.5)


def test_sections_by_novelty_and_given():
    t = np.arange(SR * 16) / SR
    x = np.where(t < 8, np.sin(2 * np.pi * 110 * t), 0.3 * np.sin(2 * np.pi * 5000 * t))
    tr = analyse(x, SR)
    assert len(tr.sections) == 2 and abs(tr.sections[1] - 8.0) <= 0.5
    tr = analyse(x, SR, sections=[4.0, 12.0])
    assert tr.sections == [0.0, 4.0, 12.0] and tr.section_at(5.0) == 1


def test_events_pulse_and_deterministic():
    x, ts = clicks(dur=3.0)
    tr, tr2 = analyse(x, SR), analyse(x, SR)
    fps, seen = 30.0, []
    for n in range(90):
        a = tr.events(None if n == 0 else (n - 1) / fps, n / fps)
        assert a == tr2.events(None if n == 0 else (n - 1) / fps, n / fps)
        seen += [(n, v[0]) for addr, v in a if addr == "/audio/onset"]
    ones = [n for n, v in seen if v == 1.0]
    assert ones == [int(np.ceil(t * fps - 0.2)) for t in ts]  # the frame the onset falls in
    assert [n for n, v in seen if v == 0.0] == [0] + [n + 1 for n in ones]


def test_decode_wav_and_errors(tmp_path):
    x, _ = clicks(dur=1.0)
    write_wav(tmp_path / "c.wav", x * 0.5, SR)
    y = load(tmp_path / "c.wav", SR)
    assert y.shape == x.shape and np.abs(y - x * 0.5).max() < 1e-3
    (tmp_path / "bad.wav").write_text("not audio")
    with pytest.raises(AudioError, match="bad.wav"):
        load(tmp_path / "bad.wav")
    with pytest.raises(AudioError, match="no such"):
        load(tmp_path / "missing.wav")


def test_at_beat_sends_an_address_on_the_beat_grid():
    x, ts = clicks(dur=6.0)
    tr = analyse(x, SR, sections="none")
    tr.schedule_beats([(4, 4, "/scene/next", ()), (2, 0, "/cue/goto", ("drop",))])
    fps, sent = 30.0, []
    for n in range(180):
        for address, args in tr.events(None if n == 0 else (n - 1) / fps, n / fps):
            if address in ("/scene/next", "/cue/goto"):
                sent.append((n, address, args))
    expect = sorted(
        [(int(np.ceil(ts[b] * fps - 0.2)), "/scene/next", ()) for b in (4, 8)]
        + [(int(np.ceil(ts[2] * fps - 0.2)), "/cue/goto", ("drop",))]
    )
    assert sent == expect
