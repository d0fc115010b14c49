"""Write the example show's soundtrack: python3 scripts/make_track.py [OUT.wav] (default shows/audio/track.wav)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from installation.audio.decode import write_wav  # noqa: E402
from installation.audio.synth import make_track  # noqa: E402

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "shows" / "audio" / "track.wav"
out.parent.mkdir(parents=True, exist_ok=True)
write_wav(out, make_track(22050), 22050)
print(f"wrote {out}")
