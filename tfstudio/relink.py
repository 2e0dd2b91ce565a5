"""Finding recordings again after their files moved: ``tfstudio relink`` and the window's
"Locate…".

A recording is identified by the content hash of its file, so a file found at a new place is
accepted only when its bytes are the recording's (a different take with the same name is
refused, never silently swapped in). :func:`relink` maps an old file or folder to a new one:
every recording under the old folder is looked for under the new one at the same relative
path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tfstudio.audio.probe import AudioError, probe
from tfstudio.store import DatabaseProblem, Project, ProjectError, Recording

__all__ = ["RelinkReport", "relink"]


@dataclass
class RelinkReport:
    """What :func:`relink` did: recordings moved to their new file, already there, not found
    at the new place, or found there with other content (each with the path looked at)."""

    relinked: list[tuple[Recording, Path]] = field(default_factory=list)
    unchanged: list[Recording] = field(default_factory=list)
    not_found: list[tuple[Recording, Path]] = field(default_factory=list)
    different: list[tuple[Recording, Path, str]] = field(default_factory=list)

    @property
    def matched(self) -> int:
        """Recordings under the old path at all."""
        return len(self.relinked) + len(self.unchanged) + len(self.not_found) + len(self.different)

    def to_dict(self) -> dict[str, object]:
        return {
            "relinked": [{"recording": r.name, "path": str(p)} for r, p in self.relinked],
            "unchanged": [r.name for r in self.unchanged],
            "not_found": [{"recording": r.name, "path": str(p)} for r, p in self.not_found],
            "different": [
                {"recording": r.name, "path": str(p), "reason": why} for r, p, why in self.different
            ],
        }


def _under(path: Path, folder: Path) -> Path | None:
    try:
        return path.relative_to(folder)
    except ValueError:
        return None


def relink(
    project: Project,
    old: Path | str,
    new: Path | str,
    *,
    only_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RelinkReport:
    """Point recordings at ``old`` (a file, or every recording under a folder) to the same
    relative place under ``new``; each new file must hold the recording's exact bytes (its
    content hash). With ``only_missing``, recordings whose file is still where it was are
    left alone."""
    old_path = Path(os.path.abspath(Path(old).expanduser()))
    new_path = Path(os.path.abspath(Path(new).expanduser()))
    if project.read_only:
        # Said once, before any file is read (it was said again for every recording).
        raise project.read_only_error()
    report = RelinkReport()
    plan: list[tuple[Recording, Path]] = []
    for rec in project.recordings():
        current = Path(os.path.abspath(project.absolute_path(rec)))
        if current == old_path:
            target = new_path
        else:
            rest = _under(current, old_path)
            if rest is None:
                continue
            target = new_path / rest
        if only_missing and current.exists():
            continue
        plan.append((rec, target))
    for done, (rec, target) in enumerate(plan, 1):
        if progress is not None:
            progress(done, len(plan))
        if Path(os.path.abspath(project.absolute_path(rec))) == target:
            report.unchanged.append(rec)
            continue
        if not target.exists():
            report.not_found.append((rec, target))
            continue
        try:
            info = probe(target)
        except AudioError as exc:
            report.different.append((rec, target, str(exc)))
            continue
        if info.content_hash != rec.content_hash:
            report.different.append((rec, target, "other content than the recording's file"))
            continue
        try:
            project.relocate_recording(rec.id, target, mtime=info.mtime)
        except DatabaseProblem:
            raise  # the project's (a full disk, a lock): not this recording's, said once
        except ProjectError as exc:
            report.different.append((rec, target, str(exc)))
            continue
        report.relinked.append((rec, target))
    return report
