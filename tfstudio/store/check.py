"""What ``tfstudio check`` looks at: the database's integrity and its derived label counts, runs
whose process has ended, missing audio, detections made from a recording's earlier audio, and
files in the project folder that nothing refers to
any more.

Only what can be rebuilt or is plainly stale is repaired (an index that no longer matches its
table made again, label counts recounted, their table and triggers made again, a dead run marked stopped, a recording's stored status, cached
features and posteriors of recordings no longer in the project, temporary files of processes
that are gone); a run folder the database does not know may hold the only copy of a model, so
it is reported and left alone.
"""

from __future__ import annotations

import re
import shlex
import sqlite3
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tfstudio.store.errors import DatabaseProblem
from tfstudio.store.project import Project
from tfstudio.store.runs import DEAD_RUN_MESSAGE, pid_exists, process_gone

__all__ = ["Finding", "check_project"]

# Derived files are named by the content hash of their recording (32 hex characters):
# cache/features/<hash>-<config key>.npy and runs/run-N/posteriors/<hash>.npy.
_HASHED = re.compile(r"^([0-9a-f]{32})(?:-[0-9a-f]+)?\.npy$")
# Written under a temporary name then renamed: <name>.<pid>.tmp.npy (features), <name>.tmp.
_TEMP_WITH_PID = re.compile(r"\.(\d+)\.tmp(?:\.npy)?$")
_RUN_FOLDER = re.compile(r"^run-(\d+)$")


@dataclass
class Finding:
    """One thing ``check`` found: ``kind`` (integrity, label_counts, dead_run, missing_audio,
    changed_audio, earlier_audio_detections, orphaned_cache, orphaned_posteriors,
    temporary_file, orphaned_run_folder, missing_checkpoint, damaged_checkpoint), what it is
    about, and whether ``--repair`` may fix it."""

    kind: str
    subject: str
    message: str
    repairable: bool
    repaired: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_project(
    project: Project, *, repair: bool = False, digest: Callable[[str], str] | None = None
) -> list[Finding]:
    """Everything wrong with ``project``; with ``repair`` (and a writable project) fix what is
    safe to fix and mark those findings ``repaired``. ``digest`` (the audio content hash)
    also finds a recording replaced by another file of the same size."""
    repair = repair and not project.read_only
    findings: list[Finding] = []
    findings += _integrity(project, repair)
    findings += _label_counts(project, repair)
    findings += _dead_runs(project, repair)
    findings += _audio(project, repair, digest)
    findings += _earlier_audio(project)
    hashes = {rec.content_hash for rec in project.recordings()}
    findings += _cache(project, hashes, repair)
    findings += _runs_folder(project, hashes, repair)
    return findings


# What PRAGMA integrity_check says of an index that no longer matches its table: the table's
# rows are sound, and REINDEX makes the index again from them.
_INDEX_DAMAGE = re.compile(
    r"^(?:row \d+ missing from index|wrong # of entries in index|non-unique entry in index) "
    r"(\S+)"
)


def _integrity(project: Project, repair: bool) -> list[Finding]:
    problems = project.integrity_problems()
    try:
        broken = project.conn.execute("PRAGMA foreign_key_check").fetchall()
    except DatabaseProblem as exc:
        problems.append(str(exc))
        broken = []
    problems += [f"row {row[1]} of {row[0]} refers to a missing row of {row[2]}" for row in broken]
    if not problems:
        return []
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    indexes = [_INDEX_DAMAGE.match(problem) for problem in problems]
    if all(indexes):
        names = sorted({m.group(1) for m in indexes if m is not None})
        finding = Finding(
            "integrity",
            str(project.db_path),
            f"{project.db_path}: the database's index {', '.join(names)} no longer matches its "
            f"table: {problems[0]}{more}; the labels and runs themselves are sound, and repair "
            "makes the indexes again from them (REINDEX)",
            repairable=True,
        )
        if repair:
            with project.write():
                project.conn.execute("REINDEX")
            left = project.integrity_problems()
            finding.repaired = not left
            if left:
                finding.message += f"; after REINDEX the database still reports: {left[0]}"
        return [finding]
    return [
        Finding(
            "integrity",
            str(project.db_path),
            f"{project.db_path}: the database is damaged: {problems[0]}{more}; restore the "
            "project from a backup, or save what is readable with "
            f"'sqlite3 {project.db_path} .recover | sqlite3 recovered.sqlite'",
            repairable=False,
        )
    ]


def _label_counts(project: Project, repair: bool) -> list[Finding]:
    """The per-recording label counts (kept by triggers, read by the recording browser and
    ``info``): the table and its triggers as tfstudio makes them, and the counts against a
    count of the events themselves. Repair makes the table and its triggers again when they
    are damaged, and otherwise recounts."""
    try:
        damage = project.label_counts_damage()
    except DatabaseProblem:
        return []  # a damaged database is the integrity finding's to report
    try:
        drift = project.label_count_drift()
    except sqlite3.Error:
        if not damage:
            return []  # as above
        drift = []  # no table, or one not readable as tfstudio's: the damage finding says so
    findings = []
    if damage:
        more = f" (and {len(damage) - 1} more)" if len(damage) > 1 else ""
        findings.append(
            Finding(
                "label_counts",
                f"{project.db_path}: label_counts",
                f"{project.db_path}: {damage[0]}{more}; the recording browser and "
                "'tfstudio info' show the label counts; repair makes the table and its "
                "triggers again and counts the labels (no label changes)",
                repairable=True,
            )
        )
    if drift:
        names = {c.id: c.name for c in project.classes()}
        first = drift[0]
        more = f" (and {len(drift) - 1} more)" if len(drift) > 1 else ""
        findings.append(
            Finding(
                "label_counts",
                f"recording {first[0]}",
                f"the stored label counts disagree with the labels for {len(drift)} recording "
                f"and class pair(s), e.g. recording {first[0]}, class "
                f"{names.get(first[1], first[1])!r}: {first[2]} stored, {first[3]} labelled"
                f"{more}; the recording browser and 'tfstudio info' show the stored counts; "
                "repair recounts them (no label changes)",
                repairable=True,
            )
        )
    if repair and findings:
        if damage:
            project.rebuild_label_counts()
        else:
            project.recount_labels()
        for finding in findings:
            finding.repaired = True
    return findings


def _dead_runs(project: Project, repair: bool) -> list[Finding]:
    dead = project.dead_runs()
    marked = set(project.mark_dead_runs()) if repair and dead else set()
    return [
        Finding(
            "dead_run",
            f"run {run.id}",
            f"run {run.id} ({run.name}) is marked {run.status} but its process (pid {run.pid}) "
            f"has ended; mark it stopped ({DEAD_RUN_MESSAGE}) and resume it with "
            f"'tfstudio train {project.root} --resume {run.id}'",
            repairable=True,
            repaired=run.id in marked,
        )
        for run in dead
    ]


def _audio(
    project: Project, repair: bool, digest: Callable[[str], str] | None = None
) -> list[Finding]:
    problems = project.check_files(record=repair, digest=digest)
    findings = []
    for rec, _line in problems:
        path = project.absolute_path(rec)
        missing = not path.exists()
        findings.append(
            Finding(
                "missing_audio" if missing else "changed_audio",
                str(path),
                (
                    f"{path}: recording {rec.name} is missing; put it back, or if it moved, run "
                    f"'tfstudio relink {shlex.quote(str(project.root))} {shlex.quote(str(path))} "
                    "NEW' with NEW its new path (or give both folders for a moved folder); its "
                    "labels are kept"
                    if missing
                    else f"{path}: recording {rec.name} changed since it was imported; "
                    "import it again to update it"
                ),
                repairable=False,
            )
        )
    return findings


def redetect_command(project: Project, run_id: int, recording_id: int) -> str:
    """The quoted ``tfstudio detect`` command that makes a run's detections on a recording
    again (from the audio its file holds now), ready to paste."""
    root = shlex.quote(str(project.root))
    return f"'tfstudio detect {root} --run {run_id} --recording {recording_id}'"


def _earlier_audio(project: Project) -> list[Finding]:
    """Detections made from a recording's earlier audio (its file changed and was imported
    again): the run detects again to make them from this audio; nothing here may."""
    try:
        found = project.other_audio_detections()
    except DatabaseProblem:
        return []  # a damaged database is the integrity finding's to report
    runs = {run.id: run for run in project.runs()}
    findings = []
    for item in found:
        rec = project.recording(item.recording_id)
        path = project.absolute_path(rec)
        run = runs.get(item.run_id)
        made = (
            f"{path}: {item.detections} detection(s) of run {item.run_id} on recording "
            f"{rec.name} were made from its earlier audio (the file changed and was imported "
            "again) and no longer match it"
        )
        if run is not None and run.imported:
            todo = (
                "; they came from another tool's table: run that tool on this audio and "
                "import its new table"
            )
        else:
            todo = (
                f"; {redetect_command(project, item.run_id, rec.id)} makes them again from "
                "this audio (reviewed ones are kept)"
            )
        findings.append(
            Finding(
                "earlier_audio_detections",
                f"{path}: run {item.run_id}",
                made + todo,
                repairable=False,
            )
        )
    return findings


def _remove(path: Path, finding: Finding, repair: bool) -> Finding:
    if repair:
        try:
            path.unlink()
            finding.repaired = True
        except OSError as exc:
            finding.message += f" (could not delete it: {exc.strerror or exc})"
    return finding


def _stale_temporary(path: Path, repair: bool, *, owner_alive: bool = False) -> Finding | None:
    match = _TEMP_WITH_PID.search(path.name)
    if match is not None:
        owner_alive = pid_exists(int(match.group(1)))
    elif not path.name.endswith(".tmp"):
        return None
    if owner_alive:
        return None  # being written right now
    finding = Finding(
        "temporary_file",
        str(path),
        f"{path}: left by a process that ended while writing it; safe to delete",
        repairable=True,
    )
    return _remove(path, finding, repair)


def _cache(project: Project, hashes: set[str], repair: bool) -> list[Finding]:
    findings: list[Finding] = []
    if not project.cache_dir.is_dir():
        return findings
    for path in sorted(p for p in project.cache_dir.rglob("*") if p.is_file()):
        stale = _stale_temporary(path, repair)
        if stale is not None:
            findings.append(stale)
            continue
        match = _HASHED.match(path.name)
        if match is not None and match.group(1) not in hashes:
            finding = Finding(
                "orphaned_cache",
                str(path),
                f"{path}: cached features of a recording no longer in the project; safe to delete",
                repairable=True,
            )
            findings.append(_remove(path, finding, repair))
    return findings


def checkpoint_damage(path: Path) -> str | None:
    """Why a checkpoint file cannot be read, or None when it can: torch saves a zip archive
    whose members each carry a CRC, so a truncated or overwritten file shows without torch
    (every byte is read once: seconds at most for the largest models)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(name.endswith("data.pkl") for name in archive.namelist()):
                return "not a model file: no data.pkl in it"
            bad = archive.testzip()
    except zipfile.BadZipFile:
        return "not a complete zip archive: cut short or overwritten"
    except (OSError, EOFError, zlib.error) as exc:
        return f"unreadable: {exc}"
    if bad is not None:
        return f"its member {bad} fails its checksum"
    return None


def _runs_folder(project: Project, hashes: set[str], repair: bool) -> list[Finding]:
    findings: list[Finding] = []
    runs = {run.id: run for run in project.runs()}
    for run in runs.values():
        for label, stored in (("best", run.best_checkpoint), ("last", run.last_checkpoint)):
            if not stored:
                continue
            path = Path(stored) if Path(stored).is_absolute() else project.root / stored
            if not path.exists():
                findings.append(
                    Finding(
                        "missing_checkpoint",
                        str(path),
                        f"{path}: the {label} checkpoint of run {run.id} is missing; "
                        "train again or restore the file",
                        repairable=False,
                    )
                )
            elif (damage := checkpoint_damage(path)) is not None:
                findings.append(
                    Finding(
                        "damaged_checkpoint",
                        str(path),
                        f"{path}: the {label} checkpoint of run {run.id} is damaged ({damage}); "
                        "detect and evaluate cannot use it: restore the file or train again",
                        repairable=False,
                    )
                )
    if not project.runs_dir.is_dir():
        return findings
    for folder in sorted(project.runs_dir.iterdir()):
        match = _RUN_FOLDER.match(folder.name)
        if match is None or not folder.is_dir():
            continue
        owner = runs.get(int(match.group(1)))
        if owner is None:
            findings.append(
                Finding(
                    "orphaned_run_folder",
                    str(folder),
                    f"{folder}: no run {match.group(1)} in the database (restored or replaced?); "
                    "it may hold the only copy of a model, so check does not delete it: "
                    "move it away or delete it yourself",
                    repairable=False,
                )
            )
            continue
        alive = owner.status in ("queued", "running") and not process_gone(
            owner.pid, owner.host, owner.pid_started
        )
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            stale = _stale_temporary(path, repair, owner_alive=alive)
            if stale is not None:
                findings.append(stale)
                continue
            match_hash = _HASHED.match(path.name)
            if (
                path.parent.name == "posteriors"
                and match_hash
                and match_hash.group(1) not in hashes
            ):
                finding = Finding(
                    "orphaned_posteriors",
                    str(path),
                    f"{path}: posteriors of a recording no longer in the project; safe to delete",
                    repairable=True,
                )
                findings.append(_remove(path, finding, repair))
    return findings
