"""Review decisions on a run's detections: what accepting one does to the labels.

An accepted detection is a label (``LABEL_SQL``). Accepting one that overlaps labels of its
class on its recording must not add a second label for the same sound, so it merges with
them: the detection's row becomes one label spanning all of them, and the labels it absorbed
are removed, in one undoable step. The detection's row is the one kept because it carries the
decision: the run's repeat of it is never asked about again, and undo restores every row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from tfstudio.store.errors import ProjectError
from tfstudio.store.events import EDITABLE_EVENT_FIELDS
from tfstudio.store.project import Project
from tfstudio.store.records import Event
from tfstudio.store.schema import REVIEW_STATES


@dataclass(frozen=True)
class Extent:
    """Where an event lies: seconds, and Hz when it is a time–frequency box."""

    onset: float
    offset: float
    low_hz: float | None = None
    high_hz: float | None = None

    def as_changes(self) -> dict[str, Any]:
        return {
            "onset": self.onset,
            "offset": self.offset,
            "low_hz": self.low_hz,
            "high_hz": self.high_hz,
        }


@dataclass(frozen=True)
class Acceptance:
    """One accepted detection as stored now, and the labels merged into it (now gone)."""

    event: Event
    merged: tuple[Event, ...] = ()


def overlaps(a: Event, b: Event) -> bool:
    """True when two events share some time (touching ends do not count)."""
    return min(a.offset, b.offset) - max(a.onset, b.onset) > 1e-9


def merge_plan(detection: Event, labels: Iterable[Event]) -> tuple[Extent, list[Event]]:
    """The extent ``detection`` gets when accepted, and the labels it absorbs.

    It absorbs every label of its class on its recording that it overlaps; the result spans
    them all. A frequency box survives only when every part is a box (a detection without one
    covers the whole band, and so does their union).
    """
    absorbed = [
        label
        for label in labels
        if label.id != detection.id
        and label.recording_id == detection.recording_id
        and label.class_id == detection.class_id
        and overlaps(label, detection)
    ]
    parts = [detection, *absorbed]
    lows = [p.low_hz for p in parts]
    highs = [p.high_hz for p in parts]
    boxed = all(v is not None for v in (*lows, *highs))
    extent = Extent(
        onset=min(p.onset for p in parts),
        offset=max(p.offset for p in parts),
        low_hz=min(v for v in lows if v is not None) if boxed else None,
        high_hz=max(v for v in highs if v is not None) if boxed else None,
    )
    return extent, absorbed


def accept_detections(
    project: Project,
    event_ids: Iterable[int],
    *,
    description: str | None = None,
    **changes: Any,
) -> list[Acceptance]:
    """Accept detections (after applying ``changes``: moved edges, another class), each
    merging with the same-class labels it overlaps; all of it one undoable step."""
    ids = list(event_ids)
    unknown = set(changes) - (EDITABLE_EVENT_FIELDS - {"review", "source", "recording_id"})
    if unknown:
        raise ProjectError(f"cannot change event field(s): {', '.join(sorted(unknown))}")
    results: list[Acceptance] = []
    if not ids:
        return results
    with project.undo_group(description or f"accept {len(ids)} detection(s)"):
        for event_id in ids:
            event = project.event(event_id)
            if event.source != "model":
                raise ProjectError(f"event {event_id} is a label, not a detection")
            edited = replace(event, **changes) if changes else event
            extent, absorbed = merge_plan(edited, project.labels(event.recording_id))
            if absorbed:
                project.delete_events([a.id for a in absorbed], description="merge")
            update = {**changes, "review": "accepted"}
            if absorbed:
                update.update(extent.as_changes())
            accepted = project.update_event(event_id, **update)
            results.append(Acceptance(accepted, tuple(absorbed)))
    return results


def set_review(
    project: Project,
    event_ids: Iterable[int],
    state: str,
    *,
    description: str | None = None,
) -> int:
    """Accept, reject or reset (``none``) detections as one undoable step; accepting merges
    each with the labels of its class it overlaps (:func:`accept_detections`). Returns how
    many detections were reviewed (those already in ``state`` are left alone, except that
    accepting runs again: it may bring edits). The app's review and ``tfstudio review`` both
    come here."""
    if state not in REVIEW_STATES:
        raise ProjectError(f"review state {state!r}: one of {', '.join(REVIEW_STATES)}")
    ids = list(event_ids)
    if not ids:
        return 0
    if state == "accepted":
        return len(accept_detections(project, ids, description=description))
    verb = {"rejected": "reject", "none": "unreview"}[state]
    events = [project.event(event_id) for event_id in ids]
    for event in events:  # all checked before any is changed
        if event.source != "model":
            raise ProjectError(f"event {event.id} is a label, not a detection")
    # One in that state already is left alone: reviewing it again wrote an undo step that
    # changed nothing, and the next Ctrl+Z seemed to do nothing.
    ids = [event.id for event in events if event.review != state]
    if not ids:
        return 0
    with project.undo_group(description or f"{verb} {len(ids)} detection(s)"):
        for event_id in ids:
            event = project.event(event_id)
            changes: dict[str, Any] = {"review": state}
            if event.review == "accepted":
                changes.update(_unaccept(project, event_id))
            project.update_event(event_id, **changes)
    return len(ids)


def _unaccept(project: Project, event_id: int) -> dict[str, Any]:
    """Taking back an acceptance gives back what it took: the labels it merged with (deleted
    then) return, and the detection its own extent before it grew over them. Without this a
    reset or a reject of an accepted detection lost those labels for good (the command line
    has no undo). Returns the detection's changes."""
    before, merged = project.merged_into(event_id)
    if merged:
        project.restore_events(merged)
    if before is None or not merged:
        return {}
    return {k: before[k] for k in ("onset", "offset", "low_hz", "high_hz")}
