"""A run's detections as the review sees them: its posteriors, post-processing and thresholds.

``detect`` saves each recording's posteriors (float32 frames × classes). With them a new
threshold is just post-processing: :func:`detect_from_posteriors` redraws a recording's
detections in about a millisecond, so a slider can preview live; the result then replaces the
recording's unreviewed detections in the store (reviewed ones are kept, and a new detection
that repeats a reviewed one is dropped by :func:`drop_repeats`, so a decision is never asked
for twice). Thresholds live in the run's configuration in the project
(:func:`with_thresholds`), where ``tfstudio detect`` and ``evaluate`` read them.

Nothing here imports torch: the run's classes and frame hop come from its configuration or,
failing that, from the checkpoint's pickled metadata read without torch.
"""

from __future__ import annotations

import collections
import pickle
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tfstudio.store import Event, EventClass, Project, Recording, Run
from tfstudio.train.layout import (
    decisions_file,
    posteriors_file,
    posteriors_stamp,
    saved_posteriors_current,
)
from tfstudio.train.postprocess import posteriors_to_event_arrays, repeats, winner_posteriors

# Where a run's stored configuration keeps the thresholds training left, once the review's
# sliders have changed ``threshold`` / ``class_thresholds`` there.
TRAINED_KEY = "trained_postprocess"


class _Stub:
    """Stands for every torch object in a checkpoint's pickle: we only want plain values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


class _MetadataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        return _Stub  # never executes code from the file: tensors become stubs

    def persistent_load(self, pid: Any) -> None:
        return None  # tensor storages live in other zip members; not read


def checkpoint_metadata(path: Path) -> dict[str, Any]:
    """The plain values of a ``torch.save`` checkpoint (classes, configs...) without torch."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        with archive.open(name) as f:
            state = _MetadataUnpickler(f).load()
    return state if isinstance(state, dict) else {}


@dataclass(frozen=True)
class RunInfo:
    """What turns a run's posteriors into events: column classes, frame hop, post-processing."""

    run_id: int
    classes: tuple[str, ...]
    hop_s: float
    threshold: float = 0.5
    median_filter_frames: int = 1
    min_event_s: float = 0.0
    min_gap_s: float = 0.0
    # Per-class values (by class name): tuned on the val split at the end of training, or
    # as the review's sliders last set them.
    class_thresholds: dict[str, float] = field(default_factory=dict)
    class_median_filter_frames: dict[str, int] = field(default_factory=dict)
    hysteresis: float = 1.0
    class_hysteresis: dict[str, float] = field(default_factory=dict)
    # What training left, before any slider moved: Reset goes back to these.
    trained_threshold: float = 0.5
    trained_class_thresholds: dict[str, float] = field(default_factory=dict)

    def thresholds_by_class_id(
        self, classes: Iterable[EventClass], *, trained: bool = False
    ) -> dict[int, float]:
        """The per-class thresholds as stored (``trained``: as training left them), by the id
        of the project's class of that name; classes the project no longer has are left out."""
        by_name = {c.name: c.id for c in classes}
        stored = self.trained_class_thresholds if trained else self.class_thresholds
        return {by_name[name]: value for name, value in stored.items() if name in by_name}

    def median_filters(self) -> list[int]:
        """The median filter of each posterior column, as ``detect`` uses them."""
        return [
            int(self.class_median_filter_frames.get(c, self.median_filter_frames))
            for c in self.classes
        ]

    def hysteresis_ratios(self) -> list[float]:
        """The hysteresis of each posterior column (a share of its threshold), as ``detect``
        uses them."""
        return [float(self.class_hysteresis.get(c, self.hysteresis)) for c in self.classes]

    @classmethod
    def from_run(cls, project: Project, run: Run) -> RunInfo | None:
        """From the run's configuration (and checkpoint for the class order); None if unusable."""
        config = run.config_dict
        features = config.get("features") or {}
        classes = config.get("classes")
        meta: dict[str, Any] = {}
        if not classes or not features:
            meta = _checkpoint_metadata(project, run)
            classes = classes or meta.get("classes")
            features = features or meta.get("feature_config") or {}
            config = {**(meta.get("train_config") or {}), **config}
        if not classes:
            # Last resort: a run trains on every class the project had, in palette order.
            classes = [c.name for c in project.classes()]
        try:
            hop_s = float(features["hop_length"]) / float(features["sample_rate"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None
        median = int(config.get("median_filter_frames") or 1)
        trained = config.get(TRAINED_KEY)
        if not isinstance(trained, dict):
            trained = {}
        threshold = _number(config.get("threshold"), 0.5)
        class_thresholds = _number_map(config.get("class_thresholds"), float)
        return cls(
            run_id=run.id,
            classes=tuple(str(c) for c in classes),
            hop_s=hop_s,
            threshold=threshold,
            median_filter_frames=median if median % 2 else median + 1,
            min_event_s=float(config.get("min_event_s") or 0.0),
            min_gap_s=float(config.get("min_gap_s") or 0.0),
            class_thresholds=class_thresholds,
            trained_threshold=_number(trained.get("threshold"), threshold),
            trained_class_thresholds=_number_map(trained.get("class_thresholds"), float)
            if "class_thresholds" in trained
            else dict(class_thresholds),
            class_median_filter_frames={
                k: v
                for k, v in _number_map(config.get("class_median_filter_frames"), int).items()
                if v >= 1 and v % 2 == 1
            },
            hysteresis=_ratio(config.get("hysteresis")),
            class_hysteresis={
                k: v
                for k, v in _number_map(config.get("class_hysteresis"), float).items()
                if 0 < v <= 1
            },
        )


def _ratio(value: Any) -> float:
    """A stored hysteresis (a share of the threshold, in (0, 1]); 1 (none) if unusable."""
    number = _number(value, 1.0)
    return number if number > 0 else 1.0


def _number(value: Any, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if 0 <= number <= 1 else default


def _number_map(value: Any, kind: type) -> dict[str, Any]:
    """A stored {class name: number} mapping, tolerant of older or hand-edited configs."""
    if not isinstance(value, dict):
        return {}
    out = {}
    for key, number in value.items():
        try:
            out[str(key)] = kind(number)
        except (TypeError, ValueError):
            continue
    return out


def _checkpoint_metadata(project: Project, run: Run) -> dict[str, Any]:
    for stored in (run.best_checkpoint, run.last_checkpoint):
        if not stored:
            continue
        path = Path(stored) if Path(stored).is_absolute() else project.root / stored
        try:
            return checkpoint_metadata(path)
        except (OSError, KeyError, StopIteration, zipfile.BadZipFile, pickle.UnpicklingError):
            continue
    return {}


@dataclass(frozen=True)
class DetectionArrays:
    """Detections as parallel arrays: seconds, class ids, mean posterior, review state, id.

    ``ids`` is -1 and ``state`` 0 for a preview that is not in the store yet; state codes are
    0 pending, 1 accepted, 2 rejected.
    """

    onsets: np.ndarray
    offsets: np.ndarray
    class_ids: np.ndarray
    confidences: np.ndarray
    states: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.onsets)

    @classmethod
    def empty(cls) -> DetectionArrays:
        z = np.zeros(0)
        i = np.zeros(0, dtype=np.int64)
        return cls(z, z, i, z, i, i)

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> DetectionArrays:
        events = list(events)
        codes = {"none": 0, "accepted": 1, "rejected": 2}
        return cls(
            np.array([e.onset for e in events], dtype=np.float64),
            np.array([e.offset for e in events], dtype=np.float64),
            np.array([e.class_id for e in events], dtype=np.int64),
            np.array([e.confidence or 0.0 for e in events], dtype=np.float64),
            np.array([codes.get(e.review, 0) for e in events], dtype=np.int64),
            np.array([e.id for e in events], dtype=np.int64),
        )

    def concat(self, other: DetectionArrays) -> DetectionArrays:
        return DetectionArrays(
            *(np.concatenate((a, b)) for a, b in zip(self._columns(), other._columns()))
        )

    def select(self, mask: np.ndarray) -> DetectionArrays:
        """The detections where ``mask`` is true."""
        return DetectionArrays(*(column[mask] for column in self._columns()))

    def rows(self) -> list[dict[str, Any]]:
        """As rows for ``Project.replace_detections``."""
        return [
            {
                "class_id": int(c),
                "onset": float(on),
                "offset": float(off),
                "confidence": float(conf),
            }
            for on, off, c, conf in zip(
                self.onsets.tolist(),
                self.offsets.tolist(),
                self.class_ids.tolist(),
                self.confidences.tolist(),
            )
        ]

    def _columns(self) -> tuple[np.ndarray, ...]:
        return (self.onsets, self.offsets, self.class_ids, self.confidences, self.states, self.ids)


def detect_from_posteriors(
    posteriors: np.ndarray,
    info: RunInfo,
    class_ids: list[int | None],
    thresholds: np.ndarray,
    duration: float,
) -> DetectionArrays:
    """Post-process posteriors with per-column thresholds, as ``detect`` does.

    ``class_ids`` maps each column to a project class id (None: the class is gone; dropped).
    """
    arrays = posteriors_to_event_arrays(
        posteriors,
        info.hop_s,
        threshold=thresholds.tolist(),
        median_filter_frames=info.median_filters(),
        min_event_s=info.min_event_s,
        min_gap_s=info.min_gap_s,
        hysteresis=info.hysteresis_ratios(),
    )
    lookup = np.array([-1 if c is None else c for c in class_ids], dtype=np.int64)
    cls = lookup[arrays.class_index] if len(arrays.class_index) else np.zeros(0, dtype=np.int64)
    keep = cls >= 0
    onsets = arrays.start[keep] * info.hop_s
    offsets = np.minimum(arrays.stop[keep] * info.hop_s, duration)
    n = int(keep.sum())
    return DetectionArrays(
        onsets,
        offsets,
        cls[keep],
        arrays.confidence[keep],
        np.zeros(n, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
    )


def drop_repeats(new: DetectionArrays, reviewed: list[Event]) -> DetectionArrays:
    """Leave out new detections that repeat a reviewed one (the core's rule, as ``detect``)."""
    if not len(new) or not reviewed:
        return new
    keep = ~repeats(
        new.onsets, new.offsets, new.class_ids, [(e.onset, e.offset, e.class_id) for e in reviewed]
    )
    return new.select(keep)


def drawn_detections(stored: DetectionArrays, preview: DetectionArrays | None) -> DetectionArrays:
    """What a recording shows of a run: its stored detections, or, while a threshold moves,
    the preview in place of the pending ones (rejected ones stay: a "no" is kept whatever the
    threshold)."""
    if preview is None:
        return stored
    return preview.concat(stored.select(stored.states == 2))


# A single-label run's decisions are spread into (frames, classes) posteriors for the review's
# preview and posteriorgram only up to this many classes (beyond, the stored detections show).
MAX_DECISION_CLASSES = 1000


def load_posteriors(project: Project, info: RunInfo, recording: Recording) -> np.ndarray | None:
    """The posteriors ``detect`` saved for a recording, or None when there are none (or they
    have another layout than the run's classes: the class list was guessed wrongly). For a
    single-label run, the posteriors its per-frame decisions stand for (each frame's winning
    class with its probability), so thresholds preview the same way.

    Posteriors made another way than ``detect`` makes them now (an older version's window
    stitching, another class order: :func:`saved_posteriors_are_stale`) are None too, so the
    sliders never redraw detections that ``tfstudio detect`` at the same thresholds would not
    store."""
    return next((post for _, post in saved_posteriors(project, info, [recording])), None)


def saved_posteriors(
    project: Project, info: RunInfo, recordings: Iterable[Recording]
) -> Iterator[tuple[Recording, np.ndarray]]:
    """Each of ``recordings`` that has posteriors :func:`load_posteriors` would give, with
    them; the run's stamp is read once for all of them."""
    if not saved_posteriors_current(project, info.run_id, info.classes):
        return
    for recording in recordings:
        post = _read_posteriors(project, info, recording)
        if post is not None:
            yield recording, post


def _read_posteriors(project: Project, info: RunInfo, recording: Recording) -> np.ndarray | None:
    path = posteriors_file(project, info.run_id, recording)
    try:
        post = np.load(path)
    except (OSError, ValueError):
        return _decided_posteriors(project, info, recording)
    if post.ndim != 2 or post.shape[1] != len(info.classes):
        return None
    return np.ascontiguousarray(post, dtype=np.float32)


def saved_posteriors_are_stale(project: Project, info: RunInfo) -> bool:
    """True when the run has saved posteriors that :func:`load_posteriors` will not read
    (made by an earlier version, or for other classes): detecting again makes them anew."""
    return posteriors_stamp(project, info.run_id).exists() and not saved_posteriors_current(
        project, info.run_id, info.classes
    )


def _decided_posteriors(project: Project, info: RunInfo, recording: Recording) -> np.ndarray | None:
    if not 0 < len(info.classes) <= MAX_DECISION_CLASSES:
        return None
    try:
        decisions = np.load(decisions_file(project, info.run_id, recording))
        return winner_posteriors(decisions, len(info.classes))
    except (OSError, ValueError):
        return None


def with_thresholds(
    config: dict[str, Any],
    info: RunInfo,
    threshold: float,
    class_thresholds: dict[str, float],
) -> dict[str, Any]:
    """A run's stored configuration with new review thresholds (per class by name), where
    ``tfstudio detect`` and ``evaluate`` read them; what training left is kept aside under
    ``TRAINED_KEY`` (once) so a reset can return to it."""
    config = dict(config)
    config.setdefault(
        TRAINED_KEY,
        {
            "threshold": info.trained_threshold,
            "class_thresholds": dict(info.trained_class_thresholds),
        },
    )
    config["threshold"] = threshold
    config["class_thresholds"] = dict(class_thresholds)
    return config
