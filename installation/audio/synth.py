"""A short synthetic track the project makes itself (the example show's soundtrack, tests' loops).

Two 8-second sections at 120 BPM: A is a kick on every beat, off-beat hats and an A-minor pad;
B adds a snare on 2 and 4 and moves the pad to F major and up an octave, so a novelty curve sees
the change.  Seeded noise: the same file every time.
"""

from __future__ import annotations

import numpy as np


def make_track(samplerate: int = 22050, bpm: float = 120.0, bars_per_section: int = 4, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    section_beats = 4 * bars_per_section
    n = int(round(2 * section_beats * beat * samplerate))
    t = np.arange(n) / samplerate
    x = np.zeros(n)
    for s, chord in enumerate(((220.0, 261.6, 329.6), (349.2 * 2, 440.0 * 2, 523.3 * 2))):
        a, b = int(s * section_beats * beat * samplerate), int((s + 1) * section_beats * beat * samplerate)
        x[a:b] += 0.08 * sum(np.sin(2 * np.pi * f * t[a:b]) for f in chord)
    hit = int(0.2 * samplerate)
    k = np.arange(hit) / samplerate
    beater = rng.standard_normal(hit) * np.exp(-k / 0.004)  # the beater's click, as a real kick has
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-k / 0.03)) * k) * np.exp(-k / 0.08) + 0.5 * beater
    snare = rng.standard_normal(hit) * np.exp(-k / 0.05) * 0.4
    hat = np.diff(rng.standard_normal(hit + 1)) * np.exp(-k / 0.01) * 0.05
    for i in range(2 * section_beats):
        at = int(round(i * beat * samplerate))
        off = int(round((i + 0.5) * beat * samplerate))
        for start, sound in ((at, kick * 0.6), (off, hat)) + (((at, snare),) if i >= section_beats and i % 2 else ()):
            m = min(hit, n - start)
            x[start : start + m] += sound[:m]
    return (x / np.abs(x).max() * 0.8).astype(np.float32)
