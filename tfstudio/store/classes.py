"""The event classes of a project: names, colours, hotkeys and order; renaming, merging and
deleting them are undoable steps."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from tfstudio.store.colors import fresh_class_colors, next_class_color
from tfstudio.store.errors import ProjectError
from tfstudio.store.history import History
from tfstudio.store.names import check_class_name
from tfstudio.store.records import EventClass

EDITABLE_CLASS_FIELDS = frozenset({"name", "color", "hotkey", "position"})


def _class_name(name: str) -> str:
    """The stripped name in Unicode normal form NFC, or ProjectError saying why it cannot
    name a class. One form: a label file written on macOS (decomposed accents, NFD) made a
    second class that looked exactly like the first."""
    try:
        return unicodedata.normalize("NFC", check_class_name(name))
    except ValueError as exc:
        if not name.strip():
            raise ProjectError("a class needs a name") from None
        raise ProjectError(f"{exc}; choose another name") from None


def _other_forms(name: str) -> tuple[str, str]:
    return unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)


class ClassStore(History):
    """Adding, editing, merging and deleting a project's event classes."""

    def classes(self) -> list[EventClass]:
        rows = self._rows("SELECT * FROM classes ORDER BY position, id")
        return [EventClass.from_row(r) for r in rows]

    def class_by_name(self, name: str) -> EventClass | None:
        """The class called ``name``, in whichever Unicode normal form either is written (a
        project made before names were stored in NFC may hold NFD ones)."""
        for form in dict.fromkeys((name, *_other_forms(name))):
            rows = self._rows("SELECT * FROM classes WHERE name = ?", (form,))
            if rows:
                return EventClass.from_row(rows[0])
        return None

    def add_class(
        self, name: str, *, color: str | None = None, hotkey: str | None = None
    ) -> EventClass:
        name = _class_name(name)
        with self.write(), self._history_group(f"add class {name}"):
            if self.class_by_name(name) is not None:
                raise ProjectError(f"class {name!r} already exists")
            count, max_pos = self.conn.execute(
                "SELECT count(*), coalesce(max(position), -1) FROM classes"
            ).fetchone()
            if hotkey is None and count < 9:
                used = {r[0] for r in self.conn.execute("SELECT hotkey FROM classes")}
                hotkey = next((str(k) for k in range(1, 10) if str(k) not in used), None)
            if not color:
                colors = [r[0] for r in self.conn.execute("SELECT color FROM classes")]
                color = next_class_color(colors)
            cursor = self.conn.execute(
                "INSERT INTO classes (name, color, hotkey, position) VALUES (?, ?, ?, ?)",
                (name, color, hotkey, max_pos + 1),
            )
            class_id = int(cursor.lastrowid or 0)
            self._record("classes", class_id, None, self._row("classes", class_id))
            self._changed("classes", [class_id])
        return self.event_class(class_id)

    def add_classes(
        self, names: Sequence[str], colors: Sequence[str] | None = None
    ) -> list[EventClass]:
        """Add many classes at once (a repertoire of thousands), one undo step; the first nine
        get the free number keys. ``colors`` (one per name) or the next unused colours.
        add_class one by one re-reads the table for each, quadratic at 100 000 classes."""
        names = [_class_name(n) for n in names]
        if len(set(names)) != len(names):
            raise ProjectError("the new classes' names are not all different")
        if colors is not None and len(colors) != len(names):
            raise ProjectError(f"{len(colors)} colours for {len(names)} classes")
        with self.write(), self._history_group(f"add {len(names)} classes"):
            clash = self.conn.execute(
                "SELECT name FROM classes WHERE name IN (SELECT value FROM json_each(?)) LIMIT 1",
                (json.dumps([form for name in names for form in _other_forms(name)]),),
            ).fetchone()
            if clash is not None:
                raise ProjectError(f"class {clash[0]!r} already exists")
            count, max_pos = self.conn.execute(
                "SELECT count(*), coalesce(max(position), -1) FROM classes"
            ).fetchone()
            used_keys = {r[0] for r in self.conn.execute("SELECT hotkey FROM classes")}
            free_keys = [str(k) for k in range(1, 10) if str(k) not in used_keys]
            if colors is None:
                taken = [r[0] for r in self.conn.execute("SELECT color FROM classes")]
                colors = fresh_class_colors(taken, len(names))
            rows = []
            for k, name in enumerate(names):
                color = colors[k]
                hotkey = free_keys[k] if count + k < 9 and k < len(free_keys) else None
                rows.append((name, color, hotkey, max_pos + 1 + k))
            first = (
                int(self.conn.execute("SELECT coalesce(max(id), 0) FROM classes").fetchone()[0]) + 1
            )
            self.conn.executemany(
                "INSERT INTO classes (id, name, color, hotkey, position) VALUES (?, ?, ?, ?, ?)",
                [(first + k, *row) for k, row in enumerate(rows)],
            )
            ids = list(range(first, first + len(rows)))
            for class_id in ids:
                self._record("classes", class_id, None, self._row("classes", class_id))
            self._changed("classes", ids)
        return [c for c in self.classes() if c.id >= first]

    def ensure_class(self, name: str, **kwargs: Any) -> EventClass:
        """The class called ``name``, added when missing (safe against another process adding
        it at the same moment)."""
        existing = self.class_by_name(name.strip())
        if existing is not None:
            return existing
        with self.write():
            existing = self.class_by_name(name.strip())
            return existing if existing is not None else self.add_class(name, **kwargs)

    def event_class(self, class_id: int) -> EventClass:
        rows = self._rows("SELECT * FROM classes WHERE id = ?", (class_id,))
        if not rows:
            raise ProjectError(f"no class with id {class_id}")
        return EventClass.from_row(rows[0])

    def update_class(self, class_id: int, **changes: Any) -> EventClass:
        """Rename, recolour, rebind the hotkey or move a class (one undoable step)."""
        unknown = set(changes) - EDITABLE_CLASS_FIELDS
        if unknown:
            raise ProjectError(f"cannot change class field(s): {', '.join(sorted(unknown))}")
        if "name" in changes:
            changes["name"] = _class_name(str(changes["name"]))
            other = self.class_by_name(changes["name"])
            if other is not None and other.id != class_id:
                raise ProjectError(
                    f"class {changes['name']!r} already exists; merge the classes instead"
                )
        old = self.event_class(class_id).name
        if "name" in changes and changes["name"] != old:
            description = f"rename class {old!r} to {changes['name']!r}"
        elif set(changes) == {"color"}:
            description = f"recolour class {old!r}"
        elif set(changes) == {"hotkey"}:
            description = f"set the key of class {old!r}"
        else:
            description = f"edit class {old!r}"
        with self.write(), self._history_group(description):
            self._update_row("classes", class_id, changes)
            self._changed("classes", [class_id])
        return self.event_class(class_id)

    def merge_classes(self, source_ids: Iterable[int], target_id: int) -> int:
        """Move every event of the source classes to the target and drop the sources."""
        sources = [i for i in source_ids if i != target_id]
        target = self.event_class(target_id)
        moved = 0
        with self.write(), self._history_group(f"merge into {target.name}"):
            for source in sources:
                for row in self._rows("SELECT id FROM events WHERE class_id = ?", (source,)):
                    # Detections too: undo must put every event back in its class.
                    self._update_row("events", row["id"], {"class_id": target_id}, journal=True)
                    moved += 1
                self._delete_row("classes", source)
            self._changed("classes", [*sources, target_id])
            self._changed("events")
        return moved

    def delete_class(self, class_id: int) -> None:
        """Delete a class and its events (one undoable step)."""
        cls = self.event_class(class_id)
        with self.write(), self._history_group(f"delete class {cls.name}"):
            for row in self._rows("SELECT id FROM events WHERE class_id = ?", (class_id,)):
                # Detections too: undo must give back every event it took.
                self._delete_row("events", row["id"], journal=True)
            self._delete_row("classes", class_id)
            self._changed("classes", [class_id])
            self._changed("events")
