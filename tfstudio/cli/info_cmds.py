"""info: what a project holds, and its runs with their status."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from tfstudio.cli.common import emit_json, err, open_project
from tfstudio.importer import one_line
from tfstudio.store.recorded import clock_text, parse_stored


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="summarise a project",
        description="Recordings, duration, events per class, splits, and each run with its "
        "status. Reading only: it does not wait for an import or a training run to finish.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_info)


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def print_info(summary: dict[str, Any]) -> None:
    print(f"project     {summary['project']}")
    print(f"recordings  {summary['recordings']}  ({summary['duration_s'] / 60:.1f} min)")
    recorded = summary["recorded"]
    if recorded["dated"]:
        first, last = (clock_text(parse_stored(recorded[k])) for k in ("first", "last"))  # type: ignore[arg-type]
        span = first if first == last else f"{first} – {last}"
        print(f"recorded    {span}  ({recorded['dated']} of {summary['recordings']} dated)")
    print("splits      " + ", ".join(f"{k} {v}" for k, v in summary["splits"].items()))
    if summary.get("labelled_without_split"):
        print(
            f"            {summary['labelled_without_split']} labelled recording(s) without a "
            "split: 'tfstudio split' puts them into train / val"
        )
    print(f"labels      {summary['events']}")
    for name, count in summary["classes"].items():
        print(f"  {name:<24} {count}")
    print(f"detections  {summary['detections']}")
    print(f"runs        {summary['runs']}")
    for run in summary.get("run_list", []):
        # A run named after an imported file may hold a line break: one run, one line.
        name = one_line(run["name"])
        line = f"  {run['id']:>3}  {run['status']:<8} {_when(run['started_at']):<16}  {name}"
        if run["message"]:
            line += f"  ({one_line(run['message'])})"
        print(line.rstrip())


def cmd_info(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        summary = project.summary()
        # Labelled but in no split: training does not see them ('tfstudio split').
        labelled = project.label_totals()
        summary["labelled_without_split"] = sum(
            1 for r in project.recordings() if r.split is None and r.id in labelled
        )
        # Reading only: the recordings' status is stored by the app and 'tfstudio check'.
        problems = project.check_files(record=False)
        read_only = project.read_only
    summary["missing"] = [line for _, line in problems]
    summary["read_only"] = read_only
    if args.json:
        emit_json(summary)
    else:
        print_info(summary)
        if read_only:
            err("note: the project is read-only here (viewing and export only)")
        for line in summary["missing"]:
            err(f"warning: recording {line}")
    return 0
