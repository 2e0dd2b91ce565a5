"""View settings (:class:`~tfstudio.session.view_settings.ViewSettings`) and recent projects,
remembered with QSettings."""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

from PySide6.QtCore import QSettings

from tfstudio.session.view_settings import ViewSettings

ORGANIZATION = "tfstudio"
APPLICATION = "tfstudio"
MAX_RECENT = 10


def qsettings() -> QSettings:
    """The app's settings store (the default format, so tests can redirect it to a folder)."""
    return QSettings(
        QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def load_view_settings(store: QSettings | None = None) -> ViewSettings:
    store = store or qsettings()
    stored = {f.name: store.value(f"view/{f.name}") for f in fields(ViewSettings)}
    settings = ViewSettings.from_stored(stored)
    if settings.max_hz and settings.min_hz >= settings.max_hz:
        # An empty or inverted range (once accepted by the Settings dialog) shows nothing:
        # the whole range instead.
        settings = settings.with_changes(min_hz=0.0, max_hz=0.0)
    return settings


def save_view_settings(settings: ViewSettings, store: QSettings | None = None) -> None:
    store = store or qsettings()
    for key, value in asdict(settings).items():
        store.setValue(f"view/{key}", value)
    store.sync()


def closed_docks(store: QSettings | None = None) -> set[str]:
    """Docks the user closed (View menu or the dock's close button): they stay closed."""
    store = store or qsettings()
    raw = store.value("window/closed_docks") or []
    return {raw} if isinstance(raw, str) else {str(name) for name in raw}


def set_dock_closed(name: str, closed: bool, store: QSettings | None = None) -> None:
    store = store or qsettings()
    names = closed_docks(store)
    names = names | {name} if closed else names - {name}
    store.setValue("window/closed_docks", sorted(names))
    store.sync()


def recent_projects(store: QSettings | None = None) -> list[Path]:
    store = store or qsettings()
    raw = store.value("recent/projects") or []
    if isinstance(raw, str):
        raw = [raw]
    return [Path(p) for p in raw if p]


def remember_project(path: Path, store: QSettings | None = None) -> None:
    store = store or qsettings()
    path = Path(path).absolute()
    items = [p for p in recent_projects(store) if p != path]
    store.setValue("recent/projects", [str(p) for p in [path, *items][:MAX_RECENT]])
    store.sync()


def forget_project(path: Path, store: QSettings | None = None) -> None:
    store = store or qsettings()
    items = [str(p) for p in recent_projects(store) if p != Path(path).absolute()]
    store.setValue("recent/projects", items)
    store.sync()
