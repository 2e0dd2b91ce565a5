"""init, demo, import, export, relink (info is in info_cmds)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfstudio.cli.common import (
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_SKIPPED,
    OpenGui,
    UserError,
    bar_step,
    emit_json,
    err,
    json_errors,
    open_project,
    progress,
)
from tfstudio.cli.info_cmds import print_info
from tfstudio.formats import FORMATS
from tfstudio.importer import (
    ImportReport,
    Problem,
    create_demo,
    import_audio,
    import_labels,
    label_files,
)
from tfstudio.relink import relink
from tfstudio.store import SPLITS, Project, ProjectError

# The formats whose reader takes --label-column (a column name, or soundevent's tag key).
LABEL_COLUMN_FORMATS = ("dcase", "raven", "soundevent", "birdnet", "kaleidoscope")
# What an export writes: one file (which can go to stdout) or a folder of one file per recording.
ONE_FILE_FORMATS = sorted(name for name, module in FORMATS.items() if not module.PER_RECORDING)
PER_RECORDING_FORMATS = sorted(name for name, module in FORMATS.items() if module.PER_RECORDING)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="create an empty project folder",
        description="Create an empty project in PROJECT (a folder).",
    )
    p.add_argument("project", metavar="PROJECT")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "demo",
        help="create a demo project of generated recordings with exact labels",
        description="Generate polyphonic recordings with exact labels (6 classes, up to 3 "
        "overlapping, varied background noise), split them train/val/test, and make a project.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument(
        "--recordings", type=int, default=20, metavar="N", help="number of recordings (default 20)"
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=30.0,
        metavar="S",
        help="length of each recording (default 30)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (default 0)")
    p.add_argument(
        "--task",
        choices=("multi-label", "single-label"),
        default="multi-label",
        help="multi-label: six classes, up to three at once (default); single-label: one "
        "sound at a time from a Zipf-distributed vocabulary of --classes types",
    )
    p.add_argument(
        "--classes",
        type=int,
        default=50,
        metavar="V",
        help="single-label: how many sound types (2 to 100000, default 50)",
    )
    p.add_argument("--open", action="store_true", help="open the project in the app afterwards")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "import",
        help="import recordings and/or labels",
        description="Import audio files and folders (recursively), and label files. "
        "With --labels and no PATH, imports labels only.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("paths", nargs="*", metavar="PATH", help="audio files or folders")
    p.add_argument(
        "--labels",
        action="append",
        default=[],
        metavar="FILE",
        help="label file or folder of label files (repeatable)",
    )
    p.add_argument(
        "--format",
        choices=sorted(FORMATS),
        help="label format (guessed from the file when omitted; soundevent is whombat's AOEF JSON)",
    )
    p.add_argument(
        "--label-column",
        metavar="NAME",
        help="the column that holds the labels in Raven, DCASE, BirdNET CSV and Kaleidoscope "
        "id.csv tables (any case; e.g. 'Scientific name'), or the tag key of the class in "
        "soundevent files (default: Annotation, Species, Common Name, … / event_label / Common "
        "name / MANUAL ID / label, species, …)",
    )
    p.add_argument("--split", choices=SPLITS, help="split for the imported recordings")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: counts, the run of imported detections, and every "
        "problem and warning as {path, line, reason, message}",
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "export",
        help="export labels or detections",
        description=f"Write labels or detections. {', '.join(ONE_FILE_FORMATS)} write one file "
        f"(or stdout: -o -); {', '.join(PER_RECORDING_FORMATS)} write a folder with one file per "
        "recording. Exit status 3 when events the format cannot hold were left out (a TextGrid "
        "spans its recording: an event starting after the recording's end has no place in it), "
        "each named on stderr with its recording and time.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--format", required=True, choices=sorted(FORMATS))
    p.add_argument("--source", choices=("labels", "detections"), default="labels")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file or folder (default: PROJECT/exports/...; '-' for stdout with "
        f"{', '.join(ONE_FILE_FORMATS)})",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing output file (or files of the same name in the output folder); "
        "the project's own files are never written over",
    )
    p.add_argument(
        "--textgrid-form",
        choices=("long", "short"),
        default="long",
        help="TextGrid text form (default long, as Praat saves; short for labels such as "
        "'intervals [1]' that TextGrid readers like praatio misread in the long form)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: the files written, the event count, and what was "
        "skipped or changed (or the error)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "relink",
        help="find recordings again after their files moved",
        description="Point the recordings at OLD (a file, or every recording under a folder) "
        "to the same place under NEW. A file is taken only when its bytes are the "
        "recording's (its content hash), so another take with the same name is refused. "
        "Labels, splits and runs stay as they are.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("old", metavar="OLD", help="where the files were (a file or a folder)")
    p.add_argument("new", metavar="NEW", help="where they are now")
    p.add_argument(
        "--missing-only",
        action="store_true",
        help="leave recordings whose file is still at the old place alone",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_relink)


def cmd_relink(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        try:
            report = relink(project, args.old, args.new, only_missing=args.missing_only)
        except ProjectError as exc:
            raise UserError(str(exc), EXIT_RUNTIME) from None
    if not report.matched:
        raise UserError(f"no recording of {args.project} is at or under {args.old}")
    problems = len(report.not_found) + len(report.different)
    code = EXIT_SKIPPED if problems else EXIT_OK
    if args.json:
        emit_json({"ok": not problems, "exit_code": code, **report.to_dict()})
        return code
    for rec, path in report.not_found:
        err(f"{rec.name}: not found at {path}")
    for rec, path, why in report.different:
        err(f"{rec.name}: {path}: {why}; not relinked")
    print(
        f"relinked {len(report.relinked)} recording(s)"
        + (f", {len(report.unchanged)} already there" if report.unchanged else "")
        + (f", {problems} not relinked" if problems else "")
    )
    return code


def cmd_init(args: argparse.Namespace) -> int:
    try:
        Project.create(args.project).close()
    except ProjectError as exc:
        raise UserError(str(exc)) from None
    print(f"created project {args.project}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.recordings < 1:
        raise UserError("--recordings must be at least 1")
    if args.seconds <= 0:
        raise UserError("--seconds must be positive")
    if args.task == "single-label" and not 2 <= args.classes <= 100_000:
        raise UserError("--classes must be between 2 and 100000")
    bar = progress(args.recordings, "generating", unit="rec")
    try:
        if args.task == "single-label":
            from tfstudio.train.demo_single import create_single_label_demo

            project = create_single_label_demo(
                args.project,
                classes=args.classes,
                recordings=args.recordings,
                seconds=args.seconds,
                seed=args.seed,
                progress=bar_step(bar),
            )
        else:
            project = create_demo(
                args.project,
                recordings=args.recordings,
                seconds=args.seconds,
                seed=args.seed,
                progress=bar_step(bar),
            )
    except ProjectError as exc:
        raise UserError(str(exc)) from None
    finally:
        bar.close()
    with project:
        print_info(project.summary())
    if args.open:
        raise OpenGui(args.project)
    return 0


@json_errors
def cmd_import(args: argparse.Namespace) -> int:
    if not args.paths and not args.labels:
        raise UserError("nothing to import: give audio PATHs and/or --labels FILE")
    if args.label_column is not None and not args.labels:
        raise UserError("--label-column names a column of label files: give --labels FILE")
    if args.label_column is not None and args.format not in (None, *LABEL_COLUMN_FORMATS):
        raise UserError(
            f"--label-column applies to {', '.join(LABEL_COLUMN_FORMATS)} files, not {args.format}"
        )
    quiet = args.quiet or args.json
    with open_project(args.project) as project:
        if project.read_only:
            # Once, before any file is read (audio said it for every file, exit 3; labels
            # once, exit 1): nothing can be imported.
            raise UserError(f"nothing was imported: {project.read_only_error()}", EXIT_RUNTIME)
        report = ImportReport()
        if args.paths:
            bar = progress(None, "audio", quiet=quiet, unit="file")
            import_audio(
                project, args.paths, split=args.split, progress=bar_step(bar), report=report
            )
            bar.close()
        if args.labels:
            files = label_files(args.labels, report, fmt=args.format)
            bar = progress(len(files), "labels", quiet=quiet, unit="file")
            import_labels(
                project,
                files,
                fmt=args.format,
                label_column=args.label_column,
                progress=bar_step(bar),
                report=report,
            )
            bar.close()
        code = 0 if report.ok else EXIT_SKIPPED
        if report.failed:
            code = EXIT_RUNTIME
        if args.json:
            emit_json({"project": str(args.project), **report.to_dict(), "exit_code": code})
            return code
        for line in report.skipped:
            err(f"skipped {line}")
        for line in report.label_issues:
            err(line)
        for line in report.warnings:
            err(f"warning: {line}")
        print(report.summary())
        return code


@json_errors
def cmd_export(args: argparse.Namespace) -> int:
    from tfstudio.exporter import (
        ExportRefused,
        count_project_events,
        default_output,
        export_labels,
    )

    if args.json and args.output == "-":
        raise UserError("--json prints a summary on stdout; give -o FILE for the export itself")
    with open_project(args.project) as project:
        module = FORMATS[args.format]
        if args.output == "-":
            if module.PER_RECORDING:
                raise UserError(
                    f"{args.format} writes one file per recording; give -o FOLDER (-o - takes "
                    f"{', '.join(ONE_FILE_FORMATS)})"
                )
            import tempfile

            skipped_here: list[str] = []
            warnings_here: list[str] = []
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    path = export_labels(
                        project,
                        args.format,
                        Path(tmp) / f"out{module.SUFFIX}",
                        source=args.source,
                        skipped=skipped_here,
                        warnings=warnings_here,
                    )[0]
                except ValueError as exc:
                    raise UserError(f"{exc}; nothing was written") from None
                import shutil

                # The file's own bytes (UTF-8, as every export writes them), not text in the
                # terminal's encoding: that one (cp1252 in a Windows console, ASCII under
                # LC_ALL=C) cannot write every label and would change the file's encoding.
                sys.stdout.flush()
                with path.open("rb") as written_file:
                    shutil.copyfileobj(written_file, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            for line in skipped_here:
                err(f"skipped {line}")
            for line in warnings_here:
                err(f"warning: {line}")
            return EXIT_SKIPPED if skipped_here else EXIT_OK
        skipped: list[str] = []
        warnings: list[str] = []
        out = (
            Path(args.output) if args.output else default_output(project, args.format, args.source)
        )
        try:
            written = export_labels(
                project,
                args.format,
                out,
                source=args.source,
                skipped=skipped,
                overwrite=args.force,
                textgrid_form=args.textgrid_form,
                warnings=warnings,
            )
        except ExportRefused as exc:
            raise UserError(
                f"{exc}; add --force to replace it" if exc.exists else str(exc)
            ) from None
        except ValueError as exc:
            raise UserError(f"{exc}; nothing was written") from None
        except OSError as exc:
            where = exc.filename or args.output
            raise UserError(
                f"cannot write {where}: {exc.strerror or exc}; nothing was written",
                exit_code=EXIT_RUNTIME,
            ) from None
        # Counted by SQLite: loading every event again took 59 s and 575 MB at 1 000 000.
        n = count_project_events(project, args.source, args.format)
        where = written[0] if not module.PER_RECORDING else out
        # Done, but not everything went out: the same exit as an import that skipped lines.
        code = EXIT_SKIPPED if skipped else EXIT_OK
        written_events = n - len(skipped)  # one line per event left out
        if args.json:
            emit_json(
                {
                    "project": str(args.project),
                    "ok": not skipped,
                    "format": args.format,
                    "source": args.source,
                    "output": str(where),
                    "files": [str(path) for path in written],
                    "events": written_events,
                    # Events the format cannot hold (one starting after its recording's end
                    # has no place in a TextGrid), left out, and events changed to fit it (cut
                    # at the end).
                    "skipped": [Problem(line).to_dict() for line in skipped],
                    "warnings": [Problem(line).to_dict() for line in warnings],
                    "exit_code": code,
                }
            )
            return code
        for line in skipped:
            err(f"skipped {line}")
        for line in warnings:
            err(f"warning: {line}")
        print(
            f"wrote {written_events} {args.source.rstrip('s')}(s) in {args.format} format to "
            f"{where}"
            + (
                f" ({len(written)} file{'' if len(written) == 1 else 's'})"
                if module.PER_RECORDING
                else ""
            )
            + (f", {len(skipped)} skipped" if skipped else "")
        )
        return code
