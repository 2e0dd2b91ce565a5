"""Detections of the active run: its posteriors, thresholds, and a live preview while they move.

``detect`` saves each recording's posteriors (float32 frames × classes). With them a new
threshold is just post-processing: ``posteriors_to_event_arrays`` redraws a recording's
detections in about a millisecond, so the slider previews live; on release the result replaces
the recording's unreviewed detections in the store (reviewed ones are kept, and a new detection
that repeats a reviewed one is dropped, so a decision is never asked for twice).

Nothing here imports torch: the run's classes and frame hop come from its configuration or,
failing that, from the checkpoint's pickled metadata read without torch.
"""

from __future__ import annotations

import collections
import dataclasses
import pickle
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from tfstudio.qt.workspace import Workspace
from tfstudio.store import Event, Project, ProjectError, Recording, Run
from tfstudio.train.postprocess import posteriors_to_event_arrays, repeats

PREVIEW_MS = 16  # at most one redraw per frame while the slider moves
# Where a run's stored configuration keeps the thresholds training left, once the review's
# sliders have changed ``threshold`` / ``class_thresholds`` there.
TRAINED_KEY = "trained_postprocess"


def posteriors_path(project: Project, run_id: int, recording: Recording) -> Path:
    """Where ``detect`` saved a recording's posteriors.

    Mirrors ``tfstudio.train.detect.posteriors_file``, which cannot be imported here without
    loading torch into the GUI process.
    """
    return project.runs_dir / f"run-{run_id}" / "posteriors" / f"{recording.content_hash}.npy"


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
    # What training left, before any slider moved: Reset goes back to these.
    trained_threshold: float = 0.5
    trained_class_thresholds: dict[str, float] = field(default_factory=dict)

    def median_filters(self) -> list[int]:
        """The median filter of each posterior column, as ``detect`` uses them."""
        return [
            int(self.class_median_filter_frames.get(c, self.median_filter_frames))
            for c in self.classes
        ]

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
        )


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
    return DetectionArrays(*(column[keep] for column in new._columns()))


class DetectionModel(QObject):
    """Posteriors of the current recording for the active run, thresholds, the live preview.

    Views draw ``drawn()``: the preview while a threshold moves, else the stored detections.
    """

    runInfoChanged = Signal()  # the active run's classes/hop (or None)
    posteriorsChanged = Signal()  # posteriors of the current recording (or None)
    thresholdsChanged = Signal()
    drawnChanged = Signal()  # what the views should draw (preview or stored)
    visibilityChanged = Signal(bool)
    applied = Signal(int)  # recordings whose detections were rewritten by a threshold

    def __init__(self, workspace: Workspace, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.info: RunInfo | None = None
        self.posteriors: np.ndarray | None = None
        self.visible = True
        self.global_threshold = 0.5
        self.class_thresholds: dict[int, float] = {}
        self.last_redraw_s = 0.0  # seconds the latest preview took to compute
        # Whose posteriors ``posteriors`` are: (run, recording, file, mtime or None).
        self._posteriors_key: tuple[int, int, str, float | None] | None = None
        self._columns: list[int | None] = []  # project class id of each posterior column
        self._preview: DetectionArrays | None = None
        self._drawn: tuple[object, object, DetectionArrays] | None = None
        # Recordings rewritten in this session, with the thresholds they were written at.
        self._applied: dict[int, tuple[float, ...]] = {}
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_MS)
        self._preview_timer.timeout.connect(self._compute_preview)
        self._catch_up_timer = QTimer(self, singleShot=True, interval=0)
        self._catch_up_timer.timeout.connect(self._catch_up)
        workspace.runChanged.connect(self._on_run_change)
        workspace.classesChanged.connect(self._on_classes_change)
        workspace.currentRecordingChanged.connect(self._on_recording_change)
        workspace.detectionsChanged.connect(self._on_detections_change)
        self._on_run_change()

    # ------------------------------------------------------------------ reads
    def threshold_for(self, class_id: int) -> float:
        return self.class_thresholds.get(class_id, self.global_threshold)

    def column_thresholds(self) -> np.ndarray:
        return np.array(
            [self.global_threshold if c is None else self.threshold_for(c) for c in self._columns],
            dtype=np.float64,
        )

    def class_ids(self) -> list[int | None]:
        """Project class id of each posterior column (None where the class is gone)."""
        return list(self._columns)

    def previewing(self) -> bool:
        return self._preview is not None

    def drawn(self) -> DetectionArrays:
        """Detections to draw on the current recording: pending and rejected (accepted ones
        are labels and drawn as such)."""
        index, preview = self.workspace.detections, self._preview
        cached = self._drawn
        # Keyed on the objects themselves: the workspace replaces its index on every change.
        if cached is not None and cached[0] is index and cached[1] is preview:
            return cached[2]
        stored = DetectionArrays.from_events(index.order)
        if preview is None:
            result = stored
        else:
            rejected = stored.states == 2
            kept = DetectionArrays(*(column[rejected] for column in stored._columns()))
            result = preview.concat(kept)
        self._drawn = (index, preview, result)
        return result

    def pending_count(self) -> int:
        drawn = self.drawn()
        return int((drawn.states == 0).sum())

    def customized(self) -> bool:
        """True when the thresholds differ from those training left (tuned per class)."""
        default = self.info.trained_threshold if self.info else 0.5
        return (
            self.class_thresholds != self._run_class_thresholds(trained=True)
            or abs(self.global_threshold - default) > 1e-9
        )

    def _run_class_thresholds(self, *, trained: bool = False) -> dict[int, float]:
        """The run's per-class thresholds as stored (or as training left them), by class id."""
        if self.info is None:
            return {}
        by_name = {c.name: c.id for c in self.workspace.classes()}
        stored = self.info.trained_class_thresholds if trained else self.info.class_thresholds
        return {by_name[name]: value for name, value in stored.items() if name in by_name}

    def uncertainty(self, event: Event) -> float:
        """Distance of a detection's confidence from its class's threshold (0: a coin toss)."""
        return abs((event.confidence or 0.0) - self.threshold_for(event.class_id))

    # ----------------------------------------------------------------- writes
    def set_visible(self, visible: bool) -> None:
        if visible != self.visible:
            self.visible = visible
            self.visibilityChanged.emit(visible)

    def set_threshold(self, value: float, class_id: int | None = None, *, final: bool) -> None:
        """Move the global (``class_id`` None) or one class's threshold.

        While not ``final`` the current recording's detections are redrawn from its posteriors
        (throttled to one per frame); ``final`` writes them to the store.
        """
        value = float(min(max(value, 0.0), 1.0))
        if class_id is None:
            self.global_threshold = value
        else:
            self.class_thresholds[class_id] = value
        self.thresholdsChanged.emit()
        if final:
            self._preview_timer.stop()
            self._save_thresholds()
            self.apply()
        elif self._posteriors_are_current() and not self._preview_timer.isActive():
            self._preview_timer.start()

    def reset_class_threshold(self, class_id: int | None = None) -> None:
        """Give one class (or, with None, every class) the run's own threshold again: its
        tuned one, or else the global threshold."""
        tuned = self._run_class_thresholds(trained=True)
        if class_id is None:
            self.class_thresholds = dict(tuned)
        elif class_id in tuned:
            self.class_thresholds[class_id] = tuned[class_id]
        else:
            self.class_thresholds.pop(class_id, None)
        self.thresholdsChanged.emit()
        self._save_thresholds()
        self.apply()

    def apply(self, recording_ids: Iterable[int] | None = None) -> int:
        """Rewrite the unreviewed detections of recordings (default: the current one) at the
        current thresholds, from their saved posteriors. Returns how many were rewritten."""
        ws = self.workspace
        project, info = ws.project, self.info
        if recording_ids is None:
            recording_ids = [ws.recording.id] if ws.recording is not None else []
        if project is None or info is None:
            self._end_preview()
            return 0
        recordings = {r.id: r for r in ws.recordings()}
        thresholds = self.column_thresholds()
        jobs: list[tuple[Recording, np.ndarray]] = []
        for rec_id in recording_ids:
            rec = recordings.get(rec_id)
            if rec is None:
                continue
            post = self._load(project, info, rec)
            if post is not None:
                jobs.append((rec, post))

        key = tuple(thresholds.tolist())

        def write() -> int:
            with project.write():
                for rec, post in jobs:
                    new = detect_from_posteriors(
                        post, info, self._columns, thresholds, rec.duration
                    )
                    reviewed = [
                        e
                        for e in project.events(rec.id, source="model", run_id=info.run_id)
                        if e.review != "none"
                    ]
                    new = drop_repeats(new, reviewed)
                    project.replace_detections(
                        info.run_id,
                        rec.id,
                        [
                            {
                                "class_id": int(c),
                                "onset": float(on),
                                "offset": float(off),
                                "confidence": float(conf),
                            }
                            for on, off, c, conf in zip(
                                new.onsets.tolist(),
                                new.offsets.tolist(),
                                new.class_ids.tolist(),
                                new.confidences.tolist(),
                            )
                        ],
                    )
                    self._applied[rec.id] = key
            return len(jobs)

        # The preview ends in the same event-loop turn as the store write lands, so the view
        # never flashes the old detections in between.
        self._preview = None
        done = ws.write(write) or 0
        self.drawnChanged.emit()
        if done:
            self.applied.emit(done)
        return done

    def reload(self) -> None:
        """Re-read the posteriors of the current recording (e.g. after a detection run)."""
        self._load_current(force=True)

    # ---------------------------------------------------------- notifications
    def _on_run_change(self) -> None:
        ws = self.workspace
        run = ws.run()
        self.info = RunInfo.from_run(ws.project, run) if ws.project and run else None
        self._map_columns()
        self._load_thresholds()
        self._applied.clear()
        self.runInfoChanged.emit()
        self.thresholdsChanged.emit()
        self.reload()

    def _on_classes_change(self) -> None:
        self._map_columns()
        self.posteriorsChanged.emit()

    def _on_recording_change(self) -> None:
        self._preview_timer.stop()
        self._preview = None
        self.reload()
        # After every other listener has seen the new recording: writing from inside this
        # signal would tell some of them about detections before they know the recording.
        self._catch_up_timer.start()

    def _catch_up(self) -> None:
        rec = self.workspace.recording
        key = tuple(self.column_thresholds().tolist())
        if (
            rec is not None
            and self.posteriors is not None
            and self.customized()
            and self._applied.get(rec.id) != key
        ):
            # What is stored was detected at other thresholds: bring it in line with the
            # sliders, so that what they say is what this recording shows.
            self.apply([rec.id])

    def _on_detections_change(self) -> None:
        # A detection run (ours or the CLI's) may just have written this recording's file.
        self._load_current()
        self.drawnChanged.emit()

    # --------------------------------------------------------------- internals
    def _map_columns(self) -> None:
        by_name = {c.name: c.id for c in self.workspace.classes()}
        self._columns = [by_name.get(name) for name in self.info.classes] if self.info else []

    def _load(self, project: Project, info: RunInfo, rec: Recording) -> np.ndarray | None:
        path = posteriors_path(project, info.run_id, rec)
        try:
            post = np.load(path)
        except (OSError, ValueError):
            return None
        if post.ndim != 2 or post.shape[1] != len(info.classes):
            return None  # not this run's layout (the class list was guessed wrongly)
        return np.ascontiguousarray(post, dtype=np.float32)

    def _load_current(self, *, force: bool = False) -> None:
        ws = self.workspace
        rec, info = ws.recording, self.info
        key: tuple[int, int, str, float | None] | None = None
        if ws.project is not None and rec is not None and info is not None:
            path = posteriors_path(ws.project, info.run_id, rec)
            try:
                mtime: float | None = path.stat().st_mtime
            except OSError:
                mtime = None  # this run has not detected on this recording
            key = (info.run_id, rec.id, str(path), mtime)
        if key == self._posteriors_key and not force:
            return
        # A recording without a file of its own gets no posteriors: never the previous one's.
        self._posteriors_key = key
        self.posteriors = None
        if key is not None and key[3] is not None:
            assert ws.project is not None and rec is not None and info is not None
            self.posteriors = self._load(ws.project, info, rec)
        self.posteriorsChanged.emit()

    def _posteriors_are_current(self) -> bool:
        """True when ``posteriors`` belong to the active run on the current recording."""
        key, rec, info = self._posteriors_key, self.workspace.recording, self.info
        return (
            self.posteriors is not None
            and key is not None
            and rec is not None
            and info is not None
            and key[:2] == (info.run_id, rec.id)
        )

    def _compute_preview(self) -> None:
        ws, info, post = self.workspace, self.info, self.posteriors
        if post is None or info is None or ws.recording is None or ws.project is None:
            return
        if not self._posteriors_are_current():
            return  # another recording's posteriors must never preview detections here
        started = time.perf_counter()
        new = detect_from_posteriors(
            post, info, self._columns, self.column_thresholds(), ws.recording.duration
        )
        reviewed = [e for e in ws.detections.order if e.review != "none"]
        reviewed += [e for e in ws.labels.order if e.run_id == info.run_id]
        self._preview = drop_repeats(new, reviewed)
        self.last_redraw_s = time.perf_counter() - started
        self.drawnChanged.emit()

    def _end_preview(self) -> None:
        if self._preview is not None:
            self._preview = None
            self.drawnChanged.emit()

    def _load_thresholds(self) -> None:
        """The sliders start where the project says: the run's stored thresholds."""
        self.global_threshold = self.info.threshold if self.info else 0.5
        self.class_thresholds = self._run_class_thresholds()

    def _save_thresholds(self) -> None:
        """Store the sliders in the run's configuration in the project, the one place
        ``tfstudio detect`` and ``evaluate`` read them from; what training left is kept
        aside (once) so Reset can return to it."""
        project, info = self.workspace.project, self.info
        if project is None or info is None:
            return
        names = {c.id: c.name for c in self.workspace.classes()}
        classes = {names[c]: t for c, t in self.class_thresholds.items() if c in names}
        try:
            run = project.run(info.run_id)
        except ProjectError:
            return  # the run was deleted meanwhile
        config = dict(run.config_dict)
        config.setdefault(
            TRAINED_KEY,
            {
                "threshold": info.trained_threshold,
                "class_thresholds": dict(info.trained_class_thresholds),
            },
        )
        config["threshold"] = self.global_threshold
        config["class_thresholds"] = classes
        project.update_run(info.run_id, config=config)
        self.info = dataclasses.replace(
            info, threshold=self.global_threshold, class_thresholds=classes
        )
