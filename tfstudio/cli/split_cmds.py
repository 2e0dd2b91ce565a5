"""split: put the labelled recordings that have no split into train / val (/ test)."""

from __future__ import annotations

import argparse

from tfstudio.cli.common import UserError, emit_json, err, json_errors, open_project
from tfstudio.store import shown_names
from tfstudio.train.splits import DEFAULT_VAL, GROUPINGS, ORDER, assign_splits


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"a share is at least 0 and below 1, got {text}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "split",
        help="put labelled recordings without a split into train / val (/ test)",
        description="Choose a split for each recording that has labels but no split: val "
        "(and test) get their share of every class's labels where the recordings allow, "
        "train the rest, each split at least one recording. Splits already chosen are kept "
        "and count towards the shares; recordings without labels stay without a split.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument(
        "--val",
        type=_share,
        default=DEFAULT_VAL,
        metavar="SHARE",
        help=f"val's share (default {DEFAULT_VAL:g})",
    )
    p.add_argument(
        "--test", type=_share, default=0.0, metavar="SHARE", help="test's share (default 0)"
    )
    p.add_argument(
        "--group-by",
        choices=GROUPINGS,
        help="keep each folder's (a site's) or each day's recordings in one split, so val and "
        "test score the detector on sites or days it did not train on (default: none)",
    )
    p.add_argument(
        "--group-test-only",
        action="store_true",
        help="with --group-by and --test: whole groups to test only, val stratified among the "
        "other groups' recordings (validating on unheard sites stopped training early and "
        "cost detection quality on the real-sounds benchmark)",
    )
    p.add_argument("--seed", type=int, default=0, help="breaks ties (default 0)")
    p.add_argument("--dry-run", action="store_true", help="show the splits, change nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_split)


@json_errors
def cmd_split(args: argparse.Namespace) -> int:
    if args.val + args.test >= 1.0:
        raise UserError(f"--val {args.val:g} and --test {args.test:g} leave nothing to train on")
    if args.group_test_only and (args.group_by is None or args.test <= 0):
        raise UserError("--group-test-only needs --group-by and a --test share")
    with open_project(args.project) as project:
        names = shown_names(project.recordings())
        plan = assign_splits(
            project,
            val=args.val,
            test=args.test,
            seed=args.seed,
            apply=not args.dry_run,
            group_by=args.group_by,
            group_test_only=args.group_test_only,
        )
    for split, share in (("train", 1.0), ("val", args.val), ("test", args.test)):
        if share > 0 and not plan.recordings[split]:
            few = "labelled recordings" if args.group_by is None else f"{args.group_by}s"
            err(
                f"warning: the {split} split stays empty: too few {few} "
                "(training needs one in train and one in val)"
            )
    if args.json:
        emit_json(
            {
                "dry_run": args.dry_run,
                "group_by": args.group_by,
                "group_test_only": args.group_test_only,
                "assigned": [
                    {"id": i, "recording": names[i], "split": s} for i, s in plan.assigned.items()
                ],
                "splits": {
                    s: {
                        "recordings": plan.recordings[s],
                        "seconds": round(plan.seconds[s], 3),
                        "labels": plan.labels[s],
                    }
                    for s in ORDER
                },
            }
        )
        return 0
    if not plan.assigned:
        err("no labelled recording without a split: nothing to do")
    verb = "would put" if args.dry_run else "put"
    print(f"{verb} {len(plan.assigned)} recording(s) into a split")
    classes = sorted({c for s in ORDER for c in plan.labels[s]})
    width = max([10, *map(len, classes)])
    print(f"{'':<{width}} " + " ".join(f"{s:>7}" for s in ORDER))
    print(f"{'recordings':<{width}} " + " ".join(f"{plan.recordings[s]:>7}" for s in ORDER))
    print(f"{'minutes':<{width}} " + " ".join(f"{plan.seconds[s] / 60:>7.1f}" for s in ORDER))
    for name in classes:
        print(f"{name:<{width}} " + " ".join(f"{plan.labels[s][name]:>7}" for s in ORDER))
    return 0
