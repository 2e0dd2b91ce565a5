"""Writing a project's labels or detections in any supported format (CLI and GUI)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

from tfstudio.formats import LabelEvent, get_format
from tfstudio.store import Event, Project

SOURCES = ("labels", "detections")


def project_events(project: Project, source: str = "labels") -> list[Event]:
    """Labels (human + accepted detections) or detections (model events not rejected)."""
    if source == "labels":
        return project.labels()
    if source == "detections":
        return [e for e in project.events(source="model") if e.review != "rejected"]
    raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")


def to_label_events(project: Project, events: list[Event]) -> list[LabelEvent]:
    names = {r.id: r.name for r in project.recordings()}
    classes = {c.id: c.name for c in project.classes()}
    return [
        LabelEvent(
            recording=names[e.recording_id],
            onset=e.onset,
            offset=e.offset,
            label=classes[e.class_id],
            low_hz=e.low_hz,
            high_hz=e.high_hz,
            source=e.source,
            confidence=e.confidence,
            review=e.review,
        )
        for e in events
    ]


def default_output(project: Project, fmt: str, source: str) -> Path:
    module = get_format(fmt)
    base = project.root / "exports"
    if module.PER_RECORDING:
        return base / f"{source}-{fmt}"
    return base / f"{source}{module.SUFFIX}"


def export_labels(
    project: Project,
    fmt: str,
    out: Path | str | None = None,
    *,
    source: str = "labels",
    skipped: list[str] | None = None,
) -> list[Path]:
    """Write events; per-recording formats make a folder ``out`` with one file per recording
    (named ``<stem><suffix>``, empty recordings included), the others one file ``out``.
    Events a format cannot carry are described in ``skipped`` when a list is given."""
    module = get_format(fmt)
    out = Path(out) if out is not None else default_output(project, fmt, source)
    events = to_label_events(project, project_events(project, source))
    if not module.PER_RECORDING:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "json":
            classes = [
                {"name": c.name, "color": c.color, "hotkey": c.hotkey} for c in project.classes()
            ]
            module.write(events, out, classes=classes)
        else:
            module.write(events, out)
        return [out]
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: {fmt} writes one file per recording; give a folder, not a file")
    out.mkdir(parents=True, exist_ok=True)
    per_recording: dict[str, list[LabelEvent]] = defaultdict(list)
    for event in events:
        per_recording[event.recording].append(dataclasses.replace(event, recording=""))
    written = []
    for rec in project.recordings():
        path = out / f"{rec.stem}{module.SUFFIX}"
        rec_events = per_recording.get(rec.name, [])
        if fmt == "textgrid":
            # A Praat interval cannot be empty: such events are left out, and said so.
            kept = [e for e in rec_events if e.offset > e.onset]
            if skipped is not None:
                skipped.extend(
                    f"{rec.name}: zero-length {e.label!r} event at {e.onset} s cannot be "
                    "written to a TextGrid"
                    for e in rec_events
                    if e.offset <= e.onset
                )
            rec_events = kept
        module.write(rec_events, path, duration=rec.duration)
        written.append(path)
    return written
