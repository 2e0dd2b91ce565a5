"""Bringing audio and labels into a project: the one implementation behind CLI and GUI."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tfstudio.audio import AudioError, probe, scan
from tfstudio.formats import (
    FormatError,
    check_class_name,
    get_format,
    guess_format,
    match_recording,
)
from tfstudio.formats.base import read_text
from tfstudio.store import EventImport, Project, ProjectError, Recording

Progress = Callable[[int, int], None]

# Labels ending this far past a recording's end are reported (rounding in other tools is fine).
END_TOLERANCE_S = 0.05


@dataclass
class ImportReport:
    """What an import did; ``skipped``/``label_issues`` hold one readable line per problem."""

    added: int = 0
    existing: int = 0
    moved: int = 0
    skipped: list[str] = field(default_factory=list)
    recording_ids: list[int] = field(default_factory=list)
    label_files: int = 0
    labels_added: int = 0
    labels_existing: int = 0
    classes_added: list[str] = field(default_factory=list)
    label_issues: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was skipped (the CLI's exit code follows this)."""
        return not self.skipped and not self.label_issues

    def summary(self) -> str:
        parts = []
        if self.added or self.existing or self.moved or self.skipped:
            parts.append(
                f"recordings: {self.added} added, {self.existing} already present, "
                f"{self.moved} moved, {len(self.skipped)} skipped"
            )
        if self.label_files or self.label_issues:
            parts.append(
                f"labels: {self.labels_added} added, {self.labels_existing} already present "
                f"from {self.label_files} file(s), {len(self.label_issues)} problem(s)"
            )
        if self.classes_added:
            parts.append("new classes: " + ", ".join(self.classes_added))
        return "\n".join(parts) if parts else "nothing to import"


def shown(text: os.PathLike[str] | str) -> str:
    """A path or message fit to print and store: bytes of a file name that are not UTF-8
    (which Python carries as lone surrogates) are shown as ``\\xNN``."""
    return os.fspath(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _has_utf8_name(path: Path) -> bool:
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unreadable(path: Path) -> str | None:
    """Why a path given explicitly cannot even be looked at (e.g. a folder above it denies
    access), or None; a missing path is left for the reader to describe."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def _folder_error(report_to: list[str]) -> Callable[[Path, OSError], None]:
    def on_error(folder: Path, exc: OSError) -> None:
        report_to.append(
            f"{shown(folder)}: folder cannot be read ({exc.strerror or exc}); "
            "nothing in it was imported"
        )

    return on_error


def import_audio(
    project: Project,
    paths: Iterable[Path | str],
    *,
    split: str | None = None,
    progress: Progress | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Register audio files and folders (recursively); bad files, file names that are not
    UTF-8 and folders that cannot be read are reported, the rest kept."""
    report = report if report is not None else ImportReport()
    given = []
    for path in map(Path, paths):
        reason = _unreadable(path)
        if reason is None:
            given.append(path)
        else:
            report.skipped.append(f"{shown(path)}: {reason}")
    files = list(scan(given, on_error=_folder_error(report.skipped)))
    for done, path in enumerate(files, start=1):
        if not _has_utf8_name(path):
            # The project stores paths as UTF-8 text; such a name cannot be kept.
            report.skipped.append(f"{shown(path)}: the file name is not valid UTF-8; rename it")
        else:
            _add_audio(project, path, split, report)
        if progress:
            progress(done, len(files))
    return report


def _add_audio(project: Project, path: Path, split: str | None, report: ImportReport) -> None:
    try:
        info = probe(path)
    except AudioError as exc:
        report.skipped.append(f"{exc.path}: {exc.reason}")
    else:
        try:
            result = project.add_recording(**vars(info), split=split)
        except ProjectError as exc:
            report.skipped.append(f"{path}: {exc}")
        else:
            report.recording_ids.append(result.recording_id)
            if result.status == "added":
                report.added += 1
            elif result.status == "moved":
                report.moved += 1
                report.warnings.append(f"{path}: known recording found at a new path")
            else:
                report.existing += 1


def label_files(paths: Iterable[Path | str], report: ImportReport) -> list[Path]:
    """Label files from files and folders (recursively, hidden names skipped, sorted).

    A path that cannot be looked at, or a folder that cannot be listed, is reported in
    ``report.label_issues``; a missing file is kept for the import to report.
    """
    files: list[Path] = []
    on_error = _folder_error(report.label_issues)
    for path in map(Path, paths):
        reason = _unreadable(path)
        if reason is not None:
            report.label_issues.append(f"{shown(path)}: {reason}")
        elif path.is_dir():
            files.extend(_walk_labels(path, on_error))
        else:
            files.append(path)
    return files


def _walk_labels(folder: Path, on_error: Callable[[Path, OSError], None]) -> list[Path]:
    found: list[Path] = []
    for parent, folders, names in os.walk(
        folder, onerror=lambda exc: on_error(Path(exc.filename), exc)
    ):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        found.extend(Path(parent) / name for name in names if not name.startswith("."))
    return sorted(found)


def import_labels(
    project: Project,
    label_paths: Sequence[Path | str],
    *,
    fmt: str | None = None,
    progress: Progress | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Read label files and add their events, all files as one undoable step.

    Each file is checked on its own and kept or refused whole (its problems reported); the
    kept files' events and new classes are then added in one short transaction
    (:meth:`Project.import_events`), so other edits do not wait behind a long import.
    Files with a file-name column match recordings by name; per-recording files go to the
    recording with the longest stem S such that the label file's name starts with ``S.``.
    Importing the same labels twice adds nothing the second time, even two imports at once.
    """
    report = report if report is not None else ImportReport()
    paths = [Path(p) for p in label_paths]
    context = _LabelContext(project, report)
    if len(paths) == 1:
        description = f"import {shown(paths[0].name)}"
    else:
        description = f"import {len(paths)} label files"
    try:
        with project.import_events(description) as batch:
            context.batch = batch
            for done, path in enumerate(paths, start=1):
                report.label_files += 1
                _import_label_file(context, path, fmt)
                if progress:
                    progress(done, len(paths))
    except ProjectError as exc:
        report.label_issues.append(f"no labels were imported: {exc}")
    else:
        assert batch.result is not None
        report.labels_added += len(batch.result.ids)
        report.labels_existing += batch.result.existing
        report.classes_added.extend(batch.classes_added)
    # A label file's name need not be UTF-8 (it is never stored), but messages must print.
    report.label_issues[:] = map(shown, report.label_issues)
    report.warnings[:] = map(shown, report.warnings)
    return report


class _LabelContext:
    """One import's lookups, made once per name instead of once per event."""

    def __init__(self, project: Project, report: ImportReport):
        self.project = project
        self.report = report
        self.batch: EventImport | None = None
        self.by_stem = {r.stem: r for r in project.recordings()}
        self._recordings: dict[str, Recording | None] = {}
        self._class_ids: dict[str, int] = {}

    def recording(self, name: str) -> Recording | None:
        if name not in self._recordings:
            self._recordings[name] = self.project.find_recording(name)
        return self._recordings[name]

    def class_id(self, name: str, path: Path, meta: dict | None = None) -> int | None:
        """The class called ``name`` (made when the import commits if new); None (reported)
        for a name that cannot be a class name."""
        if name in self._class_ids:
            return self._class_ids[name]
        assert self.batch is not None
        try:
            checked = check_class_name(name)
        except ValueError as exc:
            self.report.label_issues.append(f"{path}: {exc}")
            return None
        class_id = self._class_ids[name] = self.batch.class_id(checked, meta)
        return class_id


def _import_label_file(context: _LabelContext, path: Path, fmt: str | None) -> None:
    report = context.report
    name = fmt or guess_format(path)
    if name is None:
        try:
            read_text(path, bad_lines={})  # a file that cannot be read says so first
        except FormatError as exc:
            report.label_issues.append(str(exc))
        else:
            report.label_issues.append(
                f"{path}: cannot tell the label format; name it with --format"
            )
        return
    try:
        module = get_format(name)
        result = module.read(path)
    except (FormatError, ValueError) as exc:
        report.label_issues.append(str(exc))
        return
    report.label_issues.extend(str(issue) for issue in result.issues)
    for meta in result.classes:
        if meta.get("name"):
            context.class_id(str(meta["name"]), path, meta)

    file_recording = None
    if any(not e.recording for e in result.events):
        stem = match_recording(path.name, context.by_stem)
        if stem is None:
            report.label_issues.append(
                f"{path}: no recording in the project matches this file's name "
                f"(expected e.g. '{path.name.split('.')[0]}.wav'; import the audio first)"
            )
        else:
            file_recording = context.by_stem[stem]

    unknown: Counter[str] = Counter()
    refused: set[str] = set()

    def rows() -> Iterator[dict]:
        for event in result.events:
            rec = file_recording if not event.recording else context.recording(event.recording)
            if rec is None:
                if event.recording:
                    unknown[event.recording] += 1
                continue
            if event.label in refused:
                continue
            class_id = context.class_id(event.label, path)
            if class_id is None:
                refused.add(event.label)
                continue
            if event.offset > rec.duration + END_TOLERANCE_S:
                report.warnings.append(
                    f"{path}: event {event.label!r} {event.onset}–{event.offset} s ends after "
                    f"{rec.name} ({rec.duration:.3f} s); kept as is"
                )
            yield dict(
                recording_id=rec.id,
                class_id=class_id,
                onset=event.onset,
                offset=event.offset,
                low_hz=event.low_hz,
                high_hz=event.high_hz,
                source=event.source,
                confidence=event.confidence,
                review=event.review,
            )

    assert context.batch is not None
    try:
        context.batch.add(rows())
    except ProjectError as exc:
        report.label_issues.append(f"{path}: {exc}")
    for recording, count in sorted(unknown.items()):
        report.label_issues.append(
            f"{path}: {count} event(s) for '{recording}', which is not in the project "
            "(import the audio first)"
        )


def create_demo(
    folder: Path | str,
    *,
    recordings: int = 20,
    seconds: float = 30.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> Project:
    """A ready project of generated polyphonic recordings with exact labels and splits."""
    from tfstudio.audio.demo import CLASSES, generate_demo

    folder = Path(folder)
    project = Project.create(folder)
    try:
        demo = generate_demo(
            folder / "audio",
            recordings=recordings,
            seconds=seconds,
            seed=seed,
            progress=progress,
        )
        for spec in CLASSES:
            project.ensure_class(spec.name, color=spec.color)
        class_ids = {c.name: c.id for c in project.classes()}
        with project.write():
            for rec in demo:
                info = probe(rec.path)
                rec_id = project.add_recording(**vars(info), split=rec.split).recording_id
                project.add_events(
                    [
                        dict(
                            recording_id=rec_id,
                            class_id=class_ids[e.label],
                            onset=e.onset,
                            offset=e.offset,
                            low_hz=e.low_hz,
                            high_hz=e.high_hz,
                        )
                        for e in rec.events
                    ],
                    description=f"demo labels {rec.path.name}",
                )
    except BaseException:
        project.close()
        raise
    return project
