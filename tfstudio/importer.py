"""Bringing audio and labels into a project: the one implementation behind CLI and GUI."""

from __future__ import annotations

import contextlib
import os
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfstudio.audio import AUDIO_SUFFIXES, AudioError, probe, scan
from tfstudio.formats import (
    FormatError,
    LabelEvent,
    ParseIssue,
    check_class_name,
    get_format,
    guess_format,
    read_options,
)
from tfstudio.formats.base import read_text
from tfstudio.store import (
    AddResult,
    AmbiguousRecording,
    EventImport,
    Project,
    ProjectError,
    Recording,
    recording_names,
)
from tfstudio.store.check import redetect_command
from tfstudio.store.recorded import SOURCE_NAMES, clock_text, parse_stored

Progress = Callable[[int, int], None]

# Labels ending this far past a recording's end are reported (rounding in other tools is fine).
END_TOLERANCE_S = 0.05


class Problem(str):
    """One problem or warning: the readable line it prints as (``path:line: reason``), which
    also keeps its parts (``path``, ``line``, ``reason``) for ``--json``. Paths and reasons are
    :func:`shown`, so every line prints, and the line is one line: a path holding a line break
    or another control character is written as Python writes it (quoted, escaped), and such
    characters in the reason (from names it quotes) escaped."""

    path: str | None
    line: int | None
    reason: str

    def __new__(
        cls, reason: str, path: os.PathLike[str] | str | None = None, line: int | None = None
    ) -> Problem:
        where = None if path is None else shown(path)
        why = shown(reason)
        printed = None if where is None else where if one_line(where) == where else repr(where)
        if printed is None:
            text = one_line(why)
        elif line:
            text = f"{printed}:{line}: {one_line(why)}"
        else:
            text = f"{printed}: {one_line(why)}"
        self = super().__new__(cls, text)
        self.path, self.line, self.reason = where, line or None, why
        return self

    @classmethod
    def of(cls, item: ParseIssue | FormatError | AudioError | str) -> Problem:
        """A problem from a parse issue, a refused file or a plain line."""
        if isinstance(item, Problem):
            return item
        if isinstance(item, ParseIssue):
            return cls(item.reason, item.path, item.line)
        if isinstance(item, FormatError | AudioError):
            return cls(item.reason, item.path)
        return cls(str(item))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "reason": self.reason, "message": str(self)}


@dataclass
class ImportReport:
    """What an import did; ``skipped``/``label_issues``/``warnings`` hold one :class:`Problem`
    (a readable line, a ``str``) per problem. Label files that carry confidences (BirdNET and
    other detectors' output) go in as model detections of one run named "imported …",
    ``run_id``; ``detections_added`` of the ``labels_added`` are those."""

    added: int = 0
    existing: int = 0
    updated: int = 0
    """Of the ``existing``, those whose file changed since they were imported: updated."""
    moved: int = 0
    skipped: list[str] = field(default_factory=list)
    recording_ids: list[int] = field(default_factory=list)
    label_files: int = 0
    labels_added: int = 0
    labels_existing: int = 0
    classes_added: list[str] = field(default_factory=list)
    label_issues: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    detections_added: int = 0
    run_id: int | None = None
    run_name: str = ""
    failed: bool = False
    """True when the project refused the label import as a whole (locked, read-only)."""
    starts: list[tuple[str, str]] = field(default_factory=list)
    """When the recordings imported started (store.recorded) and where that was read, for
    those whose files say (``recorded_at``, ``recorded_at_source``)."""

    @property
    def ok(self) -> bool:
        """True when nothing was skipped (the CLI's exit code follows this)."""
        return not self.skipped and not self.label_issues

    def summary(self) -> str:
        parts = []
        if self.added or self.existing or self.moved or self.skipped:
            parts.append(
                f"recordings: {self.added} added, {self.existing} already present"
                + (f" ({self.updated} changed, updated)" if self.updated else "")
                + f", {self.moved} moved, {len(self.skipped)} skipped"
            )
        if self.starts:
            parts.append(self._starts_line())
        if self.label_files or self.label_issues:
            parts.append(
                f"labels: {self.labels_added - self.detections_added} added, "
                f"{self.labels_existing} already present from {self.label_files} file(s), "
                f"{len(self.label_issues)} problem(s)"
            )
        if self.run_id is not None:
            parts.append(
                f"detections: {self.detections_added} added to run {self.run_id} "
                f"({self.run_name!r}), to review as the model's own"
            )
        if self.classes_added:
            parts.append("new classes: " + ", ".join(self.classes_added))
        return "\n".join(parts) if parts else "nothing to import"

    def _starts_line(self) -> str:
        """``recorded: 2024-05-01 05:00:00 – 2024-05-01 06:00:00 (4 of 4 dated: 2 by AudioMoth
        comment, 2 by file name)``: when the imported recordings were made, so a user sees at
        once whether their times were read."""
        texts = sorted(text for text, _ in self.starts)
        first, last = (clock_text(parse_stored(t)) for t in (texts[0], texts[-1]))  # type: ignore[arg-type]
        span = first if first == last else f"{first} – {last}"
        sources = Counter(source for _, source in self.starts)
        # Most first; a tie in the sources' order, the best first.
        order = sorted(sources.items(), key=lambda kn: (-kn[1], list(SOURCE_NAMES).index(kn[0])))
        said = ", ".join(f"{n} by {SOURCE_NAMES[k]}" for k, n in order)
        total = len(self.recording_ids)
        return f"recorded: {span} ({len(self.starts)} of {total} dated: {said})"

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain data (``tfstudio import --json``): counts, and each problem as
        ``{path, line, reason, message}``."""
        return {
            "ok": self.ok,
            "failed": self.failed,
            "recordings": {
                "added": self.added,
                "existing": self.existing,
                "updated": self.updated,
                "moved": self.moved,
                "skipped": len(self.skipped),
                "ids": list(self.recording_ids),
                # Those whose files say when they started (see tfstudio.store.recorded).
                "dated": len(self.starts),
            },
            "labels": {
                "files": self.label_files,
                "added": self.labels_added - self.detections_added,
                "existing": self.labels_existing,
            },
            "detections": {
                "added": self.detections_added,
                "run": self.run_id,
                "run_name": self.run_name or None,
            },
            "classes_added": list(self.classes_added),
            "skipped": [Problem.of(p).to_dict() for p in self.skipped],
            "problems": [Problem.of(p).to_dict() for p in self.label_issues],
            "warnings": [Problem.of(p).to_dict() for p in self.warnings],
        }


def shown(text: os.PathLike[str] | str) -> str:
    """A path or message fit to print and store: bytes of a file name that are not UTF-8
    (which Python carries as lone surrogates) are shown as ``\\xNN``."""
    return os.fspath(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# What breaks a printed line or hides text: control characters and the line and paragraph
# separators (other characters that are not printable, such as Persian's zero-width
# non-joiner, belong in names).
_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})


def one_line(text: str) -> str:
    """``text`` with each control character and line separator escaped as Python writes it
    (``\\n``, ``\\x1b``, ``\\u2028``), so that it prints as one line."""
    if text.isprintable():
        return text  # the common case, at C speed
    return "".join(
        repr(char)[1:-1] if unicodedata.category(char) in _LINE_BREAKING else char for char in text
    )


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
            Problem(
                f"folder cannot be read ({exc.strerror or exc}); nothing in it was imported",
                folder,
            )
        )

    return on_error


def import_audio(
    project: Project,
    paths: Iterable[Path | str],
    *,
    split: str | None = None,
    progress: Progress | None = None,
    report: ImportReport | None = None,
    empty_folders: bool = True,
) -> ImportReport:
    """Register audio files and folders (recursively); bad files, file names that are not
    UTF-8 and folders that cannot be read are reported, the rest kept, and, with
    ``empty_folders``, a folder without audio."""
    report = report if report is not None else ImportReport()
    given = []
    for path in map(Path, paths):
        reason = _unreadable(path)
        if reason is None:
            given.append(path)
        else:
            report.skipped.append(Problem(reason, path))
    files = list(scan(given, on_error=_folder_error(report.skipped)))
    if empty_folders:
        for folder in given:
            if folder.is_dir() and not any(folder in f.parents for f in files):
                report.skipped.append(Problem(_no_audio_in(folder), folder))
    for done, path in enumerate(files, start=1):
        if not _has_utf8_name(path):
            # The project stores paths as UTF-8 text; such a name cannot be kept.
            report.skipped.append(Problem("the file name is not valid UTF-8; rename it", path))
        else:
            _add_audio(project, path, split, report)
        if progress:
            progress(done, len(files))
    return report


def import_paths(
    project: Project,
    paths: Iterable[Path | str],
    *,
    audio: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Audio and labels from a mix of files and folders, as dropped on the app's window: the
    audio files, and the audio in the folders (recursively), first, so that labels find
    their recordings; then the other files given (each a label file, or a problem saying why
    not) and the label files in the folders (:func:`label_files`: BirdNET and Raven users
    keep their tables beside their audio). Without ``audio`` only the labels. A folder with
    neither audio nor label files is a reported skip."""
    report = ImportReport()
    given = [Path(p) for p in paths]
    folders = [p for p in given if p.is_dir()]
    sounds = [p for p in given if not p.is_dir() and p.suffix.lower() in AUDIO_SUFFIXES]
    if audio and (sounds or folders):
        import_audio(
            project, [*sounds, *folders], progress=progress, report=report, empty_folders=False
        )
    labels = label_files([p for p in given if p not in sounds], report)
    for folder in folders:
        if not any(folder in f.parents for f in labels) and (
            not audio or next(iter(scan([folder])), None) is None
        ):
            if audio:
                report.skipped.append(Problem("no audio or label files in this folder", folder))
            else:
                report.label_issues.append(Problem("no label files in this folder", folder))
    if labels:
        import_labels(project, labels, progress=progress, report=report)
    return report


def _no_audio_in(folder: Path) -> str:
    """Why a folder given as audio added nothing: no audio in it; with how many label files
    it holds, which ``--labels`` takes (a user who gave the labels folder as audio)."""
    labels = sum(_looks_like_labels(path) for path in _walk_labels(folder, lambda *_: None)[:1000])
    if labels:
        return f"no audio files in this folder, but {labels} label file(s): give it with --labels"
    return "no audio files in this folder (.wav, .flac, .mp3, .ogg or another kind soundfile reads)"


def _looks_like_labels(path: Path) -> bool:
    """Whether a file given as audio is one of the label formats (by name or content)."""
    try:
        return guess_format(path) is not None
    except (OSError, ValueError):
        return False


def _add_audio(project: Project, path: Path, split: str | None, report: ImportReport) -> None:
    try:
        info = probe(path)
    except AudioError as exc:
        problem = Problem.of(exc)
        if exc.kind == "not_audio" and _looks_like_labels(path):
            # `tfstudio import P folder labels.tsv`: the labels were meant, not audio.
            problem = Problem(f"{exc.reason}; a label file? give it with --labels", path)
        report.skipped.append(problem)
    else:
        try:
            result = project.add_recording(**vars(info), split=split)
        except ProjectError as exc:
            report.skipped.append(Problem(str(exc), path))
        else:
            report.recording_ids.append(result.recording_id)
            if info.recorded_at is not None:
                report.starts.append((info.recorded_at, info.recorded_at_source or ""))
            if result.status == "added":
                report.added += 1
            elif result.status == "moved":
                report.moved += 1
                report.warnings.append(Problem("known recording found at a new path", path))
            else:
                report.existing += 1
                if result.status == "changed":
                    report.updated += 1
                    report.warnings.append(_changed(project, result, info.duration, path))


def _changed(project: Project, result: AddResult, duration: float, path: Path) -> Problem:
    """What importing a recording's file again after its content changed did: its labels are
    kept; its detections, made from the old audio, are said to be so, with the command that
    makes them again (the new content hash finds no saved posteriors: the model runs again)."""
    before = result.previous_duration
    length = (
        f"{before:.3f} s, now {duration:.3f} s"
        if before is not None and abs(before - duration) > 0.0005
        else f"{duration:.3f} s as before"
    )
    events = project.events(result.recording_id)
    labels = [e for e in events if e.source == "human" or e.review == "accepted"]
    past_end = sum(e.offset > duration + END_TOLERANCE_S for e in labels)
    beyond = f"; {past_end} of them now end past its new end" if past_end else ""
    text = (
        f"the file changed since it was imported ({length}): the recording is updated to it "
        f"(its length, format and content hash), its labels kept as they were{beyond}"
    )
    per_run = Counter(e.run_id for e in events if e.source == "model" and e.run_id is not None)
    if per_run:
        count = sum(per_run.values())
        redo: list[int] = []
        imported: list[int] = []
        for run_id in sorted(per_run):
            try:
                made_here = not project.run(run_id).imported
            except ProjectError:
                made_here = False
            (redo if made_here else imported).append(run_id)
        runs = ("run " if len(per_run) == 1 else "runs ") + ", ".join(map(str, sorted(per_run)))
        text += (
            f"; its {count} detection(s) ({runs}) were made from the old audio and no "
            "longer match it (kept as they were)"
        )
        commands = " and ".join(
            redetect_command(project, run_id, result.recording_id) for run_id in redo
        )
        if redo:
            makes = "makes" if len(redo) == 1 else "make"
            text += f": {commands} {makes} them again from this audio (reviewed ones are kept)"
        if imported:
            text += (
                f"{';' if redo else ':'} those of run {', '.join(map(str, imported))} came from "
                "another tool's table, to be made again there"
            )
    return Problem(text, path)


def label_files(
    paths: Iterable[Path | str], report: ImportReport, *, fmt: str | None = None
) -> list[Path]:
    """Label files from files and folders (recursively, hidden names and audio files skipped,
    sorted: a folder may hold the recordings beside their labels, as BirdNET and Raven users
    keep them).

    A path that cannot be looked at, or a folder that cannot be listed, is reported in
    ``report.label_issues``; a missing file is kept for the import to report. Without a
    format ``fmt`` to read them as, a folder's files of no label format (BirdNET's
    analysis_params.csv, an AudioMoth's CONFIG.TXT) are passed over, counted in one warning;
    a file given by name is kept, for the import to say why it is not one.
    """
    files: list[Path] = []
    passed_over = 0
    on_error = _folder_error(report.label_issues)
    for path in map(Path, paths):
        reason = _unreadable(path)
        if reason is not None:
            report.label_issues.append(Problem(reason, path))
        elif path.is_dir():
            found = _walk_labels(path, on_error)
            if fmt is None:
                kept = [f for f in found if _looks_like_labels(f)]
                passed_over += len(found) - len(kept)
                found = kept
            files.extend(found)
        else:
            files.append(path)
    if passed_over:
        report.warnings.append(
            Problem(
                f"{passed_over} file(s) in the folders are not label files of a known format: "
                "passed over (give one by name to hear why)"
            )
        )
    return files


def _walk_labels(folder: Path, on_error: Callable[[Path, OSError], None]) -> list[Path]:
    found: list[Path] = []
    for parent, folders, names in os.walk(
        folder, onerror=lambda exc: on_error(Path(exc.filename), exc)
    ):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        found.extend(
            Path(parent) / name
            for name in names
            if not name.startswith(".") and Path(name).suffix.lower() not in AUDIO_SUFFIXES
        )
    return sorted(found)


def import_labels(
    project: Project,
    label_paths: Sequence[Path | str],
    *,
    fmt: str | None = None,
    label_column: str | None = None,
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

    ``label_column`` names the column (Raven, DCASE) or tag key (soundevent) that holds the
    labels. Events that carry a confidence (BirdNET's results, other detectors' tables) are
    model detections: they go to one run made for this import, named "imported …", where
    they are reviewed like the model's own. An import cut short (Ctrl+C) ends that run
    stopped, saying whether its detections went in (all of them) or not (none).
    """
    report = report if report is not None else ImportReport()
    paths = [Path(p) for p in label_paths]
    context = _LabelContext(project, report, paths)
    if len(paths) == 1:
        description = f"import {shown(paths[0].name)}"
    else:
        description = f"import {len(paths)} label files"
    try:
        try:
            with project.import_events(description) as batch:
                context.batch = batch
                for done, path in enumerate(paths, start=1):
                    report.label_files += 1
                    _import_label_file(context, path, fmt, label_column)
                    if progress:
                        progress(done, len(paths))
        except ProjectError as exc:
            report.label_issues.append(Problem(f"no labels were imported: {exc}"))
            report.failed = True
            context.run_failed(str(exc))
        else:
            assert batch.result is not None
            report.labels_added += len(batch.result.ids)
            report.labels_existing += batch.result.existing
            report.classes_added.extend(batch.classes_added)
            context.say_label_warnings(batch)
            context.run_done()
    except BaseException as exc:
        # Ctrl+C (or an error) cut the import short: its events went in whole or not at all
        # (one transaction, one undo step), and the run says which rather than "running".
        context.run_cut_short(exc)
        raise
    # A label file's name need not be UTF-8 (it is never stored), but messages must print.
    report.label_issues[:] = map(Problem.of, report.label_issues)
    report.warnings[:] = map(Problem.of, report.warnings)
    return report


class _LabelContext:
    """One import's lookups, made once per name instead of once per event, and the run its
    detections go to (made when the first file with new detections needs it)."""

    def __init__(self, project: Project, report: ImportReport, paths: Sequence[Path]):
        self.project = project
        self.report = report
        self.paths = paths
        self.batch: EventImport | None = None
        # The recordings by the names a per-recording label file may start with (file name
        # and stem), in one Unicode form, and by path: made once, so that matching a label
        # file costs a lookup per dot in its name, not a look at every recording (15 ms a
        # file among 20 000 recordings: 5 minutes for a deployment's 20 000 tables).
        recordings = project.recordings()
        self._by_key: dict[str, list[Recording]] = {}
        for rec in recordings:
            for key in dict.fromkeys(
                unicodedata.normalize("NFC", name) for name in (rec.name, rec.stem)
            ):
                self._by_key.setdefault(key, []).append(rec)
        self._by_path = {rec.path: rec for rec in recordings}
        # How warnings name a recording: by its path where others share its file name.
        self.shown = recording_names(recordings)
        self._recordings: dict[str, Recording | None] = {}
        # Names that several recordings answer to: each reported once, its events skipped
        # unless the label file picks one (see :meth:`pick`); the paths they fit.
        self.ambiguous: dict[str, str] = {}
        self._fits: dict[str, list[str]] = {}
        self._picked: dict[tuple[str, Path], Recording | None] = {}
        self._class_ids: dict[str, int] = {}
        self._refused: set[tuple[Path, str]] = set()
        self._detections: dict[int, set[tuple]] = {}
        self.run_id: int | None = None
        self.run_files: list[str] = []
        self.species_codes: dict[str, str] = {}
        # What is said of one label (it ends past its recording, above its band, on another
        # channel) only once the import knows it added that label: a repeated import, which
        # adds nothing, says nothing of the labels it found already there.
        self.label_warnings: list[_LabelWarning] = []
        self._run_ended = False
        self._began = time.time()

    def warn_of_label(
        self, path: Path, rec: Recording, class_id: int, event: LabelEvent, reason: str
    ) -> None:
        """Say ``reason`` of this label where the file's warnings go, if the import adds it."""
        self.label_warnings.append(
            _LabelWarning(len(self.report.warnings), path, rec, class_id, event, reason)
        )

    def say_label_warnings(self, batch: EventImport) -> None:
        """The warnings of the labels this import added (see :meth:`warn_of_label`), in the
        places they would have had among the others; a channel's once per file."""
        assert batch.result is not None
        ids = batch.result.ids
        pending, self.label_warnings = self.label_warnings, []
        if not ids or not pending:
            return
        names = {placeholder: name for name, (placeholder, _) in batch.new_classes.items()}
        # The events this import added, per recording and class: each label warned of is one
        # of them when one is left that it matches (a label twice in a file is added twice).
        added: dict[tuple[int, int], Counter[tuple]] = {}
        # Where each goes: its place, its file's, a channel's after the file's others.
        said: list[tuple[int, int, int, Problem]] = []
        files = {path: n for n, path in enumerate(dict.fromkeys(w.path for w in pending))}
        channels: dict[tuple[Path, int, int], list[_LabelWarning]] = {}
        seen: dict[int, bool] = {}  # per event (one may have several warnings): added?
        for warning in pending:
            event = warning.event
            if id(event) not in seen:
                class_id = warning.class_id
                if class_id < 0:
                    made = self.project.class_by_name(names[class_id])
                    class_id = made.id if made is not None else class_id
                key = (warning.recording.id, class_id)
                if key not in added:
                    added[key] = Counter(
                        (e.onset, e.offset, e.low_hz, e.high_hz, e.source)
                        for e in self.project.events(warning.recording.id, class_id=class_id)
                        if ids[0] <= e.id <= ids[-1]
                    )
                shape = (event.onset, event.offset, event.low_hz, event.high_hz, event.source)
                seen[id(event)] = added[key][shape] > 0
                if seen[id(event)]:
                    added[key][shape] -= 1
            if not seen[id(event)]:
                continue
            if warning.reason:
                problem = Problem(warning.reason, warning.path)
                said.append((warning.at, files[warning.path], 0, problem))
            else:
                key3 = (warning.path, warning.recording.id, event.channel or 0)
                channels.setdefault(key3, []).append(warning)
        for (path, _, channel), on_channel in channels.items():
            rec, first = on_channel[0].recording, on_channel[0].event
            reason = _channel_reason(rec, self.shown[rec.id], channel, len(on_channel), first)
            said.append((on_channel[-1].at, files[path], 1, Problem(reason, path)))
        said.sort(key=lambda item: item[:3])
        for inserted, (at, _, _, problem) in enumerate(said):
            self.report.warnings.insert(at + inserted, problem)

    def recording(
        self, name: str, aliases: Callable[[str], list[str]] | None = None
    ) -> Recording | None:
        """The recording a label file names, else the first found by one of the other names
        ``aliases`` gives it (a format's own, e.g. Label Studio's upload prefix removed)."""
        found = self._find(name)
        if found is None and aliases is not None and name not in self.ambiguous:
            for alias in aliases(name):
                found = self._find(alias)
                if alias in self.ambiguous:
                    self.ambiguous[name] = self.ambiguous[alias]
                    self._fits[name] = self._fits[alias]
                if found is not None or alias in self.ambiguous:
                    break
        return found

    def _find(self, name: str) -> Recording | None:
        if name not in self._recordings:
            try:
                self._recordings[name] = self.project.find_recording(name)
            except AmbiguousRecording as exc:
                self._recordings[name] = None
                self.ambiguous[name] = str(exc)
                self._fits[name] = exc.paths
        return self._recordings[name]

    def pick(self, name: str, path: Path) -> Recording | None:
        """Of the recordings an ambiguous ``name`` fits (``20240501_050000.WAV`` in each site's
        folder), the one the label file at ``path`` is about: its own recording by the file's
        name (:meth:`file_recording`), else the only one in a folder named as the label file's
        folder (BirdNET's table of a site's folder, in a folder of that site's name). None when
        the file picks none: its events stay reported as ambiguous."""
        key = (name, path)
        if key not in self._picked:
            fits = set(self._fits.get(name, ()))
            own = self.file_recording(path)
            if isinstance(own, Recording) and own.path in fits:
                picked: Recording | None = own
            else:
                candidates = [self._by_path[p] for p in fits if p in self._by_path]
                same = _in_folder_of(candidates, path)
                picked = same[0] if len(same) == 1 else None
            self._picked[key] = picked
        return self._picked[key]

    def file_recording(self, path: Path) -> Recording | str:
        """The recording a per-recording label file belongs to, or why none: the longest
        file name or stem ``S`` such that the file's name starts with ``S.`` (``y.wav.txt``
        is y.wav's even beside y.flac, ``rec1.Table.1.selections.txt`` is rec1's); among
        recordings of the same name in different folders, the one whose folder has the label
        file's folder's name."""
        label = unicodedata.normalize("NFC", path.name)
        best: list[Recording] = []
        # The longest S first: the file's name up to each of its dots, from the last.
        for end in (i for i in range(len(label) - 1, 0, -1) if label[i] == "."):
            best = list(dict.fromkeys(self._by_key.get(label[:end], ())))
            if best:
                break
        if len(best) > 1:
            same = _in_folder_of(best, path)
            if len(same) == 1:
                return same[0]
            return (
                f"its name fits {len(best)} recordings "
                f"({', '.join(r.path for r in best[:3])}{' …' if len(best) > 3 else ''}); "
                "put it in a folder named as its recording's folder, or rename it"
            )
        if best:
            return best[0]
        return (
            "no recording in the project matches this file's name "
            f"(expected e.g. '{path.name.split('.')[0]}.wav'; import the audio first)"
        )

    def class_id(self, name: str, path: Path, meta: dict | None = None) -> int | None:
        """The class called ``name`` (made when the import commits if new); None (reported)
        for a name that cannot be a class name."""
        if name in self._class_ids:
            return self._class_ids[name]
        assert self.batch is not None
        try:
            checked = check_class_name(name)
        except ValueError as exc:
            if (path, name) not in self._refused:
                self._refused.add((path, name))
                self.report.label_issues.append(Problem(str(exc), path))
            return None
        class_id = self._class_ids[name] = self.batch.class_id(checked, meta)
        return class_id

    def is_new_detection(self, rec: Recording, class_id: int, event: LabelEvent) -> bool:
        """Whether the project lacks this model event (a class still to be made lacks all)."""
        if class_id < 0:
            return True
        if rec.id not in self._detections:
            self._detections[rec.id] = {
                (e.class_id, e.onset, e.offset, e.low_hz, e.high_hz)
                for e in self.project.events(rec.id, source="model")
            }
        key = (class_id, event.onset, event.offset, event.low_hz, event.high_hz)
        return key not in self._detections[rec.id]

    def imported_run(self, path: Path, fmt: str) -> int:
        """The run this import's detections go to, made on first use."""
        if self.run_id is None:
            name = (
                f"imported {shown(self.paths[0].name)}"
                if len(self.paths) == 1
                else f"imported {len(self.paths)} label files"
            )
            # Made running in one write: made queued, then marked running in a second one,
            # a Ctrl+C between the two left it queued until another process reaped it as
            # "process ended unexpectedly".
            try:
                run = self.project.create_run(self._config(fmt), name=name, status="running")
            except BaseException:
                # Ctrl+C lands most often while the commit is written to disk: the run is
                # stored then, though create_run never returned it. Found, it is ended as
                # an interrupted import's run is (run_cut_short) instead of left running.
                self.run_id = self._stored_run(name)
                raise
            self.run_id = run.id
            self.report.run_id, self.report.run_name = run.id, run.name
        if shown(path) not in self.run_files:
            self.run_files.append(shown(path))
        return self.run_id

    def _stored_run(self, name: str) -> int | None:
        """The run named ``name`` that this process stored as running since the import began
        (a create_run cut short after its commit), or None."""
        with contextlib.suppress(ProjectError):
            for run in reversed(self.project.runs()):
                if (
                    run.name == name
                    and run.status == "running"
                    and run.pid == os.getpid()
                    and run.created_at >= self._began
                ):
                    return run.id
        return None

    def _config(self, fmt: str) -> dict[str, Any]:
        return {
            "imported": {"files": list(self.run_files), "format": fmt},
            "species_codes": dict(self.species_codes),
        }

    def run_done(self) -> None:
        if self.run_id is None:
            return
        added = len(self.project.events(source="model", run_id=self.run_id))
        self.report.detections_added = added
        run = self.project.run(self.run_id)
        config = run.config_dict
        config["imported"]["files"] = list(self.run_files)
        config["species_codes"] = dict(self.species_codes)
        self.project.update_run(
            self.run_id,
            status="done",
            finished_at=time.time(),
            config=config,
            message=f"{added} detection(s) imported from {len(self.run_files)} file(s)",
        )
        self._run_ended = True

    def run_failed(self, reason: str) -> None:
        if self.run_id is None:
            return
        self.report.run_id = None
        # The project refused the import; it may refuse this too.
        with contextlib.suppress(ProjectError):
            self.project.update_run(
                self.run_id,
                status="failed",
                finished_at=time.time(),
                message=f"import failed, no detections added: {reason}",
            )
        self._run_ended = True

    def run_cut_short(self, exc: BaseException) -> None:
        """End the run of an import that ``exc`` stopped (Ctrl+C: stopped; an error: failed)
        as the project holds it: the detections are all there if the commit was reached (the
        signal may come after it), or none are."""
        if self.run_id is None or self._run_ended:
            return
        interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
        verb = "interrupted" if interrupted else f"failed ({shown(str(exc) or type(exc).__name__)})"
        # Whatever went wrong may stand in the way of this too; opening the project later
        # marks a run whose process has ended as stopped. Counted in the write: as it begins
        # it rolls back a transaction Ctrl+C left open as a write ended (whose detections
        # would otherwise be counted, then lost with the run's ending when the project closed).
        with contextlib.suppress(ProjectError):
            with self.project.write():
                added = len(self.project.events(source="model", run_id=self.run_id))
                changes: dict[str, Any] = {}
                if added:
                    config = self.project.run(self.run_id).config_dict
                    config["imported"]["files"] = list(self.run_files)
                    config["species_codes"] = dict(self.species_codes)
                    changes["config"] = config
                    message = (
                        f"import {verb}: {added} detection(s) imported "
                        f"from {len(self.run_files)} file(s)"
                    )
                else:
                    self.report.run_id = None
                    message = f"import {verb}, no detections added"
                self.report.detections_added = added
                self.project.update_run(
                    self.run_id,
                    status="stopped" if interrupted else "failed",
                    finished_at=time.time(),
                    message=message,
                    **changes,
                )
            self._run_ended = True


def _import_label_file(
    context: _LabelContext, path: Path, fmt: str | None, label_column: str | None
) -> None:
    report = context.report
    name = fmt or guess_format(path)
    if name is None:
        try:
            read_text(path, bad_lines={})  # a file that cannot be read says so first
        except FormatError as exc:
            report.label_issues.append(Problem.of(exc))
        else:
            report.label_issues.append(
                Problem("cannot tell the label format; name it with --format", path)
            )
        return
    options: dict[str, Any] = {}
    if label_column is not None:
        if "label_column" in read_options(name):
            options["label_column"] = label_column
        else:
            report.warnings.append(
                Problem(f"--label-column does not apply to {name} files; ignored", path)
            )
    try:
        module = get_format(name)
        if "sample_rate" in getattr(module, "READ_OPTIONS", ()):
            # Sonic Visualiser's CSV may count its times in frames of its recording.
            found = context.file_recording(path)
            if not isinstance(found, str):
                options["sample_rate"] = found.sample_rate
        result = module.read(path, **options)
    except FormatError as exc:
        report.label_issues.append(Problem.of(exc))
        return
    except ValueError as exc:
        report.label_issues.append(Problem(str(exc), path))
        return
    report.label_issues.extend(Problem.of(issue) for issue in result.issues)
    report.warnings.extend(Problem.of(issue) for issue in result.warnings)
    for meta in result.classes:
        if meta.get("name"):
            context.class_id(str(meta["name"]), path, meta)

    file_recording = None
    if any(not e.recording for e in result.events):
        found = context.file_recording(path)
        if isinstance(found, str):
            report.label_issues.append(Problem(found, path))
        else:
            file_recording = found

    aliases = getattr(module, "recording_aliases", None)

    def recording_of(event: LabelEvent) -> Recording | None:
        if not event.recording:
            return file_recording
        found = context.recording(event.recording, aliases)
        if found is None and event.recording in context.ambiguous:
            found = context.pick(event.recording, path)
        return found

    # Detections need the import's run before their rows are staged; it is made only when
    # this file brings a detection the project does not have, so a repeated import adds none.
    run_id = None
    for event in result.events:
        if event.source != "model":
            continue
        rec = recording_of(event)
        class_id = context.class_id(event.label, path) if rec is not None else None
        if (
            rec is not None
            and class_id is not None
            and context.is_new_detection(rec, class_id, event)
        ):
            run_id = context.imported_run(path, name)
            break
    for event in result.events:
        if event.species_code and event.source == "model":
            context.species_codes.setdefault(event.label, event.species_code)

    unknown: Counter[str] = Counter()
    refused: set[str] = set()

    def rows() -> Iterator[dict]:
        for event in result.events:
            rec = recording_of(event)
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
                context.warn_of_label(
                    path,
                    rec,
                    class_id,
                    event,
                    f"event {event.label!r} {event.onset}–{event.offset} s ends after "
                    f"{context.shown[rec.id]} ({rec.duration:.3f} s); kept as is",
                )
            nyquist = rec.sample_rate / 2
            if event.high_hz is not None and event.high_hz > nyquist * (1 + 1e-6):
                context.warn_of_label(
                    path,
                    rec,
                    class_id,
                    event,
                    f"event {event.label!r} at {event.onset} s reaches {event.high_hz:g} Hz, "
                    f"above what {context.shown[rec.id]} holds ({nyquist:g} Hz at {rec.sample_rate} Hz); "
                    "kept as is",
                )
            if event.channel is not None and event.channel > 1:
                # Said once per file, recording and channel, with the count (an empty reason).
                context.warn_of_label(path, rec, class_id, event, "")
            yield dict(
                recording_id=rec.id,
                class_id=class_id,
                onset=event.onset,
                offset=event.offset,
                low_hz=event.low_hz,
                high_hz=event.high_hz,
                source=event.source,
                confidence=event.confidence,
                run_id=run_id if event.source == "model" else None,
                review=event.review,
                # A blank tier name names nothing: such labels export like any other.
                tier=event.tier if event.tier and event.tier.strip() else None,
            )

    assert context.batch is not None
    warned = len(context.label_warnings)
    try:
        context.batch.add(rows())
    except ProjectError as exc:
        # None of this file's rows went in: nothing to say of them.
        del context.label_warnings[warned:]
        report.label_issues.append(Problem(str(exc), path))
    for recording, count in sorted(unknown.items()):
        if recording in context.ambiguous:
            why = (
                f"{count} event(s) not imported: {context.ambiguous[recording]}, or keep this "
                "file in a folder named as the recording's folder"
            )
        else:
            also = "".join(f" (nor '{alias}')" for alias in (aliases(recording) if aliases else ()))
            why = (
                f"{count} event(s) for '{recording}'{also}, which is not in the project "
                "(import the audio first)"
            )
        report.label_issues.append(Problem(why, path))


def _in_folder_of(recordings: list[Recording], label_file: Path) -> list[Recording]:
    """The recordings in a folder named as the label file's folder."""
    folder = label_file.absolute().parent.name
    return [r for r in recordings if Path(r.path.replace("\\", "/")).parent.name == folder]


@dataclass(frozen=True)
class _LabelWarning:
    """A warning about one label of a file, said if the import adds the label: ``at`` is where
    among the report's warnings; an empty ``reason`` is its channel's (said per channel)."""

    at: int
    path: Path
    recording: Recording
    class_id: int
    event: LabelEvent
    reason: str


def _channel_reason(rec: Recording, shown: str, channel: int, count: int, first: LabelEvent) -> str:
    """What a project cannot keep of ``count`` selections on ``channel`` of ``rec`` (named
    ``shown``)."""
    selections = f"{count} selection(s) on it, e.g. {first.label!r} at {first.onset} s"
    if channel > rec.channels:
        has = "1 channel" if rec.channels == 1 else f"{rec.channels} channels"
        return (
            f"channel {channel}, which {shown} does not have ({has}): {selections}; "
            "kept, for the whole recording"
        )
    return (
        f"channel {channel} of {shown}: {selections}; a project keeps labels per "
        "recording, not per channel: kept, for the whole recording (an export writes "
        "channel 1)"
    )


def add_generated_recordings(project: Project, demo: Iterable[Any]) -> None:
    """Register generated recordings (``path``, ``split``, ``events`` with ``label``, onset,
    offset, band) and their exact labels, in one transaction; the classes already exist."""
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
        add_generated_recordings(project, demo)
    except BaseException:
        project.close()
        raise
    return project
