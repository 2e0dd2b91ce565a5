"""View settings and recent projects, remembered with QSettings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

ORGANIZATION = "tfstudio"
APPLICATION = "tfstudio"
MAX_RECENT = 10

# Name shown to the user → pyqtgraph colormap name (and whether it is reversed).
COLORMAPS: dict[str, tuple[str, bool]] = {
    "Magma": ("magma", False),
    "Inferno": ("inferno", False),
    "Viridis": ("viridis", False),
    "Cividis": ("cividis", False),
    "Grey (dark is quiet)": ("CET-L1", False),
    "Grey (paper, dark is loud)": ("CET-L1", True),
}
FFT_SIZES = (256, 512, 1024, 2048, 4096, 8192)


@dataclass(frozen=True)
class ViewSettings:
    """How spectrograms are drawn; every field is remembered between sessions."""

    colormap: str = "Magma"
    range_db: float = 60.0  # dynamic range shown: top − range … top
    auto_top: bool = True  # top level from the recording's loud tail
    top_db: float = -20.0  # used when auto_top is off
    n_fft: int = 1024
    hop: int = 256  # samples between columns at full zoom
    min_hz: float = 0.0
    max_hz: float = 0.0  # 0: up to the Nyquist frequency
    label_overlay: bool = True  # draw time-only labels over the spectrogram too
    cache_mb: int = 128

    def with_changes(self, **changes: Any) -> ViewSettings:
        return replace(self, **changes)

    def validated(self) -> ViewSettings:
        """Clamp values a hand-edited or old settings file might hold."""
        n_fft = self.n_fft if self.n_fft in FFT_SIZES else 1024
        hop = int(min(max(16, self.hop), n_fft))
        colormap = self.colormap if self.colormap in COLORMAPS else "Magma"
        return replace(
            self,
            colormap=colormap,
            n_fft=n_fft,
            hop=hop,
            range_db=float(min(max(10.0, self.range_db), 200.0)),
            min_hz=max(0.0, float(self.min_hz)),
            max_hz=max(0.0, float(self.max_hz)),
            cache_mb=int(min(max(16, self.cache_mb), 4096)),
        )


def qsettings() -> QSettings:
    """The app's settings store (the default format, so tests can redirect it to a folder)."""
    return QSettings(
        QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def load_view_settings(store: QSettings | None = None) -> ViewSettings:
    store = store or qsettings()
    values: dict[str, Any] = {}
    defaults = ViewSettings()
    for f in fields(ViewSettings):
        raw = store.value(f"view/{f.name}")
        if raw is None:
            continue
        default = getattr(defaults, f.name)
        try:
            if isinstance(default, bool):
                values[f.name] = raw if isinstance(raw, bool) else str(raw).lower() == "true"
            else:
                values[f.name] = type(default)(raw)
        except (TypeError, ValueError):
            continue
    return ViewSettings(**values).validated()


def save_view_settings(settings: ViewSettings, store: QSettings | None = None) -> None:
    store = store or qsettings()
    for key, value in asdict(settings).items():
        store.setValue(f"view/{key}", value)
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
