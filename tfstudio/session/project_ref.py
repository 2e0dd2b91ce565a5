"""A project given either open or as a folder: how long-lived views reach the store."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tfstudio.store import Project, ProjectError


class ProjectRef:
    """A project given as an open :class:`Project` (borrowed: never closed here) or as a
    folder (opened on first use, on the calling thread, and closed by :meth:`close`)."""

    def __init__(self, project: Project | Path | str | None) -> None:
        self.value = project
        self._borrowed = project if isinstance(project, Project) else None
        self._own: Project | None = None
        if isinstance(project, Project):
            self.root: Path | None = project.root
        else:
            self.root = None if project is None else Path(project)

    def get(self) -> Project | None:
        """The open project, or None when there is none or it cannot be opened."""
        if self._borrowed is not None:
            return self._borrowed
        if self._own is None and self.root is not None:
            try:
                self._own = Project.open(self.root)
            except (ProjectError, OSError, sqlite3.Error):
                return None
        return self._own

    @contextlib.contextmanager
    def open(self) -> Iterator[Project | None]:
        """``with ref.open() as project:`` — None when unavailable; a project closed under
        us (the main window switched projects) reads as unavailable, not as a crash."""
        with contextlib.suppress(sqlite3.ProgrammingError):
            yield self.get()

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None
