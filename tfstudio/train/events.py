"""What the training generator yields: small records, each with a JSON form for ``--json``."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "BatchEvent",
    "CheckpointEvent",
    "DoneEvent",
    "EpochEvent",
    "PrepareEvent",
    "StartEvent",
    "TrainEvent",
]


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
    parameters: int = 0


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
    """End of an epoch with its validation scores (segment-based, 1 s, threshold from config)."""

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
