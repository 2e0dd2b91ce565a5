"""What the training generator yields: small records, each with a JSON form for ``--json``.

``to_dict()`` writes a record as one JSON object; :func:`parse_event` (or
:meth:`TrainEvent.from_dict`) reads it back, so whoever follows ``train --json`` (the GUI, a
script) gets the same typed records the generator yielded. :class:`TrainingSummary` is how a
training child ended as its parent saw it: the ``done`` event's fields and the process's
exit. Free of torch: the GUI imports it.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

__all__ = [
    "BatchEvent",
    "CheckpointEvent",
    "DoneEvent",
    "EpochEvent",
    "EventError",
    "PrepareEvent",
    "StartEvent",
    "TrainEvent",
    "TrainingSummary",
    "event_types",
    "parse_event",
]

E = TypeVar("E", bound="TrainEvent")


class EventError(ValueError):
    """A JSON object that claims to be an event but cannot be read as one."""


def _plain(value: Any) -> Any:
    # JSON has no NaN/inf: a diverged loss is reported as null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class TrainEvent:
    """Base of the event records; ``to_dict()`` gives ``{"event": kind, ...fields}``."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        return {"event": self.kind, **data}

    @classmethod
    def from_dict(cls: type[E], data: Mapping[str, Any]) -> E:
        """The record ``to_dict()`` wrote. Keys it does not know are ignored (a newer engine may
        send more), missing optional ones take their defaults, null reads as NaN where a float
        is due (``to_dict`` writes NaN as null). Raises :class:`EventError` when the kind is
        another's, a required key is missing or a value has the wrong type."""
        kind = data.get("event")
        if kind != cls.kind:
            raise EventError(f"not a {cls.kind!r} event: event is {kind!r}")
        values: dict[str, Any] = {}
        for f, expected in _field_types(cls):
            if f.name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise EventError(f"{cls.kind!r} event without {f.name!r}")
                continue
            values[f.name] = _checked(cls.kind, f.name, data[f.name], expected)
        return cls(**values)


@dataclass(frozen=True)
class PrepareEvent(TrainEvent):
    """Features are being computed: ``done`` of ``total`` recordings (``name`` is next)."""

    kind: ClassVar[str] = "prepare"
    done: int
    total: int
    name: str


@dataclass(frozen=True)
class StartEvent(TrainEvent):
    """Training is about to start (or resume at ``iteration``)."""

    kind: ClassVar[str] = "start"
    run: int
    device: str
    batches_per_epoch: int
    epochs: int
    config: dict[str, Any]
    resumed: bool = False
    epoch: int = 0
    iteration: int = 0
    amp: str | None = None
    world_size: int = 1
    train_recordings: int = 0
    val_recordings: int = 0
    # Recordings left out because their audio could not be read: one line each, what is
    # wrong and what to do.
    left_out: list[str] = field(default_factory=list)
    parameters: int = 0
    # With no val split: the share of each training recording's end that validates instead
    # (0: the val split does).
    val_within: float = 0.0


@dataclass(frozen=True)
class BatchEvent(TrainEvent):
    """One optimiser step: ``iteration`` counts from 0 over the whole run; epochs from 1."""

    kind: ClassVar[str] = "batch"
    epoch: int
    iteration: int
    tf_prob: float
    loss: float
    batch: int = 0
    batches_per_epoch: int = 0


@dataclass(frozen=True)
class EpochEvent(TrainEvent):
    """End of an epoch with its validation scores (segment-based, 1 s, threshold from config);
    a single-label run adds its frame accuracy and macro F1 (None in a multi-label run)."""

    kind: ClassVar[str] = "epoch"
    epoch: int
    train_loss: float
    val_loss: float
    f1: float
    er: float
    tf_prob: float
    iteration: int = 0
    seconds: float = 0.0
    best: bool = False
    best_epoch: int = 0
    lr: float = 0.0
    accuracy: float | None = None
    macro_f1: float | None = None


@dataclass(frozen=True)
class CheckpointEvent(TrainEvent):
    """A checkpoint was written (``best``: the best so far on validation loss)."""

    kind: ClassVar[str] = "checkpoint"
    path: str
    best: bool
    epoch: int = 0
    iteration: int = 0


@dataclass(frozen=True)
class DoneEvent(TrainEvent):
    """The run ended: status done, stopped or failed, with a readable message."""

    kind: ClassVar[str] = "done"
    run: int
    status: str
    best_checkpoint: str | None
    message: str = ""
    last_checkpoint: str | None = None
    epoch: int = 0
    iteration: int = 0
    best_epoch: int = 0


# The done event's fields that a summary carries over (``run``, ``status`` and ``message`` are
# the summary's own: the store or the process may overrule the child's word).
_CARRIED_FROM_DONE = ("best_checkpoint", "last_checkpoint", "epoch", "iteration", "best_epoch")


@dataclass(frozen=True)
class TrainingSummary(TrainEvent):
    """How a training child ended, decided by whoever started it (the GUI's training job):
    status done, stopped or failed and why, the run (None when none was made or found), the
    child's ``done`` event's checkpoints and progress, and how the process exited.

    No line of ``train --json`` (the child never writes it, so :func:`parse_event` does not
    know it); its JSON form is ``{"event": "finished", ...}`` with the ``done`` event's keys
    followed by ``exit_code``, ``crashed``, ``forced`` and ``elapsed_s``.
    """

    kind: ClassVar[str] = "finished"
    run: int | None
    status: str
    best_checkpoint: str | None = None
    message: str = ""
    last_checkpoint: str | None = None
    epoch: int = 0
    iteration: int = 0
    best_epoch: int = 0
    exit_code: int | None = None  # None when the child crashed (a signal) or never started
    crashed: bool = False
    forced: bool = False  # killed: it did not stop in time, or stop was pressed twice
    elapsed_s: float = 0.0

    @classmethod
    def after(cls, done: DoneEvent | None, **fields: Any) -> TrainingSummary:
        """The summary of a child whose ``done`` event (None when it sent none) gave the
        checkpoints and progress; ``fields`` give the rest and win over it."""
        carried = {} if done is None else {k: getattr(done, k) for k in _CARRIED_FROM_DONE}
        return cls(**{**carried, **fields})


def event_types() -> dict[str, type[TrainEvent]]:
    """Every event record by its kind (``"batch"`` → :class:`BatchEvent` …)."""
    return {cls.kind: cls for cls in _EVENT_TYPES}


_EVENT_TYPES: tuple[type[TrainEvent], ...] = (
    PrepareEvent,
    StartEvent,
    BatchEvent,
    EpochEvent,
    CheckpointEvent,
    DoneEvent,
)


def parse_event(data: Mapping[str, Any]) -> TrainEvent | None:
    """The typed record of a decoded JSON line, or None when it is no event this tfstudio
    knows (another kind, from a newer engine) or cannot be read as one (see ``from_dict``)."""
    cls = event_types().get(data.get("event"))  # type: ignore[arg-type]
    if cls is None:
        return None
    try:
        return cls.from_dict(data)
    except EventError:
        return None


_FIELD_TYPES: dict[type, tuple[tuple[dataclasses.Field, Any], ...]] = {}


def _field_types(cls: type) -> tuple[tuple[dataclasses.Field, Any], ...]:
    """Each field with its resolved type (annotations are strings here); computed once."""
    if cls not in _FIELD_TYPES:
        hints = typing.get_type_hints(cls)
        _FIELD_TYPES[cls] = tuple((f, hints[f.name]) for f in dataclasses.fields(cls))
    return _FIELD_TYPES[cls]


def _checked(kind: str, name: str, value: Any, expected: Any) -> Any:
    """``value`` as the field's type (int, float, str, bool, dict, a list of one of them, or
    one of them or None)."""
    options = typing.get_args(expected) if typing.get_origin(expected) is not None else ()
    if type(None) in options:
        if value is None:
            return None
        expected = next(t for t in options if t is not type(None))
    base = typing.get_origin(expected) or expected
    if base is float:
        if value is None:
            return math.nan  # to_dict writes a NaN or inf as null
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif base is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif base is bool:
        if isinstance(value, bool):
            return value
    elif (base is str or base is dict) and isinstance(value, base):
        return value
    elif base is list and isinstance(value, list):
        (item,) = typing.get_args(expected) or (Any,)
        if item is Any or all(isinstance(x, item) for x in value):
            return list(value)
    raise EventError(
        f"{kind!r} event: {name!r} is {value!r}, not {getattr(base, '__name__', base)}"
    )
