"""``tfstudio bench store``: how the project store holds up at scale.

Builds a project of N recordings, M events and K classes in a folder from generated files, then
times what a user waits for: importing the audio and the labels (through
:func:`tfstudio.importer.import_labels`, as ``tfstudio import --labels`` does), opening the
project and loading what the window shows (recordings, classes, label counts), the queries of
the recording browser and of switching recordings, an edit, undo and redo of the whole import,
and a DCASE export; plus peak RSS. Nothing here asserts a target: it prints numbers.

The recordings are tiny (8-bit mono PCM at 100 Hz, one minute each, 6 kB), each with different
bytes so that their content hashes differ as real recordings' do; the labels are DCASE tsv
files of at most ``events_per_file`` events each.
"""

from __future__ import annotations

import resource
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tfstudio.exporter import export_labels
from tfstudio.importer import import_audio, import_labels
from tfstudio.store import Project

SAMPLE_RATE = 100
SECONDS = 60.0
EVENTS_PER_FILE = 100_000

Say = Callable[[str], None]


@dataclass(frozen=True)
class StoreBenchConfig:
    """The size of the generated project."""

    recordings: int = 1_000
    events: int = 100_000
    classes: int = 30
    events_per_file: int = EVENTS_PER_FILE
    seed: int = 0

    def check(self) -> None:
        """ValueError naming the first size that cannot be built."""
        if self.recordings < 1:
            raise ValueError("--recordings must be at least 1")
        if self.events < 0:
            raise ValueError("--events must not be negative")
        if self.classes < 1:
            raise ValueError("--classes must be at least 1")
        if self.events_per_file < 1:
            raise ValueError("--events-per-file must be at least 1")


@dataclass
class StoreBenchResult:
    """Seconds per step, counts, and peak RSS in MiB; :meth:`as_dict` is the JSON line."""

    config: StoreBenchConfig
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "recordings": self.config.recordings,
            "events": self.config.events,
            "classes": self.config.classes,
            **{f"{name}_s": round(value, 4) for name, value in self.timings.items()},
            **self.counts,
            **{f"{name}_peak_rss_mb": value for name, value in self.peak_rss_mb.items()},
        }


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def wav_bytes(index: int, seconds: float = SECONDS, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A tiny valid WAV (unsigned 8-bit mono) whose samples encode ``index``."""
    frames = round(seconds * sample_rate)
    data = bytearray([128]) * frames
    data[: len(str(index)) + 1] = f"{index}:".encode()
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate, 1, 8)
    header = b"RIFF" + struct.pack("<I", 36 + frames) + b"WAVEfmt " + fmt
    return header + b"data" + struct.pack("<I", frames) + bytes(data)


def write_recordings(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"rec{i:06d}.wav"
        path.write_bytes(wav_bytes(i))
        paths.append(path)
    return paths


def write_labels(folder: Path, config: StoreBenchConfig) -> list[Path]:
    """DCASE tsv files: events spread evenly over the recordings, random classes and times."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    paths: list[Path] = []
    written = 0
    while written < config.events:
        count = min(config.events_per_file, config.events - written)
        index = np.arange(written, written + count)
        recording = index % config.recordings
        label = rng.integers(0, config.classes, count)
        onset = np.round(rng.uniform(0, SECONDS - 2.0, count), 3)
        offset = np.round(onset + rng.uniform(0.05, 2.0, count), 3)
        path = folder / f"labels{len(paths):04d}.tsv"
        lines = ["filename\tonset\toffset\tevent_label"]
        lines += [
            f"rec{r:06d}.wav\t{a:.3f}\t{b:.3f}\tclass_{c:04d}"
            for r, a, b, c in zip(
                recording.tolist(), onset.tolist(), offset.tolist(), label.tolist(), strict=True
            )
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
        written += count
    return paths


class _Clock:
    def __init__(self, result: StoreBenchResult, say: Say):
        self.result = result
        self.say = say

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.result.timings[name] = seconds
        self.say(f"{name}: {seconds:.3f} s")


def _best_of(repeats: int, run: Callable[[], object]) -> float:
    """The fastest of a few runs: a query's time without the noise of one slow run."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def browser_load(project: Project) -> list[tuple[str, int]]:
    """What the recording browser reads when a project opens: every recording's name and its
    number of labels (one per-recording totals query, not a row per recording and class)."""
    totals = project.label_totals()
    return [
        (rec.name, totals[rec.id].labels if rec.id in totals else 0) for rec in project.recordings()
    ]


def browser_rows(loaded: list[tuple[str, int]], text: str, state: str) -> list[tuple[str, int]]:
    """What the recording browser shows for a filter, from what it read at open: (name, labels)
    rows of recordings whose name contains ``text`` and that are ``all``/``labelled``/
    ``unlabelled``, most labels first."""
    rows = [
        (name, total)
        for name, total in loaded
        if (not text or text in name.lower())
        and (state == "all" or (state == "labelled") == (total > 0))
    ]
    rows.sort(key=lambda row: (-row[1], row[0]))
    return rows


def run_store_bench(
    config: StoreBenchConfig, folder: Path, *, say: Say = lambda _line: None
) -> StoreBenchResult:
    """Build the project in ``folder`` (empty or new) and time it; see the module docstring."""
    config.check()
    result = StoreBenchResult(config)
    clock = _Clock(result, say)
    with clock("generate"):
        audio = write_recordings(folder / "audio", config.recordings)
        labels = write_labels(folder / "labels", config)
    root = folder / "project"
    project = Project.create(root)
    try:
        with clock("audio_import"):
            report = import_audio(project, [folder / "audio"])
        if report.skipped or report.added != len(audio):
            raise RuntimeError(f"audio import: {report.summary()}")
        # The classes exist beforehand, as in a project that is being annotated.
        for k in range(config.classes):
            project.ensure_class(f"class_{k:04d}")
        result.peak_rss_mb["before_labels"] = peak_rss_mb()
        with clock("label_import"):
            report = import_labels(project, labels)
        if report.label_issues:
            raise RuntimeError(f"label import: {report.label_issues[0]}")
        result.peak_rss_mb["label_import"] = peak_rss_mb()
        result.counts["labels_added"] = report.labels_added
        result.counts["label_files"] = len(labels)
        (result.counts["history_rows"],) = project.conn.execute(
            "SELECT count(*) FROM history"
        ).fetchone()
        (result.counts["undo_steps"],) = project.conn.execute(
            "SELECT count(DISTINCT group_id) FROM history"
        ).fetchone()
    finally:
        project.close()

    with clock("open"):
        project = Project.open(root)
    try:
        with clock("open_load"):
            # What the window loads when a project opens.
            project.classes()
            project.recordings()
            project.runs()
            project.label_counts()
        _time_queries(project, result, say)
        _time_edits(project, result, clock)
        out = folder / "export.tsv"
        # The peak before and after: an export that streams its events does not raise it.
        result.peak_rss_mb["before_export"] = peak_rss_mb()
        with clock("export"):
            export_labels(project, "dcase", out)
        result.peak_rss_mb["export"] = peak_rss_mb()
        result.counts["db_bytes"] = (root / "project.sqlite").stat().st_size
    finally:
        project.close()
    result.peak_rss_mb["end"] = peak_rss_mb()
    say(f"peak RSS: {result.peak_rss_mb['end']} MiB")
    return result


def _time_queries(project: Project, result: StoreBenchResult, say: Say) -> None:
    recordings = project.recordings()
    middle = recordings[len(recordings) // 2].id
    loaded = browser_load(project)
    queries: dict[str, Callable[[], object]] = {
        "q_recordings": project.recordings,
        "q_label_counts": project.label_counts,
        "q_label_totals": project.label_totals,
        "q_browser_load": lambda: browser_load(project),
        "q_browser_filter": lambda: browser_rows(loaded, "rec0001", "all"),
        "q_browser_unlabelled": lambda: browser_rows(loaded, "", "unlabelled"),
        "q_recording_labels": lambda: project.labels(middle),
        "q_recording_detections": lambda: project.events(middle, source="model", run_id=1),
        "q_summary": project.summary,
        "q_undo_description": project.undo_description,
        "q_redo_description": project.redo_description,
    }
    for name, run in queries.items():
        result.timings[name] = seconds = _best_of(3, run)
        say(f"{name}: {seconds * 1000:.1f} ms")


def _time_edits(project: Project, result: StoreBenchResult, clock: _Clock) -> None:
    """An edit after the big history, then undo and redo of that edit and of the import."""
    first = project.conn.execute("SELECT min(id) FROM events").fetchone()[0]
    if first is None:
        return
    event = project.event(int(first))
    with clock("edit"):
        project.update_event(event.id, offset=event.offset + 0.1)
    with clock("undo_edit"):
        project.undo()
    with clock("undo_import"):
        project.undo()
    with clock("redo_import"):
        project.redo()
