"""check: is the project sound? integrity, label counts, dead runs, missing audio, detections
of earlier audio, orphaned files."""

from __future__ import annotations

import argparse

from tfstudio.audio import content_hash
from tfstudio.cli.common import UserError, emit_json, err
from tfstudio.store import Project, ProjectError
from tfstudio.store.check import check_project

# Exit code when check leaves problems behind (0: nothing wrong, or all of it repaired).
EXIT_PROBLEMS = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check a project for damage and stale files; --repair fixes what is safe",
        description="Run SQLite's integrity check, compare the stored label counts (and the "
        "table and triggers that keep them) with the labels, find runs marked running whose "
        "process has ended, recordings whose audio is missing or changed, detections made from "
        "a recording's earlier audio (with the command that makes them again), cached "
        "features and posteriors of recordings no longer in the project, temporary files left by killed "
        "processes, and run folders the database does not know. With --repair, recount the "
        "labels (making the label_counts table and its triggers again when they are missing "
        "or altered), mark dead runs stopped, store the recordings' status, and delete the "
        "stale cache, posterior and temporary files; run folders, labels and the rest of the "
        "database are never deleted or rewritten. Exit status 0 when nothing is left to fix, "
        "1 when problems remain.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--repair", action="store_true", help="fix what is safe to fix")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    # Dead runs are check's to report (and to mark with --repair), not the open's.
    try:
        project = Project.open(args.project, mark_dead=False)
    except ProjectError as exc:
        raise UserError(str(exc)) from None
    with project:
        findings = check_project(project, repair=args.repair, digest=content_hash)
        read_only = project.read_only
    remaining = [f for f in findings if not f.repaired]
    if args.json:
        emit_json(
            {
                "project": args.project,
                "ok": not remaining,
                "read_only": read_only,
                "findings": [f.to_dict() for f in findings],
            }
        )
        return EXIT_PROBLEMS if remaining else 0
    for finding in findings:
        if finding.repaired:
            print(f"repaired  {finding.message}")
        else:
            print(f"{'problem':<9} {finding.message}")
    if args.repair and read_only:
        err("note: the project is read-only here, so nothing was repaired")
    fixable = sum(1 for f in remaining if f.repairable)
    if not findings:
        print(f"{args.project}: no problems found")
    elif not remaining:
        print(f"{args.project}: all {len(findings)} problem(s) repaired")
    else:
        hint = (
            f"; 'tfstudio check {args.project} --repair' fixes {fixable}"
            if fixable and not args.repair
            else ""
        )
        print(f"{args.project}: {len(remaining)} problem(s) left{hint}")
    return EXIT_PROBLEMS if remaining else 0
