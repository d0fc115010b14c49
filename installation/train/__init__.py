"""One training loop and one progress display for every trainable plugin."""

from .data import ImageFolder, save_grid
from .loop import TrainConfig, TrainResult, TrainTask, run_training

__all__ = ["ImageFolder", "save_grid", "TrainConfig", "TrainResult", "TrainTask", "run_training"]
