"""The recordings of a project: audio files registered by path and content hash, with their
split and whether the file is still where it was."""

from __future__ import annotations

import json
import os
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tfstudio.store.errors import AmbiguousRecording, ProjectError
from tfstudio.store.history import History
from tfstudio.store.records import OtherAudio, Recording
from tfstudio.store.schema import SPLITS

# Unicode normal forms a recording's name is also looked up in.
NORMAL_FORMS: tuple[Literal["NFC", "NFD"], ...] = ("NFC", "NFD")


def _shared_tail(folders: list[str], path: str) -> int:
    """How many of ``folders``' last names the folders of ``path`` end with."""
    theirs = path.replace("\\", "/").split("/")[:-1]
    count = 0
    for mine, other in zip(reversed(folders), reversed(theirs), strict=False):
        if mine != other:
            break
        count += 1
    return count


@dataclass(frozen=True)
class AddResult:
    """Outcome of adding one recording: 'added', 'exists' (same file), 'changed' (same path,
    other content: its stored facts updated, ``previous_duration`` what it was) or 'moved'."""

    recording_id: int
    status: str
    previous_duration: float | None = None


class RecordingStore(History):
    """Adding, finding and checking a project's recordings."""

    def relative_path(self, path: Path | str) -> str:
        """Path as stored: relative to the project folder when inside it, else absolute."""
        path = Path(path).absolute()
        root = self.root.absolute()
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return str(path)

    def absolute_path(self, recording: Recording) -> Path:
        path = Path(recording.path)
        return path if path.is_absolute() else self.root / path

    def add_recording(
        self,
        *,
        path: Path | str,
        sample_rate: int,
        channels: int,
        frames: int,
        duration: float,
        size: int,
        mtime: float,
        content_hash: str,
        split: str | None = None,
        recorded_at: str | None = None,
        recorded_at_source: str | None = None,
        **_ignored: Any,
    ) -> AddResult:
        """Register an audio file; the same path again updates what is stored of it (its
        content may have changed: 'changed'), a known hash at a new path is recorded as a move
        (the path is updated, labels kept). A start (``recorded_at``, `tfstudio.store.recorded`)
        replaces the stored one; None keeps it."""
        if split is not None and split not in SPLITS:
            raise ProjectError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        stored = self.relative_path(path)
        name = Path(path).name
        stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
        with self.write():
            same = self.conn.execute(
                "SELECT id, content_hash, duration FROM recordings WHERE path = ?", (stored,)
            ).fetchone()
            if same is not None:
                self.conn.execute(
                    "UPDATE recordings SET size=?, mtime=?, content_hash=?, sample_rate=?, channels=?,"
                    " frames=?, duration=?, status='ok' WHERE id=?",
                    (size, mtime, content_hash, sample_rate, channels, frames, duration, same[0]),
                )
                if split is not None:
                    self.conn.execute("UPDATE recordings SET split=? WHERE id=?", (split, same[0]))
                self._set_recorded_at(same[0], recorded_at, recorded_at_source)
                self._changed("recordings", [same[0]])
                if same[1] != content_hash:
                    self._took_audio(same[0], same[1], content_hash)
                    return AddResult(same[0], "changed", previous_duration=same[2])
                return AddResult(same[0], "exists")
            moved = self.conn.execute(
                "SELECT id, path FROM recordings WHERE content_hash = ? AND size = ?",
                (content_hash, size),
            ).fetchall()
            for row in moved:
                if not self.absolute_path(self.recording(row[0])).exists():
                    self.conn.execute(
                        "UPDATE recordings SET path=?, name=?, stem=?, mtime=?, status='ok'"
                        " WHERE id=?",
                        (stored, name, stem, mtime, row[0]),
                    )
                    self._set_recorded_at(row[0], recorded_at, recorded_at_source)
                    self._changed("recordings", [row[0]])
                    return AddResult(row[0], "moved")
            cursor = self.conn.execute(
                "INSERT INTO recordings (path, name, stem, size, mtime, content_hash, sample_rate,"
                " channels, frames, duration, split, added_at, recorded_at, recorded_at_source)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored,
                    name,
                    stem,
                    size,
                    mtime,
                    content_hash,
                    sample_rate,
                    channels,
                    frames,
                    duration,
                    split,
                    now := time.time(),
                    recorded_at,
                    recorded_at_source if recorded_at is not None else None,
                ),
            )
            new_id = int(cursor.lastrowid or 0)
            self.conn.execute(
                "INSERT INTO recording_audio (recording_id, since, content_hash) VALUES (?, ?, ?)",
                (new_id, now, content_hash),
            )
            self._changed("recordings", [new_id])
            return AddResult(new_id, "added")

    def _set_recorded_at(self, recording_id: int, start: str | None, source: str | None) -> None:
        if start is not None:
            self.conn.execute(
                "UPDATE recordings SET recorded_at=?, recorded_at_source=? WHERE id=?",
                (start, source, recording_id),
            )

    def _took_audio(self, recording_id: int, old_hash: str, new_hash: str) -> None:
        """Note that a recording's file now holds other audio (``new_hash``), from now on."""
        # A recording without a row (a database another tool filled) had its old audio since
        # it was added: what was detected on it until now was made from that.
        self.conn.execute(
            "INSERT INTO recording_audio (recording_id, since, content_hash)"
            " SELECT id, added_at, ? FROM recordings WHERE id = ? AND NOT EXISTS"
            " (SELECT 1 FROM recording_audio WHERE recording_id = ?)",
            (old_hash, recording_id, recording_id),
        )
        (latest,) = self.conn.execute(
            "SELECT max(since) FROM recording_audio WHERE recording_id = ?", (recording_id,)
        ).fetchone()
        # Later than the audio before it even if the clock went back: the order is the truth.
        since = max(time.time(), (latest or 0.0) + 1e-3)
        self.conn.execute(
            "INSERT INTO recording_audio (recording_id, since, content_hash) VALUES (?, ?, ?)",
            (recording_id, since, new_hash),
        )

    def detections_from_other_audio(self, recording_id: int) -> set[int]:
        """The runs whose unreviewed detections on a recording were made from other audio than
        its file holds now (the file changed and was imported again): ``tfstudio detect`` with
        the run makes them again. Detections a project had before it kept this (schema 6) count
        as made from the audio it had then."""
        return {d.run_id for d in self.other_audio_detections(recording_id)}

    def other_audio_detections(self, recording_id: int | None = None) -> list[OtherAudio]:
        """Per recording (all, or one) and run, how many of the run's unreviewed detections
        there were made from other audio than the recording's file holds now.

        A detection was made from the audio its recording had when it was created (the
        ``recording_audio`` row in force at its ``created_at``), whether a run detected it or
        another tool's table was imported; reviewed ones are labels or negatives, kept by a
        new detection, and not counted."""
        only = "" if recording_id is None else " AND r.id = :recording"
        rows = self.conn.execute(
            "WITH audio AS ("
            " SELECT a.recording_id, a.content_hash, a.since,"
            "  lead(a.since) OVER (PARTITION BY a.recording_id ORDER BY a.since) AS until"
            " FROM recording_audio a WHERE a.recording_id IN ("
            # Only recordings that have had other audio: most never have.
            "  SELECT o.recording_id FROM recording_audio o JOIN recordings r"
            f"  ON r.id = o.recording_id WHERE o.content_hash != r.content_hash{only}))"
            " SELECT e.recording_id, e.run_id, count(*) FROM audio a"
            " JOIN recordings r ON r.id = a.recording_id"
            " JOIN events e ON e.recording_id = a.recording_id"
            " WHERE a.content_hash != r.content_hash"
            " AND e.source = 'model' AND e.review = 'none' AND e.run_id IS NOT NULL"
            " AND e.created_at >= a.since AND (a.until IS NULL OR e.created_at < a.until)"
            " GROUP BY e.recording_id, e.run_id ORDER BY e.recording_id, e.run_id",
            {"recording": recording_id},
        ).fetchall()
        return [OtherAudio(int(rec), int(run), int(n)) for rec, run, n in rows]

    def recordings(self, split: str | None = None) -> list[Recording]:
        if split is None:
            rows = self._rows("SELECT * FROM recordings ORDER BY name, id")
        else:
            rows = self._rows(
                "SELECT * FROM recordings WHERE split = ? ORDER BY name, id", (split,)
            )
        return [Recording.from_row(r) for r in rows]

    def recording(self, recording_id: int) -> Recording:
        rows = self._rows("SELECT * FROM recordings WHERE id = ?", (recording_id,))
        if not rows:
            raise ProjectError(f"no recording with id {recording_id}")
        return Recording.from_row(rows[0])

    def find_recording(self, name: str) -> Recording | None:
        """The recording a label file or a command names: by stored path, file name
        (``rec1.wav``) or stem (``rec1``); a name with folders (``site2/rec1.wav``) picks among
        recordings of the same file name by the end of their path. A name in another Unicode
        normal form than the stored one (macOS writes decomposed accents, NFD) finds it too.
        None when nothing matches; :class:`AmbiguousRecording` when several recordings do."""
        found = self.find_recordings(name)
        if len(found) > 1:
            raise AmbiguousRecording(name, [rec.path for rec in found])
        return found[0] if found else None

    def find_recordings(self, name: str) -> list[Recording]:
        """Every recording :meth:`find_recording` could mean by ``name`` (in id order)."""
        for form in dict.fromkeys((name, *(unicodedata.normalize(f, name) for f in NORMAL_FORMS))):
            found = self._find_recordings(form)
            if found:
                return found
        return []

    def _find_recordings(self, name: str) -> list[Recording]:
        given = name.replace("\\", "/")
        base = given.rsplit("/", 1)[-1]
        for sql, key in (
            ("SELECT * FROM recordings WHERE path = ?", name),
            ("SELECT * FROM recordings WHERE name = ?", base),
            ("SELECT * FROM recordings WHERE stem = ?", base),
        ):
            found = [Recording.from_row(row) for row in self._rows(sql + " ORDER BY id", (key,))]
            if len(found) > 1 and "/" in given:
                # "b/x.wav" (or "data/b/x.wav") among a/x.wav and b/x.wav: the one whose
                # folders end most like the name's.
                folders = given.split("/")[:-1]
                shared = {rec.id: _shared_tail(folders, rec.path) for rec in found}
                most = max(shared.values())
                if most > 0:
                    found = [rec for rec in found if shared[rec.id] == most]
            if found:
                return found
        return []

    def set_split(self, recording_ids: Iterable[int], split: str | None) -> None:
        """Put recordings in a split (None: in none), as one undoable step (joining the
        caller's :meth:`undo_group` if any). The journal keeps only the split, so an undo
        gives back the split and nothing else of the recording (its path or status may have
        changed since, by a relink or a check)."""
        if split is not None and split not in SPLITS:
            raise ProjectError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        ids = list(recording_ids)
        with self.undo_group(f"set split {split or 'none'}"):
            before = dict(
                self.conn.execute(
                    "SELECT id, split FROM recordings WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(ids),),
                ).fetchall()
            )
            self.conn.executemany(
                "UPDATE recordings SET split = ? WHERE id = ?", [(split, i) for i in ids]
            )
            for rec_id, old in before.items():
                if old != split:
                    self._record(
                        "recordings",
                        rec_id,
                        {"id": rec_id, "split": old},
                        {"id": rec_id, "split": split},
                    )
            self._changed("recordings", ids)

    def relocate_recording(self, recording_id: int, path: Path | str, *, mtime: float) -> None:
        """The recording's file now lives at ``path`` (the caller checked it is the same
        audio): labels, splits and runs stay as they are. Not an undo step: it records
        where a file is, not a label."""
        stored = self.relative_path(path)
        name = Path(path).name
        stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
        with self.write():
            other = self.conn.execute(
                "SELECT id FROM recordings WHERE path = ? AND id != ?", (stored, recording_id)
            ).fetchone()
            if other is not None:
                raise ProjectError(f"{path} is already recording {other[0]} of this project")
            self.conn.execute(
                "UPDATE recordings SET path=?, name=?, stem=?, mtime=?, status='ok' WHERE id=?",
                (stored, name, stem, mtime, recording_id),
            )
            self._changed("recordings", [recording_id])

    def check_files(
        self, *, record: bool = True, digest: Callable[[str], str] | None = None
    ) -> list[tuple[Recording, str]]:
        """Recordings whose file is missing or changed since import; with ``record`` (and a
        writable project) their status is stored too.

        A file of the same size is taken as unchanged, unless ``digest`` (the content hash
        function, ``tfstudio.audio.content_hash``) is given: then one whose time changed is
        hashed again, and is changed when its content is (a file replaced by another of the
        same size once kept its old features and was scored as the old one); an unchanged
        one's new time is stored, so it is hashed once.
        """
        # Runs as every project opens: a stat per recording from a few columns, and whole
        # recordings only for those with a problem (10 000 recordings: 0.45 s -> 0.15 s).
        root = str(self.root)
        found: dict[int, str] = {}
        updates: list[tuple[str, int]] = []
        touched: list[tuple[float, int]] = []
        rows = self.conn.execute(
            "SELECT id, path, size, mtime, content_hash, status FROM recordings ORDER BY name, id"
        )
        for rec_id, stored, size, mtime, stored_hash, old in rows.fetchall():
            path = os.path.join(root, stored)
            try:
                stat = os.stat(path)
            except OSError:
                status = "missing"
            else:
                status = "changed" if stat.st_size != size else "ok"
                if status == "ok" and digest is not None and stat.st_mtime != mtime:
                    try:
                        same = digest(path) == stored_hash
                    except OSError:
                        status = "missing"
                    else:
                        status = "ok" if same else "changed"
                        if same:
                            touched.append((stat.st_mtime, rec_id))
            if status != old:
                updates.append((status, rec_id))
            if status != "ok":
                found[rec_id] = status
        problems: list[tuple[Recording, str]] = []
        if found:
            for rec in self.recordings():
                if rec.id in found:
                    problems.append((rec, f"{found[rec.id]}: {self.absolute_path(rec)}"))
        if (updates or touched) and record and not self.read_only:
            with self.write():
                self.conn.executemany("UPDATE recordings SET status = ? WHERE id = ?", updates)
                self.conn.executemany("UPDATE recordings SET mtime = ? WHERE id = ?", touched)
                self._changed("recordings", [i for _, i in updates])
        return problems
