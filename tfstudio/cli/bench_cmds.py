"""``tfstudio bench …``: benchmarks that build what they measure and print numbers.

``bench`` is a group: each subject is a subcommand (``bench store`` here; training, detection
and spectrograms can join it), registered from :data:`SUBJECTS`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

from tfstudio.cli.common import UserError, emit_json, err

Register = Callable[[argparse._SubParsersAction], None]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure how fast tfstudio is on generated material",
        description="Benchmarks that build what they measure and print timings.",
    )
    subjects = p.add_subparsers(dest="subject", title="subjects", required=True)
    for register_subject in SUBJECTS:
        register_subject(subjects)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _register_store(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "store",
        help="import, open, query and export a generated project of a given size",
        description="Build a project of N recordings (tiny generated WAVs), M events and K "
        "classes, import the labels as 'tfstudio import --labels' does, and print import, "
        "open, query, edit/undo and export times and peak RSS.",
    )
    p.add_argument("--recordings", type=_positive, default=1_000, metavar="N")
    p.add_argument("--events", type=_positive, default=100_000, metavar="M")
    p.add_argument("--classes", type=_positive, default=30, metavar="K")
    p.add_argument(
        "--events-per-file",
        type=_positive,
        default=100_000,
        metavar="E",
        help="events per generated DCASE label file (default 100000)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--folder",
        metavar="DIR",
        help="build the project in DIR (new or empty) and keep it; default: a temporary folder",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=cmd_bench_store)


def cmd_bench_store(args: argparse.Namespace) -> int:
    from tfstudio.bench.store import StoreBenchConfig, run_store_bench

    config = StoreBenchConfig(
        recordings=args.recordings,
        events=args.events,
        classes=args.classes,
        events_per_file=args.events_per_file,
        seed=args.seed,
    )
    try:
        config.check()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    say = err if args.json else print
    if args.folder is None:
        with tempfile.TemporaryDirectory(prefix="tfstudio-bench-") as tmp:
            result = run_store_bench(config, Path(tmp), say=say)
    else:
        folder = Path(args.folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise UserError(f"{folder}: give a new or empty folder for the benchmark project")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{folder}: cannot create the folder ({exc.strerror})") from None
        result = run_store_bench(config, folder, say=say)
    if args.json:
        emit_json(result.as_dict())
    return 0


SUBJECTS: tuple[Register, ...] = (_register_store,)
