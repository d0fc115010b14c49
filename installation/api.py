"""The public surface a plugin may import, and nothing else of ``installation``.

A plugin (anything under plugins/, an installed package, a ``--plugins-dir`` file) writes
``from installation.api import hookimpl, Generator, load_weights, ...``; every other module of
``installation`` is internal and may change between releases.  ``tests/test_plugin_api.py`` fails
when a plugin in plugins/ imports anything else, and ``tests/test_docs.py`` when a name here is
missing from docs/plugins.md.

Names are resolved on first use (PEP 562): ``from installation.api import hookimpl`` in a
plugin's ``__init__`` costs no torch import, so listing plugins never loads a model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import hookimpl

#: public name → the internal module that implements it
_EXPORTS: dict[str, str] = {
    # the nouns a plugin implements, and the boundary checks the runtime applies to them
    "Generator": "installation.protocols",
    "PostProcessor": "installation.protocols",
    "Walk": "installation.protocols",
    "Input": "installation.protocols",
    "Output": "installation.protocols",
    "TrainTask": "installation.train.loop",
    "check_frames": "installation.protocols",
    "check_contribution": "installation.protocols",
    # what an input source puts on the queue its factory is given
    "ControlEvent": "installation.control.events",
    # errors a plugin raises (or sees)
    "CheckpointError": "installation.weights",
    "LatentSizeError": "installation.weights",
    "ContractError": "installation.protocols",
    "OutputError": "installation.output.base",
    "OptionError": "installation.output.base",
    # weights: safetensors + one metadata shape, content-based format detection, safe torch reading
    "WeightsMeta": "installation.weights",
    "save_weights": "installation.weights",
    "load_weights": "installation.weights",
    "read_meta": "installation.weights",
    "load_into": "installation.weights",
    "state_mismatch": "installation.weights",
    "detect_format": "installation.weights",
    "read_torch_checkpoint": "installation.weights",
    # images and frames for data sets, sample grids and training
    "list_images": "installation.train.data",
    "load_image": "installation.train.data",
    "write_image": "installation.train.data",
    "save_grid": "installation.train.data",
    "psnr": "installation.train.metrics",
    # inference paths: values derived from weights, rebuilt when a weight changes
    "cached": "installation.derived",
    # a walk a plugin may extend
    "SeedSlerp": "installation.walks.slerp",
    # other plugins' contributions (a data set maker that mixes in another plugin's images)
    "make_plugin_manager": "installation.plugins",
}

__all__ = ["hookimpl", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from .control.events import ControlEvent
    from .derived import cached
    from .output.base import OptionError, OutputError
    from .plugins import make_plugin_manager
    from .protocols import (
        ContractError,
        Generator,
        Input,
        Output,
        PostProcessor,
        Walk,
        check_contribution,
        check_frames,
    )
    from .train.data import list_images, load_image, save_grid, write_image
    from .train.loop import TrainTask
    from .train.metrics import psnr
    from .walks.slerp import SeedSlerp
    from .weights import (
        CheckpointError,
        LatentSizeError,
        WeightsMeta,
        detect_format,
        load_into,
        load_weights,
        read_meta,
        read_torch_checkpoint,
        save_weights,
        state_mismatch,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"installation.api has no {name!r} (the plugin API is: {', '.join(__all__)})")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
