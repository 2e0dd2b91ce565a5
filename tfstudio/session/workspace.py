"""The open project as every widget shares it: the current recording, the selection, the
current class, the active run, and the rules edits follow; plain-Python events (psygnal).

Widgets write through the store (or the thin wrappers here, which turn store errors into a
message) and redraw from ``workspace.events``; they never call each other. The store tells us
about our own writes through ``Project.subscribe``; they are applied together a little later
(``schedule``: the GUI's next event-loop turn), or at once by any write made here. Writes by
other processes (the trainer, a second window, the CLI) show up when :meth:`Workspace.poll`
sees ``data_version`` move (the GUI polls once a second).

Events are emitted synchronously on the thread that made the change; the project's database
belongs to the thread that opened it, so that is the GUI thread.

Detections: one trained run is *active*; its model events on the current recording that are
not accepted (pending or rejected) are in ``detections``. Accepted ones are labels, in
``labels``. Either kind can be the selected event: adjusting a detection accepts it, deleting
one rejects it (those rules are functions in :mod:`tfstudio.session.rules`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psygnal import Signal, SignalGroup

from tfstudio.relink import RelinkReport, relink
from tfstudio.session.deferred import Deferred, Schedule, run_now
from tfstudio.session.labels import LabelIndex
from tfstudio.session.rules import (
    delete_rejects,
    edit_accepts,
    is_label,
    is_open_detection,
    is_unchanged,
)
from tfstudio.store import (
    REVIEW_STATES,
    Acceptance,
    Change,
    Event,
    EventClass,
    LabelTotals,
    Project,
    ProjectError,
    Recording,
    Run,
    accept_detections,
    seconds_text,
    set_review,
    shown_names,
)
from tfstudio.store.history import HistoryStep
from tfstudio.train.splits import DEFAULT_VAL, assign_splits

NO_LABELS = LabelTotals(0, 0)
_TIMES = ("onset", "offset")

# Beyond this many changed events (an import, an undone import), re-read instead of patching.
MAX_PATCHED_EVENTS = 200


@dataclass(frozen=True)
class Reveal:
    """Where an undo or redo made its change, for the widgets to bring it into view
    (``events.reveal``).

    ``span``: the time on the current recording the changed events took, before or after the
    step (None when the step changed no event there, or changed events of several
    recordings: the view stays where it is). ``recordings``: those to select in the
    recordings list (the one opened, or those whose split the step set); ``unhide``: a list
    whose filter hides one of them shows it again (the window says so in its message);
    ``opened``: the step's recording was opened for it (the view keeps the zoom the user had).
    """

    span: tuple[float, float] | None = None
    recordings: tuple[int, ...] = ()
    unhide: bool = False
    opened: bool = False


class WorkspaceEvents(SignalGroup):
    """What changed in a :class:`Workspace` (read the new state from the workspace)."""

    project = Signal()  # opened, created or closed
    recordings = Signal()  # list, metadata or label counts
    classes = Signal()
    labels = Signal()  # labels of the current recording
    recording = Signal()  # the current recording
    selection = Signal()
    current_class = Signal()
    history = Signal()  # what undo/redo would do
    runs = Signal()  # the list of runs (a training finished, a new one started...)
    run = Signal()  # the active run, whose detections are shown and reviewed
    detections = Signal()  # detections of the active run on the current recording
    message = Signal(str)  # something to tell the user (a status bar shows it)
    reveal = Signal(object)  # a Reveal: bring what an undo or redo changed into view


class Workspace:
    """Shared state of the annotation window; see the module docstring."""

    def __init__(self, *, schedule: Schedule = run_now):
        self.events = WorkspaceEvents(self)
        self.project: Project | None = None
        self.recording: Recording | None = None
        self.labels = LabelIndex()
        self.detections = LabelIndex()
        self.run_id: int | None = None
        self._run_chosen = False
        self.selected_id: int | None = None
        # Also selected, besides ``selected_id`` (Ctrl+click, a table's extended selection):
        # bulk relabel, delete and nudge act on all of them in one undo step.
        self.also_selected: tuple[int, ...] = ()
        self.current_class_id: int | None = None
        self._classes: list[EventClass] = []
        self._recordings: list[Recording] = []
        self._shown: dict[int, str] = {}  # each recording's name as shown (shown_names)
        self._shown_paths: list[tuple[int, str]] = []  # of the recordings named in it
        # The recordings in the order a list sorts them, and those its filter shows, which
        # PgDown, PgUp and Ctrl+U follow; None: the project's order, every recording.
        self._recording_order: list[int] | None = None
        self._recordings_listed: set[int] | None = None
        self._runs: list[Run] = []
        # Imported runs without a detection left (their import undone), not offered for review,
        # and the one of them the user had chosen.
        self._emptied: set[int] = set()
        self._emptied_choice: int | None = None
        # Labels per recording in all, for every recording (what lists filter and sort by),
        # and per class for those asked about (read on demand: 10 000 recordings of 30 classes
        # are 290 000 counts, most never shown).
        self._totals: dict[int, LabelTotals] = {}
        self._counts: dict[int, dict[int, int]] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._pending: list[Change] = []
        self._data_version = 0
        self._flush_soon = Deferred(self.flush, schedule)

    # ----------------------------------------------------------------- project
    def open_project(self, root: Path | str, *, create: bool = False) -> Project:
        """Open (or create) a project and make it current; raises ProjectError."""
        project = Project.create(root) if create else Project.open(root)
        self.set_project(project)
        return project

    def set_project(self, project: Project | None) -> None:
        self.close_project(emit=False)
        self.project = project
        if project is not None:
            # Which files went missing or changed since the last look, before the browser
            # shows the list (a stat per recording: milliseconds for thousands).
            with contextlib.suppress(ProjectError, OSError):
                project.check_files(record=not project.read_only)
            self._unsubscribe = project.subscribe(self._on_store_change)
            self._data_version = project.data_version()
        self._reload_all()
        # Pick the recording before anyone hears of the project, so that listeners reacting
        # to the signals below do not each open one and load its labels again.
        self.recording = self._recordings[0] if self._recordings else None
        self.selected_id = None
        self.also_selected = ()
        self.run_id = self._default_run_id()
        self._run_chosen = False
        self._emptied_choice = None
        self._reload_labels()
        self._announce_everything()

    def close_project(self, *, emit: bool = True) -> None:
        self._flush_soon.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.project is not None:
            self.project.close()
        self.project = None
        self.recording = None
        self.labels = LabelIndex()
        self.detections = LabelIndex()
        self.run_id = None
        self.selected_id = None
        self.also_selected = ()
        self._recording_order = self._recordings_listed = None
        self._pending.clear()
        if emit:
            self._reload_all()
            self._announce_everything()

    def _announce_everything(self) -> None:
        """Tell every listener that everything changed (a project opened or closed)."""
        events = self.events
        for signal in (
            events.project,
            events.recordings,
            events.classes,
            events.history,
            events.runs,
            events.run,
            events.recording,
            events.labels,
            events.detections,
            events.selection,
        ):
            signal.emit()

    # ------------------------------------------------------------------- reads
    def recordings(self) -> list[Recording]:
        return list(self._recordings)

    def _set_recordings(self, recordings: list[Recording]) -> None:
        self._recordings = recordings
        # Names follow paths only: a split or status change (most reloads) keeps them
        # (shown_names takes 60 ms for 20 000 recordings, this check a few).
        paths = [(rec.id, rec.path) for rec in recordings]
        if paths != self._shown_paths:
            self._shown, self._shown_paths = shown_names(recordings), paths

    def shown_names(self) -> Mapping[int, str]:
        """Each recording's name as the app shows it: its file name, with as many of its
        folders as tell it from recordings of the same file name (``site1/x.WAV``)."""
        return self._shown

    def shown_name(self, recording_id: int) -> str:
        return self._shown.get(recording_id, "?")

    def classes(self) -> list[EventClass]:
        return list(self._classes)

    def _class_label(self, event: Event) -> str:
        """'warble' at 3.84 s: an event as the undo menu names it."""
        cls = self.event_class(event.class_id)
        name = cls.name if cls is not None else str(event.class_id)
        return f"{name!r} at {seconds_text(event.onset)}"

    def event_class(self, class_id: int | None) -> EventClass | None:
        return next((c for c in self._classes if c.id == class_id), None)

    def label_counts(self, recording_id: int) -> dict[int, int]:
        """Labels per class id on one recording."""
        counts = self._counts.get(recording_id)
        if counts is None:
            if self.project is None or recording_id not in self._totals:
                return {}
            counts = self.project.label_counts([recording_id]).get(recording_id, {})
            self._counts[recording_id] = counts
        return counts

    def label_totals(self, recording_id: int) -> LabelTotals:
        """Labels on one recording in all and the classes they are of. A new object each
        time the recording's counts are read again (an edit touched it): a list that kept
        the old one knows by identity which rows to redraw, even when the sums are equal
        (a label moved to another class)."""
        return self._totals.get(recording_id, NO_LABELS)

    def selected_event(self) -> Event | None:
        """The selected label or detection."""
        return self.labels.get(self.selected_id) or self.detections.get(self.selected_id)

    def selected_detection(self) -> Event | None:
        """The selected event when it came from a model (pending, rejected or accepted)."""
        event = self.selected_event()
        return event if event is not None and event.source == "model" else None

    def is_detection(self, event_id: int | None) -> bool:
        """True for a pending or rejected detection of the active run on this recording."""
        return event_id is not None and event_id in self.detections

    # -------------------------------------------------------------------- runs
    def runs(self) -> list[Run]:
        """Runs whose detections can be reviewed (oldest first): those that left a checkpoint
        (they can detect) and those imported from another tool's files that still have
        detections (undoing the import took them all away; its redo brings them back)."""
        return [
            r
            for r in self._runs
            if r.best_checkpoint or r.last_checkpoint or (r.imported and r.id not in self._emptied)
        ]

    def run(self) -> Run | None:
        """The active run."""
        return next((r for r in self._runs if r.id == self.run_id), None)

    def set_run(self, run_id: int | None, *, chosen: bool = True) -> None:
        """Make a run active; ``chosen`` (by the user) keeps it active when a newer run ends,
        otherwise the newest finished run takes over."""
        self._run_chosen = chosen and run_id is not None
        if run_id == self.run_id:
            return
        self.run_id = run_id
        if self.selected_id is not None and self.selected_id in self.detections:
            self.selected_id = None
            self.also_selected = ()
            self.events.selection.emit()
        self._reload_detections()
        self.events.run.emit()
        self.events.detections.emit()

    def recording_path(self, recording: Recording | None = None) -> Path | None:
        recording = recording or self.recording
        if recording is None or self.project is None:
            return None
        return self.project.absolute_path(recording)

    # --------------------------------------------------------------- selection
    def set_recording(self, recording_id: int | None, *, force: bool = False) -> None:
        if not force and self.recording is not None and self.recording.id == recording_id:
            return
        recording = next((r for r in self._recordings if r.id == recording_id), None)
        self.recording = recording
        self.selected_id = None
        self.also_selected = ()
        self._reload_labels()
        self.events.recording.emit()
        self.events.labels.emit()
        self.events.detections.emit()
        self.events.selection.emit()

    def set_recording_order(
        self, recording_ids: list[int] | None, listed: Collection[int] | None = None
    ) -> None:
        """The order a list sorts the recordings in and those its filter shows (None: the
        project's order, every recording): the next and previous recording are the rows
        below and above, those the filter hides are passed over."""
        self._recording_order = None if recording_ids is None else list(recording_ids)
        self._recordings_listed = None if listed is None else set(listed)

    def step_recording(self, step: int, *, unlabelled: bool = False) -> bool:
        """Go to the next/previous recording (optionally the next one without labels), in
        the order the recordings list shows them, past those its filter hides."""
        ids = [r.id for r in self._recordings]
        if self._recording_order is not None:
            known = set(ids)
            ids = [i for i in self._recording_order if i in known]
        if not ids:
            return False
        listed = self._recordings_listed
        n = len(ids)
        here = ids.index(self.recording.id) if self.recording and self.recording.id in ids else -1
        for k in range(1, n + 1):
            pos = here + step * k
            if not unlabelled and not 0 <= pos < n:
                return False
            candidate = ids[pos % n]
            if listed is not None and candidate not in listed:
                continue
            if unlabelled and self.label_totals(candidate).labels:
                continue
            self.set_recording(candidate)
            return True
        filtered = listed is not None and len(listed) < n
        self.report(
            "Every recording listed has labels" if filtered else "Every recording has labels"
        )
        return False

    def selection(self) -> list[int]:
        """Every selected event: the current one (``selected_id``) first, then the others."""
        return [] if self.selected_id is None else [self.selected_id, *self.also_selected]

    def select_event(self, event_id: int | None, *, toggle: bool = False) -> None:
        """Select one event (None: nothing). With ``toggle`` (Ctrl+click) add it to the
        selection as the current one, or take it out when it is already in."""
        if event_id is not None and event_id not in self.labels and event_id not in self.detections:
            event_id = None
        if toggle and event_id is not None and self.selected_id is not None:
            chosen = self.selection()
            if event_id in chosen:
                chosen.remove(event_id)
            else:
                chosen.insert(0, event_id)
            self.select_events(chosen)
            return
        if event_id == self.selected_id and not self.also_selected:
            return
        self.also_selected = ()
        self.selected_id = event_id
        event = self.selected_event()
        if event is not None and event.class_id != self.current_class_id:
            self.current_class_id = event.class_id
            self.events.current_class.emit()
        self.events.selection.emit()

    def select_events(self, event_ids: list[int]) -> None:
        """Select these events, the first the current one (a table's rows, a toggle)."""
        known = [i for i in dict.fromkeys(event_ids) if i in self.labels or i in self.detections]
        first = known[0] if known else None
        if first == self.selected_id and tuple(known[1:]) == self.also_selected:
            return
        self.selected_id, self.also_selected = first, tuple(known[1:])
        event = self.selected_event()
        if event is not None and event.class_id != self.current_class_id:
            self.current_class_id = event.class_id
            self.events.current_class.emit()
        self.events.selection.emit()

    def selected_events(self) -> list[Event]:
        found = (self.labels.get(i) or self.detections.get(i) for i in self.selection())
        return [e for e in found if e is not None]

    def step_event(self, step: int, t: float = 0.0) -> int | None:
        """Select the label ``step`` places after (before) the selected one; with none
        selected, the first from ``t`` on (back), and with a detection selected, from it."""
        current = self.selected_event()
        if current is not None and current.id not in self.labels:
            t = current.onset  # it was from the playback cursor, far from the detection
        event_id = self.labels.neighbour(self.selected_id, step, t)
        if event_id is not None:
            self.select_event(event_id)
        return event_id

    def step_same_class(self, step: int) -> int | None:
        """Select the next (previous) event of the selected one's class."""
        if self.selected_id is None or self.selected_id not in self.labels:
            return None
        event_id = self.labels.neighbour_of_class(self.selected_id, step)
        if event_id is not None:
            self.select_event(event_id)
        return event_id

    def nudge_selected(self, seconds: float, *, edge: str = "both") -> Event | None:
        """Move the selected event (``edge`` "both"), or only its onset or offset, by
        ``seconds``, within the recording and never inside out (one undo step)."""
        event = self.selected_event()
        if event is None or self.recording is None:
            return None
        if edge not in ("both", "onset", "offset"):
            raise ValueError(f"edge must be both, onset or offset, not {edge!r}")
        duration = self.recording.duration
        if self.also_selected and self.project is not None:
            return self._nudge_many(seconds, duration, edge)
        onset, offset = _nudged(event, seconds, duration, edge)
        return self.update_event(event.id, onset=onset, offset=offset)

    def _nudge_many(self, seconds: float, duration: float, edge: str) -> Event | None:
        """Move every selected event by the same amount (as far as the first and last
        allow), or each one's onset or offset, one undo step; detections moved become
        labels, as when adjusted alone."""
        assert self.project is not None
        project, events = self.project, self.selected_events()
        if edge == "both":
            seconds = min(
                max(seconds, -min(e.onset for e in events)),
                duration - max(e.offset for e in events),
            )
        moved = [(e, _nudged(e, seconds, duration, edge)) for e in events]
        moved = [(e, times) for e, times in moved if not is_unchanged(e, dict(zip(_TIMES, times)))]
        if not moved:
            return self.selected_event()
        what = "move" if edge == "both" else f"move the {edge} of"

        def apply() -> None:
            with project.undo_group(f"{what} {len(moved)} events"):
                for e, (onset, offset) in moved:
                    if edit_accepts(e, {"onset": onset, "offset": offset}):
                        accept_detections(project, [e.id], onset=onset, offset=offset)
                    else:
                        project.update_event(e.id, onset=onset, offset=offset)

        self._write(apply)
        return self.selected_event()

    def set_edge_at(self, edge: str, seconds: float) -> Event | None:
        """Put the selected event's onset or offset at ``seconds`` (the playback cursor); an
        onset after the offset (or the reverse) takes the other edge along as a point."""
        event = self.selected_event()
        if event is None or self.recording is None:
            return None
        t = min(max(0.0, seconds), self.recording.duration)
        if edge == "onset":
            return self.update_event(event.id, onset=t, offset=max(t, event.offset))
        if edge == "offset":
            return self.update_event(event.id, onset=min(t, event.onset), offset=t)
        raise ValueError(f"edge must be onset or offset, not {edge!r}")

    def set_current_class(self, class_id: int | None) -> None:
        if class_id == self.current_class_id:
            return
        self.current_class_id = class_id
        self.events.current_class.emit()

    # ------------------------------------------------------------------- edits
    def _write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a store write; a ProjectError becomes a status message instead of a crash."""
        if self.project is None:
            return None
        try:
            result = fn(*args, **kwargs)
        except ProjectError as exc:
            self.report(str(exc))
            return None
        self.flush()
        return result

    def add_event(
        self,
        onset: float,
        offset: float,
        *,
        class_id: int | None = None,
        low_hz: float | None = None,
        high_hz: float | None = None,
    ) -> Event | None:
        """Add a human label on the current recording and select it."""
        if self.project is None or self.recording is None:
            return None
        class_id = class_id if class_id is not None else self.current_class_id
        if class_id is None or self.event_class(class_id) is None:
            class_id = self._classes[0].id if self._classes else None
        if class_id is None:
            self.report("Add a class first: + Add class under Classes, or Ctrl+K")
            return None
        onset, offset = sorted((max(0.0, onset), max(0.0, offset)))
        offset = min(offset, self.recording.duration)
        extra: dict[str, Any] = {}
        if low_hz is not None and high_hz is not None:
            extra = {"low_hz": min(low_hz, high_hz), "high_hz": max(low_hz, high_hz)}
        event = self._write(
            self.project.add_event, self.recording.id, class_id, onset, offset, **extra
        )
        if event is not None:
            self.set_current_class(class_id)
            self.select_event(event.id)
        return event

    def update_event(self, event_id: int, **changes: Any) -> Event | None:
        """Change an event; changing a detection (moving an edge, relabelling) accepts it."""
        if self.project is None:
            return None
        current = self.labels.get(event_id) or self.detections.get(event_id)
        if current is not None and is_unchanged(current, changes):
            return current
        if current is not None and edit_accepts(current, changes):
            # Merged with the labels of its class it overlaps, in the same step. Relabelled,
            # the step and the message name the class it became (a number key on a pending
            # detection), not only the one the model said.
            after = self.event_class(changes.get("class_id", current.class_id))
            relabelled = after is not None and after.id != current.class_id
            if relabelled:
                assert after is not None
                description = f"accept {self._class_label(current)} as {after.name!r}"
                said = f"Accepted the detection as {after.name!r}"
            else:
                description = f"accept adjusted {self._class_label(current)}"
                said = "Accepted the adjusted detection"
            accepted = self._write(
                accept_detections, self.project, [event_id], description=description, **changes
            )
            if not accepted:
                return None
            if accepted[0].merged:
                said += f", merged with {len(accepted[0].merged)} overlapping label(s) of its class"
            self.report(f"{said} (Ctrl+Z undoes)")
            return accepted[0].event
        return self._write(self.project.update_event, event_id, **changes)

    def set_split(self, recording_ids: list[int], split: str | None) -> None:
        """Put recordings in train, val, test or no split (what training and evaluation read)."""
        if self.project is not None and recording_ids:
            self._write(self.project.set_split, recording_ids, split)

    def split_labelled(self, group_by: str | None = None) -> int:
        """Put the labelled recordings without a split into train and val, as ``tfstudio
        split`` does (one undo step), each folder's or day's together with ``group_by``
        (tfstudio.train.splits.GROUPINGS); says how many, and returns that number."""
        if self.project is None:
            return 0
        plan = self._write(assign_splits, self.project, val=DEFAULT_VAL, group_by=group_by)
        if plan is None:
            return 0
        n = len(plan.assigned)
        if not n:
            self.report("Every labelled recording already has a split")
        else:
            self.report(
                f"Put {n} labelled recording(s) into a split: train "
                f"{plan.recordings['train']}, val {plan.recordings['val']} in all"
            )
        return n

    def review(self, event_ids: list[int], state: str) -> int:
        """Accept, reject or reset (``none``) detections, as one undoable step."""
        if self.project is None or not event_ids or state not in REVIEW_STATES:
            return 0
        if state == "accepted":
            return len(self.accept(event_ids))
        # (set_review leaves a detection already in that state alone: no empty undo step.)
        return self._write(set_review, self.project, event_ids, state) or 0

    def _review_state(self, event_id: int) -> str | None:
        """An event's review state (None when it is not in the project)."""
        event = self.labels.get(event_id) or self.detections.get(event_id)
        if event is None and self.project is not None:
            with contextlib.suppress(ProjectError):
                event = self.project.event(event_id)
        return None if event is None else event.review

    def accept(self, event_ids: list[int]) -> list[Acceptance]:
        """Accept detections as one undoable step; each merges with the labels of its class
        it overlaps instead of becoming a second label for the same sound."""
        # One accepted already stays as it is (accepting it again wrote an empty undo step).
        event_ids = [i for i in event_ids if self._review_state(i) != "accepted"]
        if self.project is None or not event_ids:
            return []
        return self._write(accept_detections, self.project, event_ids) or []

    def set_selected_class(self, class_id: int) -> None:
        """Relabel the selected events (if any) and use the class for new events."""
        self.set_current_class(class_id)
        events = [e for e in self.selected_events() if e.class_id != class_id]
        if len(self.selection()) > 1 and events and self.project is not None:
            project, name = self.project, self._class_name_of(class_id)

            def relabel() -> None:
                with project.undo_group(f"relabel {len(events)} events as {name!r}"):
                    for event in events:
                        if edit_accepts(event, {"class_id": class_id}):
                            accept_detections(project, [event.id], class_id=class_id)
                        else:
                            project.update_event(event.id, class_id=class_id)

            self._write(relabel)
            return
        if events:
            self.update_event(events[0].id, class_id=class_id)

    def _class_name_of(self, class_id: int) -> str:
        cls = self.event_class(class_id)
        return cls.name if cls is not None else str(class_id)

    def delete_selected(self) -> bool:
        event = self.selected_event()
        if event is None or self.project is None:
            return False
        if self.also_selected:
            return self._delete_many(self.selected_events())
        if delete_rejects(event):
            self.review([event.id], "rejected")
        else:
            self._write(self.project.delete_events, [event.id])
            self._say_done()
        # Nothing is selected afterwards: selecting a neighbour would hand the number keys an
        # event the user never picked (Tab picks the next one). A rejected detection is no
        # exception: still selected, the next number key accepted it as a label of that class.
        self.select_event(None)
        return True

    def _delete_many(self, events: list[Event]) -> bool:
        """Delete the selected labels and reject the selected detections, one undo step."""
        assert self.project is not None
        project = self.project
        rejected = [e.id for e in events if delete_rejects(e) and e.review != "rejected"]
        deleted = [e.id for e in events if not delete_rejects(e)]
        if not rejected and not deleted:  # only detections rejected already
            self.select_event(None)
            return True

        def apply() -> None:
            with project.undo_group(f"delete {len(events)} events"):
                if deleted:
                    project.delete_events(deleted)
                for event_id in rejected:
                    project.update_event(event_id, review="rejected")

        self._write(apply)
        if deleted:
            self._say_done()
        self.select_event(None)
        return True

    def _say_done(self) -> None:
        """Say what the latest step did, and how to take it back (a deletion has nothing
        left on screen to show for it)."""
        description = self.undo_description()
        if description:
            self.events.message.emit(f"Done: {description} (Ctrl+Z undoes it)")

    def undo(self) -> str | None:
        """Undo the latest step and bring what it changed into view (:meth:`_show_step`)."""
        step = self._write(self.project.undo_step) if self.project else None
        self._show_step(step, "Undone", "Nothing to undo")
        return None if step is None else step.description

    def redo(self) -> str | None:
        """Redo the latest undone step and bring what it changed into view."""
        step = self._write(self.project.redo_step) if self.project else None
        self._show_step(step, "Redone", "Nothing to redo")
        return None if step is None else step.description

    def _show_step(self, step: HistoryStep | None, done: str, nothing: str) -> None:
        """After an undo or redo: a step on one recording opens it and selects the events it
        put back or changed (none when it took them away); ``events.reveal`` asks the view
        to show where they are. A step over several recordings (an import, a class merge)
        stays where it is and says how many it touched; a step that set splits selects
        those recordings in the list. The message says what was undone, and where when
        that is not the recording the user was looking at."""
        if step is None:
            self.report(nothing)
            return
        text = f"{done}: {step.description}"
        known = {r.id: r for r in self._recordings}
        recordings = [i for i in step.recordings if i in known]
        reveal = Reveal()
        if len(recordings) == 1:
            (rec_id,) = recordings
            unhide = False
            opened = self.recording is None or self.recording.id != rec_id
            if opened:
                # Another recording's edit: it changed out of sight, and a second Ctrl+Z
                # pressed because nothing seemed to happen undid one more.
                listed = self._recordings_listed
                unhide = listed is not None and rec_id not in listed
                self.set_recording(rec_id)
                text += f" (on {self.shown_name(rec_id)}"
                text += ", shown by clearing the recordings filter)" if unhide else ")"
            reveal = Reveal(step.extents[rec_id], (rec_id,), unhide, opened)
        elif recordings:
            text += f" ({len(recordings)} recordings)"
        splits = [i for i in step.splits if i in known]
        if splits and not recordings:
            listed = self._recordings_listed
            unhide = listed is not None and not set(splits) <= listed
            if len(splits) > 1:
                text += f" ({len(splits)} recordings, selected in the list)"
            if unhide:
                text += "; the recordings filter was cleared to show them"
            reveal = Reveal(None, tuple(splits), unhide)
        # The view shows the span first, so that selecting (which scrolls to the current
        # event when it is out of sight) finds it shown and leaves the view alone.
        self.events.reveal.emit(reveal)
        if len(recordings) == 1:
            shown = [i for i in step.events if i in self.labels or i in self.detections]
            self.select_events(shown)
            if step.events and not shown:
                text += self._unshown_runs(step.events)
        self.report(text)

    def _unshown_runs(self, event_ids: Sequence[int]) -> str:
        """Why events a step put back are not on screen, when they are another run's
        detections (the view draws only the run chosen in the Review panel): a review
        decision on run 3, undone while run 5 is shown, changed nothing in sight."""
        assert self.project is not None
        runs: set[int] = set()
        for event_id in event_ids:
            try:
                event = self.project.event(event_id)
            except ProjectError:
                continue
            run = event.run_id
            if event.source == "model" and run is not None and run != self.run_id:
                runs.add(run)
        if not runs:
            return ""
        names = ", ".join(str(r) for r in sorted(runs))
        plural = "s" if len(runs) > 1 else ""
        return (
            f"; a detection of run{plural} {names}, not shown: choose the run in the Review "
            "panel to see it"
        )

    def undo_description(self) -> str | None:
        return self.project.undo_description() if self.project else None

    def redo_description(self) -> str | None:
        return self.project.redo_description() if self.project else None

    def locate(self, recording_id: int, new_file: Path | str) -> RelinkReport | None:
        """The user found a recording's file at ``new_file``: relink it (its content must be
        the recording's), then the other missing recordings of its old folder that are in
        the new file's folder under their old names. Says what happened."""
        if self.project is None:
            return None
        rec = next((r for r in self._recordings if r.id == recording_id), None)
        if rec is None:
            return None
        old = self.project.absolute_path(rec)
        new = Path(new_file)
        try:
            report = relink(self.project, old, new)
            if report.relinked:
                others = relink(self.project, old.parent, new.parent, only_missing=True)
                report.relinked += others.relinked
        except (ProjectError, OSError) as exc:
            self.report(f"Cannot relink {self.shown_name(rec.id)}: {exc}")
            return None
        self.flush()  # the new paths, now: the view reopens the recording below
        if report.different:
            _, path, why = report.different[0]
            self.report(f"{path.name} is not {self.shown_name(rec.id)}: {why}")
        elif report.relinked:
            still = sum(1 for r in self.recordings() if r.status == "missing")
            self.report(
                f"Relinked {len(report.relinked)} recording(s)"
                + (f"; {still} still missing" if still else "")
            )
        if self.recording is not None and self.recording.id == rec.id and report.relinked:
            self.set_recording(rec.id, force=True)
        return report

    def write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Any other store write (classes, splits…) with the same error handling."""
        return self._write(fn, *args, **kwargs)

    # ----------------------------------------------------------- notifications
    def report(self, text: str) -> None:
        """Tell the user something (``events.message``; the window's status bar shows it)."""
        self.events.message.emit(text)

    def _on_store_change(self, change: Change) -> None:
        self._pending.append(change)
        self._flush_soon.start()

    def poll(self) -> None:
        """Look whether another process wrote to the project; if so, re-read everything."""
        if self.project is None:
            return
        try:
            version = self.project.data_version()
        except Exception:  # a vanished database must not spam tracebacks every second
            return
        if version != self._data_version:
            self._data_version = version
            # Another process wrote: we cannot know what, so refresh everything.
            self._pending += [
                Change("recordings"),
                Change("classes"),
                Change("events"),
                Change("runs"),
            ]
            self.flush()

    def refresh(self) -> None:
        """Re-read everything (after another connection wrote, e.g. an import thread)."""
        if self.project is not None:
            self._data_version = self.project.data_version()
            self._pending += [
                Change("recordings"),
                Change("classes"),
                Change("events"),
                Change("runs"),
            ]
            self.flush()

    def flush(self) -> None:
        """Apply pending store changes to the cached state and emit the signals once."""
        self._flush_soon.stop()
        if not self._pending or self.project is None:
            self._pending.clear()
            return
        pending, self._pending = self._pending, []
        tables = {c.table for c in pending}
        recording_gone = False
        if "classes" in tables:
            self._classes = self.project.classes()
            if self.current_class_id not in {c.id for c in self._classes}:
                self.current_class_id = self._classes[0].id if self._classes else None
                self.events.current_class.emit()
            self.events.classes.emit()
        if "recordings" in tables:
            self._set_recordings(self.project.recordings())
            if self.recording is not None:
                still = next((r for r in self._recordings if r.id == self.recording.id), None)
                recording_gone = still is None  # deleted elsewhere: do not show a ghost
                self.recording = still
        if tables & {"runs", "events"}:
            self._flush_runs()
        if "events" in tables:
            event_changes = [c for c in pending if c.table == "events"]
            touched = self._update_labels(event_changes)
            # The store does not name the rows replace_detections deleted: re-read them all
            # (one indexed query for one recording and run).
            self._reload_detections()
            self._update_counts(touched)
            self.events.labels.emit()
            self.events.detections.emit()
            if self.selected_id not in self.labels and self.selected_id not in self.detections:
                self.selected_id = None
            self.also_selected = tuple(
                i for i in self.also_selected if i in self.labels or i in self.detections
            )
            if self.selected_id is None and self.also_selected:
                self.selected_id, *rest = self.also_selected
                self.also_selected = tuple(rest)
            self.events.selection.emit()
        if tables & {"recordings", "events", "classes"}:
            self.events.recordings.emit()
        if tables & {"events", "classes"}:
            self.events.history.emit()
        if recording_gone:
            self.set_recording(self._recordings[0].id if self._recordings else None, force=True)

    # --------------------------------------------------------------- internals
    def _emptied_runs(self) -> set[int]:
        """The imported runs (no checkpoint) without a detection now."""
        if self.project is None:
            return set()
        imported = {
            r.id for r in self._runs if r.imported and not (r.best_checkpoint or r.last_checkpoint)
        }
        return imported - self.project.detection_runs(imported) if imported else set()

    def _flush_runs(self) -> None:
        assert self.project is not None
        before = self.run()
        old_runs, old_emptied = self._runs, self._emptied
        self._runs = self.project.runs()
        self._emptied = self._emptied_runs()
        if self._runs == old_runs and self._emptied == old_emptied:
            return
        self.events.runs.emit()
        usable = {r.id for r in self.runs()}
        back = self._emptied_choice
        if back is not None and back in usable:
            # The redo of an import brought back the run the user had chosen when its undo
            # took it away: chosen again (unless another was chosen meanwhile). One that was
            # active by default is again when it is the default.
            self._emptied_choice = None
            if not self._run_chosen:
                self.set_run(back)
        elif self.run_id in self._emptied and self._run_chosen:
            self._emptied_choice = self.run_id
        if self.run_id not in usable or not self._run_chosen:
            # The active run vanished, or a training just ended and nobody chose another.
            self.set_run(self._default_run_id(), chosen=False)
        after = self.run()
        if (
            before is not None
            and after is not None
            and before.id == after.id
            and (before.status, before.config) != (after.status, after.config)
        ):
            # The active run itself changed: it finished (its tuned thresholds are in its
            # configuration now) or its thresholds were stored elsewhere. Whoever shows it
            # reads it again, as if it had just been chosen.
            self.events.run.emit()

    def _default_run_id(self) -> int | None:
        if self.project is None:
            return None
        latest = self.project.latest_run()
        if latest is not None:
            return latest.id
        usable = self.runs()
        return usable[-1].id if usable else None

    def _reload_all(self) -> None:
        if self.project is None:
            self._classes, self._runs = [], []
            self._set_recordings([])
            self._emptied = set()
            self._totals, self._counts = {}, {}
            return
        self._classes = self.project.classes()
        self._set_recordings(self.project.recordings())
        self._runs = self.project.runs()
        self._emptied = self._emptied_runs()
        self._totals, self._counts = self.project.label_totals(), {}
        if self.current_class_id not in {c.id for c in self._classes}:
            self.current_class_id = self._classes[0].id if self._classes else None

    def _reload_labels(self) -> None:
        if self.project is None or self.recording is None:
            self.labels = LabelIndex()
        else:
            self.labels = LabelIndex(self.project.labels(self.recording.id))
        self._reload_detections()

    def _reload_detections(self) -> None:
        if self.project is None or self.recording is None or self.run_id is None:
            self.detections = LabelIndex()
            return
        events = self.project.events(self.recording.id, source="model", run_id=self.run_id)
        self.detections = LabelIndex(e for e in events if is_open_detection(e))

    def _update_labels(self, changes: list[Change]) -> set[int] | None:
        """Patch the current recording's labels with the changed events; return the
        recordings whose labels the changes touched (None when that is not known).

        A changed event's recording before the change is known when it was shown (one of the
        current recording's labels or detections); an event of another recording is only
        reviewed or deleted here, never moved, and other processes' writes reach
        :meth:`poll`, which re-reads everything."""
        if self.project is None or self.recording is None:
            self.labels = LabelIndex()
            return None
        ids = [i for c in changes for i in c.ids]
        if any(not c.ids for c in changes) or len(ids) > MAX_PATCHED_EVENTS:
            self._reload_labels()
            return None
        current = self.recording.id
        touched: set[int] | None = set()
        upserted, removed = [], []
        for event_id in set(ids):
            shown = event_id in self.labels or event_id in self.detections
            if shown and touched is not None:
                touched.add(current)
            try:
                event = self.project.event(event_id)
            except ProjectError:
                removed.append(event_id)
                if not shown:
                    touched = None  # deleted from a recording we cannot name
                continue
            if touched is not None:
                touched.add(event.recording_id)
            if event.recording_id == current and is_label(event):
                upserted.append(event)
            else:
                removed.append(event_id)
        self.labels.patch(upserted, removed)
        return touched

    def _update_counts(self, recording_ids: set[int] | None) -> None:
        """Re-read the label counts of ``recording_ids`` (the totals of every recording when
        None; their per-class counts are then read again when asked for)."""
        if self.project is None:
            return
        if recording_ids is None:
            self._totals, self._counts = self.project.label_totals(), {}
            return
        if not recording_ids:
            return
        fresh = self.project.label_counts(recording_ids)
        for recording_id in recording_ids:
            counts = fresh.get(recording_id)
            if counts:
                self._counts[recording_id] = counts
                self._totals[recording_id] = LabelTotals(sum(counts.values()), len(counts))
            else:
                self._counts.pop(recording_id, None)
                self._totals.pop(recording_id, None)


def _nudged(event: Event, seconds: float, duration: float, edge: str) -> tuple[float, float]:
    """An event's onset and offset after a nudge of ``edge`` (both, onset or offset) by
    ``seconds``: within the recording, never inside out."""
    onset, offset = event.onset, event.offset
    if edge == "both":
        shift = min(max(seconds, -onset), duration - offset)
        return onset + shift, offset + shift
    if edge == "onset":
        return min(max(0.0, onset + seconds), offset), offset
    return onset, max(min(duration, offset + seconds), onset)
