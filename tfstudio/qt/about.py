"""Help ▸ About: what this tfstudio is made of and runs on, where it logs, and the open project's
cache with a way to clear it.

torch's version is read from its installed metadata and the compute device from the shared
``tfstudio doctor`` child (:func:`tfstudio.qt.training.engine.engine_probe`): the GUI process
never loads torch.
"""

from __future__ import annotations

import platform
import shutil
from importlib import metadata
from pathlib import Path

import numpy
import pyqtgraph
import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tfstudio import __version__
from tfstudio.logs import current_log_file
from tfstudio.paths import folder_size
from tfstudio.qt.app import app_icon
from tfstudio.qt.training.engine import EngineProbe, engine_probe
from tfstudio.session.engine import EngineInfo
from tfstudio.session.workspace import Workspace

__all__ = ["AboutDialog", "installed_version", "show_about", "size_text", "versions"]


def installed_version(distribution: str) -> str:
    """The installed version of ``distribution`` from its metadata (no import), or "not installed"."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """The versions the About dialog lists, in its order."""
    return {
        "tfstudio": __version__,
        "Python": platform.python_version(),
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "pyqtgraph": pyqtgraph.__version__,
        "numpy": numpy.__version__,
        "torch": installed_version("torch"),
        "torchaudio": installed_version("torchaudio"),
    }


def size_text(size: int, files: int) -> str:
    """``12.3 MB in 45 files``; ``empty`` for nothing."""
    if files == 0:
        return "empty"
    amount = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            break
        amount /= 1000
    number = f"{amount:.0f}" if unit == "bytes" else f"{amount:.1f}"
    return f"{number} {unit} in {files} file{'s' if files != 1 else ''}"


def device_text(info: EngineInfo) -> str:
    """What training runs on, as the doctor says, with every GPU it sees."""
    if not info.known:
        reason = info.errors[0] if info.errors else "no answer"
        return f"unknown ({reason})"
    text = info.auto_device()
    if len(info.cuda) > 1:
        text += f" — {len(info.cuda)} GPUs: " + ", ".join(info.cuda)
    return text


def _selectable(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class AboutDialog(QDialog):
    """Versions, compute device, log file, and the open project's cache ("Clear cache")."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        parent: QWidget | None = None,
        *,
        probe: EngineProbe | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About tfstudio")
        self.workspace = workspace
        layout = QVBoxLayout(self)

        header = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        header.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        title = QLabel(
            f"<h2 style='margin:0'>tfstudio {__version__}</h2>"
            "<p>Sound event annotation and training: label spectrograms, train a teacher-forced "
            "CRNN, review its detections.</p><p>MIT licence · © the tfstudio authors</p>"
        )
        title.setWordWrap(True)
        header.addWidget(title, 1)
        layout.addLayout(header)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.version_labels: dict[str, QLabel] = {}
        for name, version in versions().items():
            label = _selectable(version)
            self.version_labels[name] = label
            form.addRow(name, label)

        self.device_label = _selectable("asking tfstudio doctor…")
        self.device_label.setObjectName("aboutDevice")
        form.addRow("Compute device", self.device_label)

        log = current_log_file()
        self.log_label = _selectable(str(log) if log else "no log file (it could not be written)")
        log_row = QHBoxLayout()
        log_row.addWidget(self.log_label, 1)
        self.open_log_button = QPushButton("Open folder")
        self.open_log_button.setEnabled(log is not None)
        self.open_log_button.clicked.connect(self._on_open_log_clicked)
        log_row.addWidget(self.open_log_button)
        form.addRow("Log file", log_row)

        self.cache_label = _selectable("")
        self.cache_label.setObjectName("aboutCache")
        cache_row = QHBoxLayout()
        cache_row.addWidget(self.cache_label, 1)
        self.clear_button = QPushButton("Clear cache…")
        self.clear_button.setToolTip(
            "Deletes the project's cached log-mel features (cache/); training and detection "
            "compute them again from the recordings. Labels, runs and checkpoints stay."
        )
        self.clear_button.clicked.connect(self._on_clear_clicked)
        cache_row.addWidget(self.clear_button)
        form.addRow("Project cache", cache_row)
        layout.addLayout(form)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)
        self.refresh_cache()

        self.probe = probe if probe is not None else engine_probe()
        self.probe.ready.connect(self._on_engine_ready)
        self.probe.request()

    # ------------------------------------------------------------------ cache
    def cache_dir(self) -> Path | None:
        """The open project's cache folder, or None with no project."""
        project = self.workspace.project if self.workspace is not None else None
        return project.cache_dir if project is not None else None

    def refresh_cache(self) -> None:
        folder = self.cache_dir()
        if folder is None:
            self.cache_label.setText("no project open")
            self.clear_button.setEnabled(False)
            return
        size, files = folder_size(folder)
        self.cache_label.setText(f"{folder}\n{size_text(size, files)}")
        self.clear_button.setEnabled(files > 0)

    def clear_cache(self) -> int:
        """Delete everything in the project's cache folder (the folder stays); bytes freed."""
        folder = self.cache_dir()
        if folder is None or not folder.is_dir():
            return 0
        size, _ = folder_size(folder)
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        left, _ = folder_size(folder)
        self.refresh_cache()
        return size - left

    def _on_clear_clicked(self) -> None:
        folder = self.cache_dir()
        if folder is None:
            return
        size, files = folder_size(folder)
        answer = QMessageBox.question(
            self,
            "Clear cache",
            f"Delete the cached features in {folder} ({size_text(size, files)})?\n\n"
            "They are computed again from the recordings when training or detection needs "
            "them. Labels, detections, runs and checkpoints are not touched.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.clear_cache()

    # ------------------------------------------------------------------ other
    def _on_engine_ready(self, info: EngineInfo) -> None:
        self.device_label.setText(device_text(info))
        torch = info.versions.get("torch")
        if torch:  # the doctor's word includes the build (+cu130, +cpu)
            self.version_labels["torch"].setText(torch)

    def _on_open_log_clicked(self) -> None:
        log = current_log_file()
        if log is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(log.parent)))


def show_about(parent: QWidget | None, workspace: Workspace | None) -> AboutDialog:
    """Open the About dialog (not modal) over ``parent`` for the project in ``workspace``."""
    dialog = AboutDialog(workspace, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
