"""review: list, accept, reject or reset a run's detections without the app.

What the review panel does, headless: the same store call (:func:`tfstudio.store.set_review`),
so an accepted detection becomes a label merged with the labels of its class it overlaps, a
rejected one is a negative the next training run learns from (``rejected_weight``), and each
command is one undoable step in the app's history. Detections are chosen by run, recording,
class, confidence and review state, or by id; without an action they are listed.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime
from typing import Any

from tfstudio.cli.common import (
    UserError,
    add_recording_option,
    chosen_recordings,
    emit_json,
    json_errors,
    open_project,
)
from tfstudio.session.review import chosen_events
from tfstudio.store import (
    REVIEW_STATES,
    Event,
    Project,
    ProjectError,
    Run,
    set_review,
    shown_names,
)
from tfstudio.store.recorded import clock_at, clock_text, parse_stored, stored_text
from tfstudio.train.config import TrainError
from tfstudio.train.layout import select_run

# The action's option -> the review state it sets, and the word for what was done.
ACTIONS = {"accept": "accepted", "reject": "rejected", "reset": "none"}
DONE = {"accept": "accepted", "reject": "rejected", "reset": "reset"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``review`` command to the parser."""
    p = sub.add_parser(
        "review",
        help="list, accept, reject or reset a run's detections",
        description="Choose detections of a run (the latest finished one unless --run) by "
        "recording, class, confidence and review state, or by id, and accept, reject or reset "
        "them as the app's review does (one undoable step; an accepted detection merges with "
        "the labels of its class it overlaps). Without an action they are listed. Accept and "
        "reject take only unreviewed detections unless --state says otherwise.",
    )
    p.add_argument("project", metavar="PROJECT")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--accept", action="store_true", help="accept them: they become labels")
    action.add_argument(
        "--reject", action="store_true", help="reject them: negatives for the next training run"
    )
    action.add_argument("--reset", action="store_true", help="make them unreviewed again")
    p.add_argument("--run", type=int, metavar="RUN", help="run (default: latest finished)")
    add_recording_option(p)
    p.add_argument(
        "--class", dest="classes", action="append", default=[], metavar="NAME",
        help="only this class (repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--min-confidence", type=float, metavar="X", help="only detections of confidence >= X"
    )
    p.add_argument(
        "--max-confidence", type=float, metavar="X", help="only detections of confidence < X"
    )
    p.add_argument(
        "--state",
        choices=(*REVIEW_STATES, "any"),
        help="only detections in this review state (default: none for --accept and --reject, "
        "any otherwise)",
    )
    p.add_argument(
        "--event",
        action="append",
        default=[],
        type=int,
        metavar="ID",
        help="only this detection (its event id, as listed; repeatable)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="say what an action would change, change nothing"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_review)


def _confidence(value: float | None, option: str) -> float | None:
    if value is not None and not (math.isfinite(value) and 0 <= value <= 1):
        raise UserError(f"{option} must be between 0 and 1")
    return value


def _run(project: Project, run_id: int | None) -> Run:
    """``train.layout.select_run`` (torch-free), its errors as the command's. Without
    ``--run`` the newest finished run, trained or imported (another detector's results, e.g.
    BirdNET's, are reviewed like the model's own), passing over an imported one whose
    detections were undone."""
    if run_id is None:
        latest = project.latest_reviewable_run()
        if latest is None:
            raise UserError(
                "no finished run with detections to review yet: run 'tfstudio train' and "
                "'tfstudio detect', or import another detector's results with 'tfstudio import'"
            )
        return latest
    try:
        return select_run(project, run_id)
    except TrainError as exc:
        raise UserError(f"--run {run_id}: {exc}") from None


def _class_ids(project: Project, names: list[str]) -> set[int] | None:
    if not names:
        return None
    ids = set()
    for name in names:
        cls = project.class_by_name(name)
        if cls is None:
            known = ", ".join(c.name for c in project.classes())
            raise UserError(f"--class {name!r}: no such class (the project's: {known})")
        ids.add(cls.id)
    return ids


def chosen_detections(project: Project, run: Run, args: argparse.Namespace) -> list[Event]:
    """The run's detections that every given filter lets through, recording by recording
    (in import order), each in time order."""
    low = _confidence(args.min_confidence, "--min-confidence")
    high = _confidence(args.max_confidence, "--max-confidence")
    recordings = [r.id for r in chosen_recordings(project, args.recording)] or None
    classes = _class_ids(project, args.classes)
    acting = args.accept or args.reject
    state = args.state or ("none" if acting else "any")
    scopes: list[int | None] = list(recordings) if recordings else [None]
    events = [e for rec in scopes for e in project.events(rec, source="model", run_id=run.id)]
    wanted = set(args.event)
    if wanted:
        found = {e.id for e in events}
        missing = sorted(wanted - found)
        if missing:
            raise UserError(
                f"--event {missing[0]}: not a detection of run {run.id}"
                + (" on the chosen recordings" if recordings else "")
            )
    return [
        e
        for e in chosen_events(events, classes=classes, state=state)
        if (not wanted or e.id in wanted)
        # A detection without a confidence passes no confidence bound.
        and (low is None or (e.confidence is not None and e.confidence >= low))
        and (high is None or (e.confidence is not None and e.confidence < high))
    ]


def _row(
    event: Event, names: dict[int, str], recs: dict[int, str], starts: dict[int, datetime]
) -> dict[str, Any]:
    start = starts.get(event.recording_id)
    return {
        "id": event.id,
        "recording": recs[event.recording_id],
        "class": names.get(event.class_id, str(event.class_id)),
        "onset": round(event.onset, 4),
        "offset": round(event.offset, 4),
        # When it began on the recorder's clock, where the recording's start is known.
        "clock": None if start is None else stored_text(clock_at(start, event.onset, 3)),
        "confidence": None if event.confidence is None else round(event.confidence, 4),
        "review": event.review,
    }


@json_errors
def cmd_review(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        run = _run(project, args.run)
        names = {c.id: c.name for c in project.classes()}
        recordings = project.recordings()
        recs = shown_names(recordings)
        starts = {
            r.id: start for r in recordings if (start := parse_stored(r.recorded_at)) is not None
        }
        verb = next((name for name in ACTIONS if getattr(args, name)), None)
        changed = 0
        if verb is None or args.dry_run:
            chosen = chosen_detections(project, run, args)
        else:
            # Chosen under the write lock: another review (the window, a second command)
            # between choosing and deciding would otherwise be overridden by this one.
            try:
                with project.write():
                    chosen = chosen_detections(project, run, args)
                    if chosen:
                        changed = set_review(
                            project,
                            [e.id for e in chosen],
                            ACTIONS[verb],
                            description=f"{verb} {len(chosen)} detection(s) (tfstudio review)",
                        )
            except ProjectError as exc:
                raise UserError(str(exc)) from None
        rows = [_row(e, names, recs, starts) for e in chosen]
    by_id = {e.id: e.recording_id for e in chosen}
    result: dict[str, Any] = {
        "run": run.id,
        "action": verb,
        "dry_run": bool(args.dry_run),
        "selected": len(chosen),
        "changed": changed,
        "detections": rows,
    }
    if args.json:
        emit_json(result)
        return 0
    if verb is None or args.dry_run:
        for r in rows:
            conf = "" if r["confidence"] is None else f"{r['confidence']:.3f}"
            start = starts.get(by_id[r["id"]])
            clock = (
                ""
                if start is None
                else f" ({clock_text(start, r['onset'], decimals=1, zone=False)})"
            )
            print(
                f"{r['id']:>7}  {r['recording']}  {r['class']}  {r['onset']:.3f}-{r['offset']:.3f} s"
                f"{clock}  {conf}  {r['review']}"
            )
    if verb is None:
        print(f"run {run.id}: {len(rows)} detection(s)")
    elif args.dry_run:
        print(f"run {run.id}: would {verb} {len(rows)} detection(s) (dry run: nothing changed)")
    else:
        print(f"run {run.id}: {DONE[verb]} {changed} detection(s)")
    return 0
