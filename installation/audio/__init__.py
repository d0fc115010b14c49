"""Audio features of a sound file (or of live blocks) as functions of show time.

decode (file → mono float), features (level, bands, spectral-flux onsets, novelty sections),
beats (tempo and dynamic-programming beat tracking), hpss (harmonic/percussive split) and track
(all of them sampled at a show time, and the control events due between two show times).
Pure numpy: a render to a track is the same on every run.  Syntax: docs/audio.md.
"""
