"""Writing a project's labels or detections in any supported format (CLI and GUI)."""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from tfstudio import __version__
from tfstudio.formats import LabelEvent, get_format, textgrid
from tfstudio.formats.base import format_number, write_lines
from tfstudio.store import Event, Project, Recording, recording_names, shown_names
from tfstudio.store.recorded import parse_stored

SOURCES = ("labels", "detections")
# A TextGrid export cuts an event ending after its recording at the end, with a warning; up
# to this far it is rounding (other tools round times, and a WAV a few samples shorter than
# the TextGrid it was labelled with is common), said briefly; beyond, said in full.
TEXTGRID_END_TOLERANCE_S = 0.01
# Formats whose confidence column marks a detection on import: a label export leaves it out,
# so accepted detections come back as labels, not as detections to review again.
CONFIDENCE_MARKS_DETECTIONS = frozenset(
    {"audacity", "raven", "dcase", "audition", "birdnet", "kaleidoscope"}
)
# Formats with no place for an event's frequency band: its times go out without it, said.
NO_FREQUENCIES = frozenset(
    {"dcase", "labelstudio", "audition", "reaper", "birdnet", "kaleidoscope"}
)
# Formats with no place for a detection's confidence (nor for being a detection): exported
# detections go out as plain events, said, and read back as labels.
NO_CONFIDENCE = frozenset({"textgrid", "sonicvisualiser", "reaper"})


def project_events(project: Project, source: str = "labels") -> list[Event]:
    """Labels (human + accepted detections) or detections (model events not rejected)."""
    _check_source(source)
    return list(project.iter_events(source))


def count_project_events(project: Project, source: str = "labels", fmt: str | None = None) -> int:
    """How many events an export of ``source`` (in format ``fmt``, when given) writes, without
    loading them."""
    _check_source(source)
    return project.count_selected(_selection(source, fmt))


def _selection(source: str, fmt: str | None) -> str:
    """The store's selection an export of ``source`` in ``fmt`` writes: tfstudio's JSON holds
    the review state, so its detections include the rejected ones (the review's negatives,
    which a retrain learns from); the other formats have no place for a rejection."""
    return "all-detections" if source == "detections" and fmt == "json" else source


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")


def to_label_events(
    project: Project, events: Iterable[Event], *, confidences: bool = True
) -> list[LabelEvent]:
    """Events as the formats take them (without their confidence unless ``confidences``); a
    detection imported with a species code (BirdNET's Raven tables) gets it back from its
    run."""
    return list(_Converter(project, confidences=confidences)(events))


class _Converter:
    """Store events to the formats' LabelEvents, one at a time (an export streams them): the
    recording and class names and the runs' species codes are looked up once."""

    def __init__(self, project: Project, *, confidences: bool):
        self.confidences = confidences
        self.names = recording_names(project.recordings())
        self.classes = {c.id: c.name for c in project.classes()}
        self.codes: dict[int, dict[str, str]] = {}
        for run in project.runs():
            try:
                found = run.config_dict.get("species_codes")
            except ValueError:
                found = None
            if isinstance(found, dict) and found:
                self.codes[run.id] = {str(k): str(v) for k, v in found.items()}

    def __call__(self, events: Iterable[Event], *, named: bool = True) -> Iterator[LabelEvent]:
        """The events converted; ``named`` False leaves the recording name empty, as the
        per-recording formats take them."""
        names, classes, codes = self.names, self.classes, self.codes
        confidences = self.confidences
        for e in events:
            label = classes[e.class_id]
            yield LabelEvent(
                recording=names[e.recording_id] if named else "",
                onset=e.onset,
                offset=e.offset,
                label=label,
                low_hz=e.low_hz,
                high_hz=e.high_hz,
                source=e.source,
                confidence=e.confidence if confidences else None,
                review=e.review,
                tier=e.tier,
                species_code=codes.get(e.run_id, {}).get(label) if e.run_id is not None else None,
            )


def recording_files(recordings: Iterable[Recording], suffix: str) -> dict[int, str]:
    """Each recording's file in a per-recording export, relative to the export's folder:
    ``<stem><suffix>``; ``<name><suffix>`` where two recordings share a stem (``y.wav`` and
    ``y.flac``: ``y.wav.txt``, ``y.flac.txt``); where they share the whole name (in different
    folders) in a subfolder named as the recording's folder (``b/x.txt``), which is how an
    import tells them apart again. No two recordings ever get the same file."""
    recordings = list(recordings)
    stems = Counter(rec.stem for rec in recordings)
    names = Counter(rec.name for rec in recordings)
    files: dict[int, str] = {}
    for rec in recordings:
        if stems[rec.stem] == 1:
            files[rec.id] = f"{rec.stem}{suffix}"
        elif names[rec.name] == 1:
            files[rec.id] = f"{rec.name}{suffix}"
        else:
            folder = PurePosixPath(rec.path.replace("\\", "/")).parent.name or "recordings"
            files[rec.id] = f"{folder}/{rec.stem}{suffix}"
    # Recordings of one name in folders of one name (a/sub/x.wav, b/sub/x.wav): numbered.
    seen: Counter[str] = Counter(files.values())
    for rec_id, name in list(files.items()):
        if seen[name] > 1:
            folder, _, base = name.rpartition("/")
            files[rec_id] = f"{folder}-{rec_id}/{base}"
    return files


def default_output(project: Project, fmt: str, source: str) -> Path:
    module = get_format(fmt)
    base = project.root / "exports"
    if module.PER_RECORDING:
        return base / f"{source}-{fmt}"
    return base / f"{source}{module.SUFFIX}"


class ExportRefused(ValueError):
    """An export refused before anything was written: the output is one of the project's own
    files, or exists and ``overwrite`` was not given (``exists`` tells which)."""

    def __init__(self, message: str, *, exists: bool = False):
        super().__init__(message)
        self.exists = exists


def export_labels(
    project: Project,
    fmt: str,
    out: Path | str | None = None,
    *,
    source: str = "labels",
    skipped: list[str] | None = None,
    overwrite: bool = False,
    textgrid_form: str = "long",
    warnings: list[str] | None = None,
) -> list[Path]:
    """Write events; per-recording formats make a folder ``out`` with one file per recording
    (named ``<stem><suffix>``, empty recordings included), the others one file ``out``
    (DCASE lists the recordings without events as rows with empty times and label).
    Events a format cannot carry are described in ``skipped``, and events changed to fit it
    (a TextGrid event ending after its recording, cut at the end) in ``warnings``, when lists
    are given. A label export leaves confidences out of the formats
    where a confidence marks a detection, so the labels read back as labels.

    Never writes over the project's own files (database, its journal files, caches, runs,
    recordings); an existing output file is replaced only with ``overwrite``. Everything is
    written to a temporary file or folder next to ``out`` and renamed into place, so a refused
    or failed export leaves nothing half-written. ``textgrid_form`` is ``long`` or ``short``.
    """
    module = get_format(fmt)
    if textgrid_form not in textgrid.FORMS:
        raise ValueError(f"textgrid_form must be one of {', '.join(textgrid.FORMS)}")
    _check_source(source)
    out = Path(out) if out is not None else default_output(project, fmt, source)
    _refuse_project_files(project, out)
    # A label export leaves confidences out where they would mark detections on import.
    keep = not (source == "labels" and fmt in CONFIDENCE_MARKS_DETECTIONS)
    # The TextGrid writer makes its tiers in order of appearance, so they come out in the
    # file's order; a JSON export keeps that order for the project it is imported into.
    tier_order = fmt in ("textgrid", "json")
    # Events stream from the database to the file (a recording at a time for the
    # per-recording formats), all read in one snapshot of the project.
    with project.snapshot():
        if fmt in NO_FREQUENCIES and warnings is not None:
            _say_frequencies_dropped(project, fmt, _selection(source, fmt), warnings)
        if source == "detections" and fmt in NO_CONFIDENCE and warnings is not None:
            _say_confidences_dropped(project, fmt, warnings)
        convert = _Converter(project, confidences=keep)
        recordings = project.recordings()
        if not module.PER_RECORDING:
            if out.is_dir():
                raise ValueError(f"{out}: is a folder; {fmt} writes one file, give a file name")
            if (out.exists() or out.is_symlink()) and not overwrite:
                raise ExportRefused(f"{out} already exists", exists=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            options = _file_options(project, fmt, source, recordings)
            events = _StoredEvents(
                project,
                convert,
                _selection(source, fmt),
                tier_order=tier_order,
                # A writer of the recordings in turn takes their events in the same order.
                listed=options.get("grouped", False),
            )
            with _staged_file(out) as staged:
                if hasattr(module, "lines"):
                    write_lines(staged, module.lines(events, **options))
                else:
                    module.write(list(events), staged, **options)
            return [out]

        if out.exists() and not out.is_dir():
            raise ValueError(
                f"{out}: {fmt} writes one file per recording; give a folder, not a file"
            )
        names = recording_files(recordings, module.SUFFIX)
        taken = [name for name in names.values() if (out / name).exists()]
        if taken and not overwrite:
            raise ExportRefused(
                f"{out} already holds {len(taken)} of the files to write (e.g. {taken[0]})",
                exists=True,
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        shown = shown_names(recordings)  # how messages name them
        with _staged_folder(out) as staged:
            for rec in recordings:
                stored = project.iter_events(source, recording_ids=[rec.id], tier_order=tier_order)
                rec_events = list(convert(stored, named=False))
                path = staged / names[rec.id]
                path.parent.mkdir(exist_ok=True)
                try:
                    if fmt == "textgrid":
                        kept = _fit_textgrid(rec, shown[rec.id], rec_events, skipped, warnings)
                        module.write(
                            kept, path, duration=rec.duration, short=textgrid_form == "short"
                        )
                    elif fmt == "sonicvisualiser":  # its frames count at the recording's rate
                        module.write(
                            rec_events, path, duration=rec.duration, sample_rate=rec.sample_rate
                        )
                    elif fmt == "raven":  # its clock-time columns where the start is known
                        start = parse_stored(rec.recorded_at)
                        module.write(rec_events, path, duration=rec.duration, start=start)
                    else:
                        module.write(rec_events, path, duration=rec.duration)
                except ValueError as exc:
                    # Nothing is in place yet: the staged folder goes, the output stays as it
                    # was.
                    raise ValueError(f"{shown[rec.id]}: {exc}") from None
        return [out / name for name in names.values()]


class _StoredEvents:
    """A project's labels or detections as the formats take them, read from the database
    again on each pass (a soundevent document lists the events three times), the recordings
    in the order of their ids or, ``listed``, in the order they are listed (by name)."""

    def __init__(
        self,
        project: Project,
        convert: _Converter,
        source: str,
        *,
        tier_order: bool,
        listed: bool = False,
    ):
        self.project = project
        self.convert = convert
        self.source = source
        self.tier_order = tier_order
        self.listed = listed

    def __iter__(self) -> Iterator[LabelEvent]:
        stored = self.project.iter_events(
            self.source, tier_order=self.tier_order, listed=self.listed
        )
        return self.convert(stored)


def _file_options(
    project: Project, fmt: str, source: str, recordings: list[Recording]
) -> dict[str, Any]:
    """What a one-file format's writer is told besides the events."""
    options: dict[str, Any] = {}
    if fmt == "json":
        options["classes"] = [
            {"name": c.name, "color": c.color, "hotkey": c.hotkey} for c in project.classes()
        ]
    elif fmt == "dcase":
        options["recordings"] = list(recording_names(recordings).values())
        # Detections keep their confidence, which is what makes a row a detection on import.
        options["confidences"] = source == "detections"
    elif fmt == "labelstudio":
        # A task per recording, those without events too (to label on in Label Studio);
        # detections are the tasks' predictions, labels their annotations.
        options["recordings"] = list(recording_names(recordings).values())
        options["predictions"] = source == "detections"
        # Its events come a recording at a time in that order, and each task is written as
        # its events pass (gathered first, 900 000 labels held 130 MB more).
        options["grouped"] = True
    elif fmt == "soundevent":
        names = recording_names(recordings)
        options["recordings"] = [
            {
                "name": names[rec.id],
                "path": str(rec.path),
                "duration": rec.duration,
                "channels": rec.channels,
                "samplerate": rec.sample_rate,
                "hash": rec.content_hash,
                "start": parse_stored(rec.recorded_at),
            }
            for rec in recordings
        ]
        options["predictions"] = source == "detections"
        options["name"] = f"{project.root.name} {source}"
        options["model_version"] = __version__
    elif fmt == "kaleidoscope":
        # Its INDIR and FOLDER come from where each recording's file is.
        names = recording_names(recordings)
        options["paths"] = {names[rec.id]: str(project.absolute_path(rec)) for rec in recordings}
    return options


def _say_frequencies_dropped(
    project: Project, fmt: str, selection: str, warnings: list[str]
) -> None:
    """A box drawn on the spectrogram (or imported from Raven) written to a format of times
    only loses its band: one warning per recording, so a bat's 40–80 kHz box is not lost
    unsaid."""
    banded = Counter(
        e.recording_id
        for e in project.iter_events(selection)
        if e.low_hz is not None or e.high_hz is not None
    )
    _say_per_recording(
        project,
        banded,
        f"event(s) with a frequency band, which {fmt} files cannot hold: written with their "
        "times only (raven, audacity, sonicvisualiser, soundevent and json keep it)",
        warnings,
    )


def _say_confidences_dropped(project: Project, fmt: str, warnings: list[str]) -> None:
    """Detections written to a format without a confidence lose it, and read back as labels
    (ground truth, not detections to review): one warning per recording."""
    scored = Counter(e.recording_id for e in project.iter_events("detections"))
    _say_per_recording(
        project,
        scored,
        f"detection(s) written without their confidence, which {fmt} files cannot hold: "
        "imported again they are labels, not detections (audacity, raven, dcase, audition, "
        "birdnet, kaleidoscope, labelstudio, soundevent and json keep it)",
        warnings,
    )


def _say_per_recording(
    project: Project, counts: Counter[int], what: str, warnings: list[str]
) -> None:
    """One warning per recording counted: 'NAME: N WHAT'."""
    if not counts:
        return
    names = recording_names(project.recordings())
    for rec_id, n in counts.items():
        warnings.append(f"{names[rec_id]}: {n} {what}")


def _fit_textgrid(
    rec: Recording,
    name: str,
    events: list[LabelEvent],
    skipped: list[str] | None,
    warnings: list[str] | None,
) -> list[LabelEvent]:
    """The events a TextGrid of ``rec`` can hold (its tiers span the recording): an end after
    the recording is cut at its end, and a zero-length event (a point) up to
    :data:`TEXTGRID_END_TOLERANCE_S` after it is moved to it, said in ``warnings`` (a cut in
    full past that tolerance, where it is more than rounding); an event that starts at or after
    the end (a point: further after it) is left out, said in ``skipped``; ``name`` is how they
    name the recording."""
    kept = []
    for e in events:
        point = e.offset == e.onset
        past = e.onset - rec.duration
        if point and 0 < past <= TEXTGRID_END_TOLERANCE_S:
            if warnings is not None:
                warnings.append(
                    f"{name}: zero-length {e.label!r} event at {e.onset} s, "
                    f"{past * 1000:.3g} ms after the recording ({rec.duration} s); moved to its "
                    "end in the TextGrid"
                )
            kept.append(dataclasses.replace(e, onset=rec.duration, offset=rec.duration))
            continue
        if past > 0 or (past == 0 and not point):
            if skipped is not None:
                what = (
                    f"zero-length {e.label!r} event at {e.onset} s is after"
                    if point
                    else f"{e.label!r} event {e.onset}–{e.offset} s starts at or after"
                )
                skipped.append(
                    f"{name}: {what} the recording's end ({rec.duration} s); its TextGrid, "
                    "which spans the recording, cannot hold it"
                )
            continue
        if e.offset > rec.duration:
            past = e.offset - rec.duration
            if warnings is not None and past <= TEXTGRID_END_TOLERANCE_S:
                warnings.append(
                    f"{name}: {e.label!r} event ends at {e.offset} s, "
                    f"{past * 1000:.3g} ms after the recording "
                    f"({rec.duration} s); cut at its end in the TextGrid"
                )
            elif warnings is not None:
                warnings.append(
                    f"{name}: {e.label!r} event {e.onset}–{e.offset} s ends "
                    f"{format_number(round(past, 6))} s after the recording ({rec.duration} s); "
                    f"cut at its end in the TextGrid ({e.onset}–{rec.duration} s), the project's "
                    "label unchanged"
                )
            e = dataclasses.replace(e, offset=rec.duration)
        kept.append(e)
    return kept


def _refuse_project_files(project: Project, out: Path) -> None:
    """ExportRefused when ``out`` is (or, for folders, holds) one of the project's own files."""
    target = out.resolve()
    root = project.root.resolve()
    db = project.db_path.resolve()
    journal = {Path(f"{db}{suffix}"): suffix for suffix in ("-wal", "-shm", "-journal")}
    if target == db or _same_file(out, db):
        raise ExportRefused(f"{out} is the project's database; choose another output")
    if target in journal:
        raise ExportRefused(
            f"{out} is the project's database journal ({journal[target]}); choose another output"
        )
    if target == root:
        raise ExportRefused(f"{out} is the project folder itself; choose another output")
    for folder, what in ((project.cache_dir, "cache"), (project.runs_dir, "runs")):
        if target.is_relative_to(folder.resolve()):
            raise ExportRefused(
                f"{out} is inside the project's {what} folder; choose another output"
            )
    for rec in project.recordings():
        audio = project.absolute_path(rec)
        if target == audio.resolve() or _same_file(out, audio):
            raise ExportRefused(f"{out} is the recording {rec.name}; choose another output")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _temporary_name(out: Path) -> Path:
    return out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp"


@contextmanager
def _staged_file(out: Path) -> Iterator[Path]:
    """A path next to ``out`` to write; renamed onto ``out`` when the block succeeds,
    removed when it fails."""
    staged = _temporary_name(out)
    try:
        yield staged
        os.replace(staged, out)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


@contextmanager
def _staged_folder(out: Path) -> Iterator[Path]:
    """A new folder next to ``out`` to fill; it becomes ``out`` (or, when ``out`` exists, its
    files replace those of the same name there) when the block succeeds, and is removed when
    it fails."""
    staged: Path | None = None
    try:
        # Named before it is made, inside the try: Ctrl+C just after the mkdir must not
        # leave the folder behind.
        while staged is None:
            staged = _temporary_name(out)
            try:
                staged.mkdir()  # not mkdtemp: the folder gets the user's usual permissions
            except FileExistsError:  # another's: never removed here
                staged = None
        yield staged
        if not out.exists():
            os.rename(staged, out)
            return
        for path in sorted(p for p in staged.rglob("*") if not p.is_dir()):
            target = out / path.relative_to(staged)
            target.parent.mkdir(exist_ok=True)
            os.replace(path, target)
        shutil.rmtree(staged)
    except BaseException:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        raise
