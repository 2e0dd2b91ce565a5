"""The review's live detections: the active run's posteriors on the current recording, its
thresholds (global and per class), and a preview redrawn while a slider moves (at most one
per frame); plain-Python events (psygnal).

On release the result replaces the recording's unreviewed detections in the store and the
thresholds are stored with the run, where ``tfstudio detect`` and ``evaluate`` read them; the
rules themselves are functions in :mod:`tfstudio.session.detections`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

import numpy as np
from psygnal import Signal, SignalGroup

from tfstudio.session.deferred import Deferred, Schedule, run_now
from tfstudio.session.detections import (
    DetectionArrays,
    RunInfo,
    detect_from_posteriors,
    drawn_detections,
    drop_repeats,
    load_posteriors,
    saved_posteriors,
    saved_posteriors_are_stale,
    with_thresholds,
)
from tfstudio.session.workspace import Workspace
from tfstudio.store import Event, ProjectError
from tfstudio.train.layout import decisions_file, posteriors_file

PREVIEW_MS = 16  # at most one redraw per frame while the slider moves


class DetectionEvents(SignalGroup):
    """What changed in a :class:`DetectionModel`."""

    run_info = Signal()  # the active run's classes/hop (or None)
    posteriors = Signal()  # posteriors of the current recording (or None)
    thresholds = Signal()
    drawn = Signal()  # what the views should draw (preview or stored)
    visible = Signal(bool)
    earlier_audio = Signal()  # whether the stored detections are of the file's earlier audio
    applied = Signal(int)  # recordings whose detections were rewritten by a threshold


class DetectionModel:
    """Posteriors of the current recording for the active run, thresholds, the live preview.

    Views draw ``drawn()``: the preview while a threshold moves, else the stored detections.
    ``schedule`` runs the throttled preview and the catch-up after a recording change (the
    GUI's event loop; at once without one).
    """

    def __init__(self, workspace: Workspace, *, schedule: Schedule = run_now):
        self.events = DetectionEvents(self)
        self.workspace = workspace
        self.info: RunInfo | None = None
        self.posteriors: np.ndarray | None = None
        # The run's saved posteriors are an earlier version's (or another class order's): the
        # sliders wait for detection to make them again instead of redrawing from them.
        self.posteriors_stale = False
        # The active run's unreviewed detections on the current recording were made from its
        # file's earlier audio (it changed and was imported again): detecting makes them again.
        self.earlier_audio = False
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
        self._preview_soon = Deferred(self._compute_preview, schedule, PREVIEW_MS)
        self._catch_up_soon = Deferred(self._catch_up, schedule)
        events = workspace.events
        events.run.connect(self._on_run_change)
        events.classes.connect(self._on_classes_change)
        events.recording.connect(self._on_recording_change)
        events.recordings.connect(self._on_recordings_change)
        events.detections.connect(self._on_detections_change)
        self._on_run_change()

    # ------------------------------------------------------------------ reads
    def threshold_for(self, class_id: int) -> float:
        return self.class_thresholds.get(class_id, self.global_threshold)

    def hysteresis_for(self, class_id: int) -> float:
        """The share of its threshold a detection of the class goes on down to (1: none); the
        share stays when the threshold moves, as ``detect`` applies it."""
        if self.info is None:
            return 1.0
        ratios = self.info.hysteresis_ratios()
        return next((r for c, r in zip(self._columns, ratios) if c == class_id), 1.0)

    def lower_threshold_for(self, class_id: int) -> float | None:
        """Where a detection of the class that passed its threshold goes on down to; None
        without hysteresis."""
        ratio = self.hysteresis_for(class_id)
        return self.threshold_for(class_id) * ratio if ratio < 1 else None

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
        result = drawn_detections(DetectionArrays.from_events(index.order), preview)
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
        return self.info.thresholds_by_class_id(self.workspace.classes(), trained=trained)

    def uncertainty(self, event: Event) -> float:
        """Distance of a detection's confidence from its class's threshold (0: a coin toss)."""
        return abs((event.confidence or 0.0) - self.threshold_for(event.class_id))

    # ----------------------------------------------------------------- writes
    def set_visible(self, visible: bool) -> None:
        if visible != self.visible:
            self.visible = visible
            self.events.visible.emit(visible)

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
        self.events.thresholds.emit()
        if final:
            self._preview_soon.stop()
            self._save_thresholds()
            self.apply()
        elif self._posteriors_are_current() and not self._preview_soon.is_active():
            self._preview_soon.start()

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
        self.events.thresholds.emit()
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
        chosen = [recordings[i] for i in recording_ids if i in recordings]
        jobs = list(saved_posteriors(project, info, chosen))

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
                    project.replace_detections(info.run_id, rec.id, new.rows())
                    self._applied[rec.id] = key
            return len(jobs)

        # The preview ends in the same event-loop turn as the store write lands, so the view
        # never flashes the old detections in between.
        self._preview = None
        done = ws.write(write) or 0
        self.events.drawn.emit()
        if done:
            self.events.applied.emit(done)
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
        self.events.run_info.emit()
        self.events.thresholds.emit()
        self.reload()

    def _on_classes_change(self) -> None:
        self._map_columns()
        self.events.posteriors.emit()

    def _on_recording_change(self) -> None:
        self._preview_soon.stop()
        self._preview = None
        self.reload()
        # After every other listener has seen the new recording: writing from inside this
        # signal would tell some of them about detections before they know the recording.
        self._catch_up_soon.start()

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

    def _on_recordings_change(self) -> None:
        # The current recording's file may have been imported again with other audio: its
        # saved posteriors are named by its content, and its detections may be of the old.
        self._load_current()

    def _on_detections_change(self) -> None:
        # A detection run (ours or the CLI's) may just have written this recording's file.
        self._load_current()
        self.events.drawn.emit()

    # --------------------------------------------------------------- internals
    def _map_columns(self) -> None:
        by_name = {c.name: c.id for c in self.workspace.classes()}
        self._columns = [by_name.get(name) for name in self.info.classes] if self.info else []

    def _load_current(self, *, force: bool = False) -> None:
        ws = self.workspace
        rec, info = ws.recording, self.info
        key: tuple[int, int, str, float | None] | None = None
        if ws.project is not None and rec is not None and info is not None:
            # A multi-label run saves posteriors, a single-label one its decisions.
            mtime: float | None = None  # None: this run has not detected on this recording
            saved = posteriors_file(ws.project, info.run_id, rec)
            for path in (saved, decisions_file(ws.project, info.run_id, rec)):
                try:
                    mtime = path.stat().st_mtime
                except OSError:
                    continue
                saved = path
                break
            key = (info.run_id, rec.id, str(saved), mtime)
        self._check_audio()
        if key == self._posteriors_key and not force:
            return
        # A recording without a file of its own gets no posteriors: never the previous one's.
        self._posteriors_key = key
        self.posteriors = None
        self.posteriors_stale = False
        if key is not None and key[3] is not None:
            assert ws.project is not None and rec is not None and info is not None
            self.posteriors = load_posteriors(ws.project, info, rec)
            self.posteriors_stale = self.posteriors is None and saved_posteriors_are_stale(
                ws.project, info
            )
        self.events.posteriors.emit()

    def _check_audio(self) -> None:
        """Whether the active run's detections here are of the file's earlier audio (the
        store's answer, :meth:`Project.detections_from_other_audio`)."""
        ws = self.workspace
        rec, run_id = ws.recording, ws.run_id
        earlier = (
            ws.project is not None
            and rec is not None
            and run_id is not None
            and run_id in ws.project.detections_from_other_audio(rec.id)
        )
        if earlier != self.earlier_audio:
            self.earlier_audio = earlier
            self.events.earlier_audio.emit()

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
        self.events.drawn.emit()

    def _end_preview(self) -> None:
        if self._preview is not None:
            self._preview = None
            self.events.drawn.emit()

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
        config = with_thresholds(run.config_dict, info, self.global_threshold, classes)
        project.update_run(info.run_id, config=config)
        self.info = dataclasses.replace(
            info, threshold=self.global_threshold, class_thresholds=classes
        )
