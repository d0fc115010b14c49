"""Audio in: level (RMS) and onsets (relative spectral flux over its running median) per block.

:class:`AudioAnalyzer` is pure numpy, fed blocks of samples, so tests drive it with synthetic
signals; :class:`AudioInput` opens a sounddevice stream (the ``audio`` extra) whose callback
analyses each block and enqueues ``/audio/level`` (RMS, 0..1 full scale) when it moved by more
than ``level_epsilon`` and ``/audio/onset 1.0`` on each onset, plus each block the causal
versions of the file features (:class:`installation.audio.live.LiveFeatures`: bands, harmonic,
percussive, flux, beat phase, tempo) under the addresses a show's ``[audio]`` track sends, so one
show's bindings work with a track, a sound card, a file looped as a stand-in input (``file``) or a
desk sending those addresses over OSC.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .events import ControlEvent, EventQueue
from .stats import Counters


class AudioAnalyzer:
    """Level and onset detector; ``process(block)`` returns ``(rms, onset)``."""

    def __init__(
        self,
        samplerate: int = 48000,
        onset_threshold: float = 3.0,
        history_s: float = 1.0,
        refractory_s: float = 0.08,
        gate: float = 1e-3,
        blocksize: int = 1024,
        min_flux: float = 0.5,
    ) -> None:
        self.samplerate = samplerate
        self.onset_threshold = onset_threshold
        self.refractory_s = refractory_s
        self.gate = gate
        self.min_flux = min_flux
        self._history: deque[float] = deque(maxlen=max(4, int(history_s * samplerate / blocksize)))
        self._prev_mag: np.ndarray | None = None
        self._since_onset = float("inf")
        self.flux = 0.0

    def process(self, block: np.ndarray) -> tuple[float, bool]:
        x = np.asarray(block, dtype=np.float64)
        if x.ndim == 2:
            x = x.mean(axis=1)
        if x.size == 0:
            return 0.0, False
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        rms = float(np.sqrt(np.mean(x * x)))
        mag = np.abs(np.fft.rfft(x * np.hanning(x.size)))
        if self._prev_mag is None or self._prev_mag.shape != mag.shape:
            flux = 0.0
        else:  # half-wave rectified (only energy that appears counts), relative to the last block's
            flux = float(np.maximum(mag - self._prev_mag, 0.0).sum() / (self._prev_mag.sum() + 1e-9))
        self._prev_mag = mag
        self.flux = flux
        self._since_onset += x.size / self.samplerate
        ref = float(np.median(self._history)) if self._history else 0.0
        # relative flux is loudness-free; min_flux (0.5 = half as much energy again) keeps a steady
        # tone's frame-to-frame wobble from counting, the gate keeps silence and dither quiet
        onset = (
            rms > self.gate
            and flux > self.onset_threshold * ref
            and flux > self.min_flux
            and self._since_onset >= self.refractory_s
            and len(self._history) >= 2
        )
        self._history.append(flux)
        if onset:
            self._since_onset = 0.0
        return min(rms, 1.0), onset


class AudioInput:
    """Analyses an input device (or blocks given to :meth:`feed`) and enqueues level and onset events."""

    def __init__(
        self,
        events: EventQueue,
        device: str | int | None = None,
        samplerate: int = 48000,
        blocksize: int = 1024,
        onset_threshold: float = 3.0,
        level_epsilon: float = 0.002,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.monotonic,
        file: str | Path | None = None,
    ) -> None:
        from ..audio.live import LiveFeatures

        self.events = events
        self.file = Path(file) if file is not None else None
        self.features = LiveFeatures(samplerate, blocksize)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.device = device
        self.samplerate = samplerate
        self.blocksize = blocksize
        self.level_epsilon = level_epsilon
        self.counters = counters if counters is not None else events.counters
        self.clock = clock
        self.analyzer = AudioAnalyzer(samplerate, onset_threshold, blocksize=blocksize)
        self.source = (
            f"audio:file:{self.file.name}" if self.file else f"audio:{device if device is not None else 'default'}"
        )
        self._last_level: float | None = None
        self._stream = None
        self.position = 0.0  # seconds of sound analysed so far (a file's place in its loop, counted on)

    def feed(self, block: np.ndarray) -> None:
        self.position += len(block) / self.samplerate
        try:
            level, onset = self.analyzer.process(block)
        except Exception:
            self.counters.incr("audio_errors")
            return
        now = self.clock()
        if self._last_level is None or abs(level - self._last_level) >= self.level_epsilon:
            self._last_level = level
            self.events.put(ControlEvent("/audio/level", (level,), self.source, now))
        if onset:
            self.events.put(ControlEvent("/audio/onset", (1.0,), self.source, now))
        try:
            extra = self.features.process(block, now)
        except Exception:
            self.counters.incr("audio_errors")
            return
        for address, value in extra.items():
            self.events.put(ControlEvent(address, (value,), self.source, now))

    def _loop_file(self, samples: np.ndarray) -> None:
        """Feed the file block by block at its own pace, from the start again at its end."""
        n, i = self.blocksize, 0
        next_t = time.monotonic()
        while not self._stop.is_set():
            block = samples[i : i + n]
            if block.size < n:
                block = np.concatenate([block, samples[: n - block.size]])
            self.feed(block)
            i = (i + n) % samples.size
            next_t += n / self.samplerate
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def start(self) -> AudioInput:
        if self.file is not None:  # a file looped as the input: rehearsals and machines without a sound card
            from ..audio.decode import load

            samples = load(self.file, self.samplerate)
            self._thread = threading.Thread(target=self._loop_file, args=(samples,), name="audio-file", daemon=True)
            self._thread.start()
            return self
        try:
            import sounddevice as sd
        except (ImportError, OSError) as exc:
            raise RuntimeError(
                f"audio input needs sounddevice and PortAudio: pip install 'installation[audio]' ({exc})"
            ) from None

        def callback(indata, frames, t, status):
            if status:
                self.counters.incr("audio_overflows")
            self.feed(indata.copy())

        self._stream = stream = sd.InputStream(
            device=self.device, channels=1, samplerate=self.samplerate, blocksize=self.blocksize, callback=callback
        )
        stream.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
