"""Show files: schema, loading with file:line errors, timeline."""
from .loader import ShowError, load_show
from .schema import Show
from .timeline import LayerState, Timeline

__all__ = ["ShowError", "load_show", "Show", "LayerState", "Timeline"]
