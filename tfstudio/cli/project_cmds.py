"""init, demo, import, export (info is in info_cmds)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfstudio.cli.common import OpenGui, UserError, bar_step, err, open_project, progress
from tfstudio.cli.info_cmds import print_info
from tfstudio.formats import FORMATS
from tfstudio.importer import (
    ImportReport,
    create_demo,
    import_audio,
    import_labels,
    label_files,
)
from tfstudio.store import SPLITS, Project, ProjectError

# Exit code when an import kept going past bad files or lines.
EXIT_SKIPPED = 3


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
        help="label format (guessed from the file when omitted)",
    )
    p.add_argument("--split", choices=SPLITS, help="split for the imported recordings")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "export",
        help="export labels or detections",
        description="Write labels or detections. DCASE and JSON write one file; Audacity, "
        "Raven and TextGrid write a folder with one file per recording.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--format", required=True, choices=sorted(FORMATS))
    p.add_argument("--source", choices=("labels", "detections"), default="labels")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file or folder (default: PROJECT/exports/...; '-' for stdout with dcase/json)",
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
    p.set_defaults(func=cmd_export)


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
    bar = progress(args.recordings, "generating", unit="rec")
    try:
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


def cmd_import(args: argparse.Namespace) -> int:
    if not args.paths and not args.labels:
        raise UserError("nothing to import: give audio PATHs and/or --labels FILE")
    with open_project(args.project) as project:
        report = ImportReport()
        if args.paths:
            bar = progress(None, "audio", quiet=args.quiet, unit="file")
            import_audio(
                project, args.paths, split=args.split, progress=bar_step(bar), report=report
            )
            bar.close()
        if args.labels:
            files = label_files(args.labels, report)
            bar = progress(len(files), "labels", quiet=args.quiet, unit="file")
            import_labels(project, files, fmt=args.format, progress=bar_step(bar), report=report)
            bar.close()
        for line in report.skipped:
            err(f"skipped {line}")
        for line in report.label_issues:
            err(line)
        for line in report.warnings:
            err(f"warning: {line}")
        print(report.summary())
        return 0 if report.ok else EXIT_SKIPPED


def cmd_export(args: argparse.Namespace) -> int:
    from tfstudio.exporter import (
        ExportRefused,
        default_output,
        export_labels,
        project_events,
        to_label_events,
    )

    with open_project(args.project) as project:
        module = FORMATS[args.format]
        if args.output == "-":
            if module.PER_RECORDING:
                raise UserError(f"{args.format} writes one file per recording; give -o FOLDER")
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                try:
                    path = export_labels(
                        project, args.format, Path(tmp) / f"out{module.SUFFIX}", source=args.source
                    )[0]
                except ValueError as exc:
                    raise UserError(str(exc)) from None
                sys.stdout.write(path.read_text(encoding="utf-8"))
            return 0
        skipped: list[str] = []
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
            )
        except ExportRefused as exc:
            raise UserError(
                f"{exc}; add --force to replace it" if exc.exists else str(exc)
            ) from None
        except ValueError as exc:
            raise UserError(f"{exc}; nothing was written") from None
        except OSError as exc:
            where = exc.filename or args.output
            raise UserError(f"cannot write {where}: {exc.strerror or exc}") from None
        for line in skipped:
            err(f"skipped {line}")
        n = len(to_label_events(project, project_events(project, args.source)))
        where = written[0] if not module.PER_RECORDING else out
        print(
            f"wrote {n} {args.source} event(s) in {args.format} format to {where}"
            + (f" ({len(written)} files)" if module.PER_RECORDING else "")
        )
        return 0
