"""Rows of the project store as plain dataclasses: what crosses the store's boundary."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple, Self


class _Row:
    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        # dataclasses.fields() is slow enough to dominate loading 10 000 events: cache per class.
        names = cls.__dict__.get("_field_names")
        if names is None:
            names = frozenset(f.name for f in fields(cls))  # type: ignore[arg-type]
            cls._field_names = names  # type: ignore[attr-defined]
        return cls(**{k: v for k, v in row.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Recording(_Row):
    id: int
    path: str
    name: str
    stem: str
    size: int
    mtime: float
    content_hash: str
    sample_rate: int
    channels: int
    frames: int
    duration: float
    split: str | None
    status: str
    added_at: float
    # When it started on the recorder's clock, ISO 8601, and where that was read
    # (tfstudio.store.recorded); None where nothing said.
    recorded_at: str | None = None
    recorded_at_source: str | None = None


def recording_names(recordings: Iterable[Recording]) -> dict[int, str]:
    """Each recording's name as a label file's file-name column writes it (and as messages
    name it): its file name, or, where several recordings share that name (the same file name
    in different folders), its path as the project stores it, which reads back to the same
    recording."""
    recordings = list(recordings)
    count = Counter(rec.name for rec in recordings)
    return {rec.id: rec.name if count[rec.name] == 1 else rec.path for rec in recordings}


def shown_names(recordings: Iterable[Recording]) -> dict[int, str]:
    """How the app and commands show each recording: its file name, or, where several
    recordings share that name (AudioMoth's ``20240501_050000.WAV`` in each site's folder),
    the shortest end of its path that no other of them has (``site1/20240501_050000.WAV``),
    which a command's ``--recording`` also finds it by."""
    groups: dict[str, list[Recording]] = {}
    for rec in recordings:
        groups.setdefault(rec.name, []).append(rec)
    shown: dict[int, str] = {}
    for name, group in groups.items():
        if len(group) == 1:
            shown[group[0].id] = name
            continue
        parts = {rec.id: rec.path.replace("\\", "/").split("/") for rec in group}
        left = list(group)
        for length in range(2, max(map(len, parts.values())) + 1):
            tails = Counter(tuple(parts[rec.id][-length:]) for rec in group)
            still = []
            for rec in left:
                tail = parts[rec.id][-length:]
                if tails[tuple(tail)] == 1:
                    shown[rec.id] = "/".join(tail)
                else:
                    still.append(rec)
            left = still
            if not left:
                break
        for rec in left:  # no end of its path is its own (cannot be: paths differ)
            shown[rec.id] = rec.path
    return shown


class LabelTotals(NamedTuple):
    """A recording's labels in all and how many classes they are of."""

    labels: int
    classes: int


class OtherAudio(NamedTuple):
    """``detections``: how many unreviewed detections of run ``run_id`` on recording
    ``recording_id`` were made from other audio than its file holds now."""

    recording_id: int
    run_id: int
    detections: int


@dataclass(frozen=True)
class EventClass(_Row):
    id: int
    name: str
    color: str
    hotkey: str | None
    position: int


@dataclass(frozen=True)
class Event(_Row):
    id: int
    recording_id: int
    class_id: int
    onset: float
    offset: float
    low_hz: float | None
    high_hz: float | None
    source: str
    confidence: float | None
    run_id: int | None
    review: str
    created_at: float
    updated_at: float
    tier: str | None = None  # the TextGrid tier an imported label came from

    @property
    def duration(self) -> float:
        return self.offset - self.onset


@dataclass(frozen=True)
class Run(_Row):
    id: int
    name: str
    config: str
    status: str
    message: str
    device: str
    pid: int | None
    best_checkpoint: str | None
    last_checkpoint: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    host: str | None = None  # the machine the run's process runs on
    pid_started: float | None = None  # that process's start time: a pid alone may be reused

    @property
    def config_dict(self) -> dict[str, Any]:
        return json.loads(self.config or "{}")

    @property
    def imported(self) -> bool:
        """Detections another tool made (a BirdNET file…), imported as a run: nothing was
        trained, there are no curves or checkpoints, but they can be reviewed."""
        return '"imported"' in self.config and "imported" in self.config_dict
