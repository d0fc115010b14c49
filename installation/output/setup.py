"""Which outputs a run has, and opening and closing them.

A show's ``[[outputs]]`` lists them (``type = "window"``, ``"record"``, ``"headless"`` or a
plugin's type); without the list a run has one window.  ``--headless`` drops the windows,
``--record FILE`` adds a recording.  A run draws with the GL context of exactly one output: its
window, or — when no window remains — a headless (EGL) output added for it.  Every error while
building or opening an output names the output.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..render.context import NoDisplayError
from .base import Canvas, OptionError, OutputError

log = logging.getLogger(__name__)


@dataclass
class OutputSlot:
    """One output of a run: ``label`` names it in messages (``[[outputs]] #2 (record)``, ``--record``)."""

    label: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    loc: tuple | None = None  # where the entry is in the show file, for OptionError
    sources: Any = None  # the show's problems.Sources (None: not from a file)


def select_outputs(
    show, headless: bool = False, record: Path | None = None, crf: int = 18, fullscreen: bool = False, display: int = 0
) -> list[OutputSlot]:
    """The run's outputs, in the order frames are handed to them (not yet built)."""
    sources = getattr(show, "_sources", None)
    slots = [
        OutputSlot(
            f"[[outputs]] #{i + 1} ({entry.type})",
            entry.type,
            entry.typed_options(),
            loc=("outputs", i),
            sources=sources,
        )
        for i, entry in enumerate(show.outputs)
    ]
    if headless:
        slots = [s for s in slots if s.type != "window"]
    elif not show.outputs:
        slots.append(OutputSlot("window", "window", {"display": display, "fullscreen": fullscreen}))
    if fullscreen:
        for s in slots:
            if s.type == "window":
                s.options["fullscreen"] = True
    if record is not None:
        slots.append(OutputSlot(f"--record {record}", "record", {"path": str(Path(record).resolve()), "crf": crf}))
    return slots


def build_outputs(slots: list[OutputSlot], factories: dict) -> list[OutputSlot]:
    """Instantiate each slot from the registered output factories; adds headless when no output
    gives a GL context; refuses two (pygame opens one GL window per process)."""
    for slot in slots:
        factory = factories.get(slot.type)
        if factory is None:
            raise OutputError(
                f"{slot.label}: unknown output type {slot.type!r}; available: {', '.join(sorted(factories))}"
            )
        try:
            slot.output = factory(**slot.options)
        except OptionError as exc:  # a field of the entry: file:line: outputs[N].field: message
            if slot.sources is None or slot.loc is None:
                raise OutputError(f"{slot.label}: {exc}") from None
            from ..problems import ProblemError

            raise ProblemError(
                slot.sources.main, slot.sources.problem(slot.loc + exc.field, exc.message, exc.hint)
            ) from None
        except (TypeError, ValueError) as exc:
            raise OutputError(f"{slot.label}: {exc}") from None
        missing = [m for m in ("open", "write", "close") if not callable(getattr(slot.output, m, None))]
        if missing:
            raise OutputError(
                f"{slot.label}: the {slot.type!r} plugin's output has no {', '.join(missing)} method "
                f"(see installation.protocols.Output)"
            )
    providers = [s for s in slots if getattr(s.output, "provides_context", False)]
    if not providers:
        slot = OutputSlot("headless", "headless")
        slot.output = factories["headless"]()
        slots.insert(0, slot)
    elif len(providers) > 1:
        windows = [s for s in providers if s.type == "window"]
        what = (
            f"{len(windows)} window outputs"
            if len(windows) == len(providers)
            else f"{len(providers)} outputs that each open a GL context ({', '.join(s.label for s in providers)})"
        )
        raise NoDisplayError(
            f"the show lists {what}, but one process draws with one GL context (pygame opens one window per "
            f"process): start one `installation run` per window — a show file per projector, or one calibration "
            f"profile with `installation run SHOW --output N` per display"
        )
    return slots


def open_outputs(slots: list[OutputSlot], canvas: Canvas):
    """Open the outputs (the one giving the GL context first) and return that context.

    On failure the outputs already open are closed and the error names the one that failed.
    """
    order = sorted(slots, key=lambda s: not getattr(s.output, "provides_context", False))
    opened: list[OutputSlot] = []
    try:
        for slot in order:
            try:
                slot.output.open(canvas)
            except NoDisplayError as exc:
                raise NoDisplayError(f"{slot.label} output: {exc}") from None
            except OutputError as exc:
                raise OutputError(f"{slot.label} output: {exc}") from None
            except Exception as exc:
                raise OutputError(f"{slot.label} output cannot open: {type(exc).__name__}: {exc}") from exc
            opened.append(slot)
    except BaseException:
        close_outputs(opened)
        raise
    return next(s.output.context for s in slots if getattr(s.output, "provides_context", False))


def close_outputs(slots: list[OutputSlot]) -> None:
    """Close every output (each once, errors logged): files are finalised even after a failure."""
    for slot in slots:
        if slot.output is None:
            continue
        try:
            slot.output.close()
        except Exception:
            log.exception("%s output failed to close", slot.label)
