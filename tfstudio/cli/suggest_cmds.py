"""suggest: which recordings to label next, the ones a run's model is least sure about.

The run's model detects on the candidates first (reusing the posteriors it saved before, so a
second ``suggest`` costs only the reading), which also leaves its detections there to review;
then :mod:`tfstudio.session.suggest` ranks them by its uncertainty.
"""

from __future__ import annotations

import argparse
import sys

from tfstudio.cli.common import (
    EXIT_SKIPPED,
    UserError,
    add_recording_option,
    chosen_recordings,
    emit_json,
    err,
    json_errors,
    open_project,
    progress,
)
from tfstudio.cli.compute import prepare_compute_process
from tfstudio.store import SPLITS as STORE_SPLITS
from tfstudio.store import Project, Recording, shown_names
from tfstudio.train.config import DEVICES


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``suggest`` command to the parser."""
    p = sub.add_parser(
        "suggest",
        help="which recordings to label next (where the model is least sure)",
        description="Rank recordings by how unsure a run's model (the latest finished run "
        "unless --run) is about them: the mean over frames of how near the most uncertain "
        "class's posterior lies to its threshold (1: on it, 0: sure either way). Candidates "
        "are the recordings without labels outside the test split, or those --split or "
        "--recording name. The model detects on them first (reusing posteriors it saved "
        "before), so their detections are ready to review. Label the first few, train again.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--run", type=int, metavar="RUN", help="run to use (default: latest finished)")
    p.add_argument(
        "--count", "-n", type=int, default=10, metavar="N",
        help="how many to list (default 10; 0: all)",
    )  # fmt: skip
    p.add_argument(
        "--split",
        choices=(*STORE_SPLITS, "none"),
        help="only unlabelled recordings of this split ('none': in no split, as imported "
        "recordings are)",
    )
    add_recording_option(p)
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_suggest)


def _candidates(project: Project, split: str | None) -> list[Recording]:
    """Recordings without labels, of ``split`` ("none": in no split) or, without one, of any
    split but test (labels there score the model, they do not teach it)."""
    recordings = project.recordings()
    if split is None:
        recordings = [r for r in recordings if r.split != "test"]
    else:
        recordings = [r for r in recordings if r.split == (None if split == "none" else split)]
    labelled = project.label_totals([r.id for r in recordings])
    return [r for r in recordings if r.id not in labelled]


@json_errors
def cmd_suggest(args: argparse.Namespace) -> int:
    prepare_compute_process()
    from tfstudio.audio import content_hash
    from tfstudio.session.detections import RunInfo
    from tfstudio.session.suggest import rank_by_uncertainty
    from tfstudio.train import TrainError, detect_recordings
    from tfstudio.train.layout import select_run

    if args.count < 0:
        raise UserError("--count must be 0 (all) or more")
    if args.recording and args.split is not None:
        raise UserError("give only one of --recording and --split")
    with open_project(args.project) as project:
        try:
            run = select_run(project, args.run)
        except TrainError as exc:
            raise UserError(str(exc)) from None
        names = shown_names(project.recordings())
        if args.recording:
            candidates = chosen_recordings(project, args.recording)
            what = "recordings given"
        else:
            candidates = _candidates(project, args.split)
            what = "unlabelled recordings"
            if args.split == "none":
                what += " in no split"
            elif args.split is not None:
                what += f" in the {args.split} split"
        gone = {
            rec.id: why
            for rec, why in project.check_files(record=not project.read_only, digest=content_hash)
        }
        skipped = [f"{names[r.id]}: {gone[r.id]}" for r in candidates if r.id in gone]
        for line in skipped:
            err(f"skipped {line}")
        candidates = [r for r in candidates if r.id not in gone and r.status == "ok"]
        if not candidates:
            raise UserError(f"no {what} to rank")
        bar = progress(len(candidates), "detecting", quiet=args.quiet or args.json, unit="rec")
        try:
            report = detect_recordings(
                project,
                candidates,
                run_id=run.id,
                device=args.device,
                progress=lambda done, total, rec: bar.update(done - bar.n),
            )
        except TrainError as exc:
            raise UserError(str(exc)) from None
        finally:
            bar.close()
        skipped.extend(report.left_out)
        for line in report.left_out:
            err(f"skipped {line}")
        info = RunInfo.from_run(project, run)
        if info is None:
            raise UserError(f"run {run.id}'s configuration cannot be read")
        ranked = rank_by_uncertainty(project, info, candidates)
    shown = ranked[: args.count] if args.count else ranked
    rows = [
        {
            "recording": names.get(s.recording.id, s.recording.name),
            "id": s.recording.id,
            "uncertainty": round(s.uncertainty, 4),
            "peak_s": round(s.peak_s, 2),
            "detections": report.per_recording.get(names.get(s.recording.id, s.recording.name), 0),
        }
        for s in shown
    ]
    code = EXIT_SKIPPED if skipped else 0
    if args.json:
        emit_json(
            {"run": run.id, "candidates": len(ranked), "suggestions": rows, "skipped": skipped}
        )
        return code
    if not rows:
        print(f"run {run.id}: no posteriors for the {what}", file=sys.stderr)
        return code
    width = max(len(r["recording"]) for r in rows)
    print(
        f"run {run.id}: the {len(rows)} of {len(ranked)} {what} it is least sure about, "
        "most uncertain first (label these next):"
    )
    for i, r in enumerate(rows, 1):
        print(
            f"{i:>4}. {r['recording']:<{width}}  uncertainty {r['uncertainty']:.3f}  "
            f"{r['detections']} detection(s)  most unsure at {r['peak_s']:.1f} s"
        )
    return code
