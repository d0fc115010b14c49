"""Show files: schema, loading with file:line errors, timeline, schedules, playhead (hot reload)."""

from .loader import ShowError, load_show, parse_show
from .playhead import Playhead
from .schedule import OpeningHours
from .schema import Show
from .timeline import LayerState, Timeline

__all__ = ["ShowError", "load_show", "parse_show", "Playhead", "OpeningHours", "Show", "LayerState", "Timeline"]
