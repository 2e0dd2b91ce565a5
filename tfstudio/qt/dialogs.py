"""Dialogs: view settings, long jobs with progress, import reports, export options."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tfstudio.features.tiles import WINDOWS
from tfstudio.qt.fit import ScrollBody, fit_to_screen
from tfstudio.session.view_settings import COLORMAPS, FFT_SIZES, ViewSettings

T = TypeVar("T")
ERROR_COLOR = "#e0604f"
Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """Raised inside a job's progress callback when the user pressed Cancel."""


class _Bridge(QObject):
    progress = Signal(int, int)
    finished = Signal()


def exec_once(dialog: QDialog) -> int:
    """Run a modal dialog, then have Qt delete it once control is back in the event loop: a
    dialog made with a parent stays its hidden child until deleted, one more per opening
    (the Train dialog with its plot, each time). What the caller reads of it after this
    returns, in the same slot, is still there."""
    try:
        return dialog.exec()
    finally:
        dialog.deleteLater()


def run_with_progress(
    parent: QWidget | None, title: str, label: str, job: Callable[[Progress], T]
) -> T:
    """Run ``job(progress)`` on a worker thread behind a modal progress dialog.

    The job must not touch the GUI's Project (SQLite connections belong to their thread):
    it opens its own. Cancel makes the next ``progress`` call raise ``Cancelled``.
    Exceptions from the job are re-raised here, on the GUI thread.
    """
    # Why this is a thread and not a child process (:class:`tfstudio.qt.job.Job`): it runs
    # importing and demo generation, plain Python without torch that cannot take the window
    # down, and its callers want the importer's report object back, at once (File ▸ Import
    # shows it; tests read it). A child would need an ``import --json`` that streams progress
    # and the whole report, which the CLI does not have. The nested loop is safe here because
    # the dialog is modal: no other window action can start while it runs.
    dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoReset(False)
    dialog.setAutoClose(False)
    bridge = _Bridge()
    cancelled = threading.Event()
    outcome: dict[str, Any] = {}
    loop = QEventLoop()

    def progress(done: int, total: int) -> None:
        if cancelled.is_set():
            raise Cancelled()
        bridge.progress.emit(done, total)

    def work() -> None:
        try:
            outcome["result"] = job(progress)
        except BaseException as exc:  # handed to the GUI thread, which re-raises
            outcome["error"] = exc
        finally:
            bridge.finished.emit()

    def on_progress(done: int, total: int) -> None:
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, max(total, 1)))
        dialog.setLabelText(f"{label}\n{done} of {total}")

    bridge.progress.connect(on_progress)
    bridge.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
    dialog.canceled.connect(cancelled.set)
    thread = threading.Thread(target=work, name=title, daemon=True)
    thread.start()
    loop.exec()
    thread.join()
    dialog.close()
    dialog.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


class ReportDialog(QDialog):
    """A summary line and the full, copyable list of what was skipped and why, then the
    ``warnings`` (what was done on purpose: passed over, cut to fit), marked as such, as the
    command line prints them."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        summary: str,
        details: Sequence[str],
        warnings: Sequence[str] = (),
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        # Wide enough for most problem lines (a path, then what to do) on one line each.
        screen = self.screen().availableGeometry().width() if self.screen() else 1024
        listed = bool(details or warnings)
        self.resize(min(900, int(screen * 0.9)) if listed else 640, 360 if listed else 160)
        layout = QVBoxLayout(self)
        head = QLabel(summary)
        head.setWordWrap(True)
        head.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(head)
        lines = [*details, *(f"warning: {w}" for w in warnings)]
        if lines:
            counts = [f"{len(details)} problem(s)"] if details else []
            counts += [f"{len(warnings)} warning(s)"] if warnings else []
            layout.addWidget(QLabel(", ".join(counts) + ":"))
            text = QPlainTextEdit("\n".join(lines))
            text.setReadOnly(True)
            # Wrapped: each line names a file and then what to do about it, and the second
            # half was off to the right of a 640 px dialog.
            text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
            layout.addWidget(text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)


# The frequency axes as the menus and the settings name them.
SCALE_NAMES = {"linear": "Linear", "log": "Logarithmic", "mel": "Mel"}


class SettingsDialog(QDialog):
    """Colormap, levels, FFT and frequency range of the spectrogram."""

    def __init__(
        self,
        settings: ViewSettings,
        parent: QWidget | None = None,
        *,
        nyquist: float = 0,
        show_machine: Callable[[], object] | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("View settings")
        self._original = settings
        self.colormap = QComboBox()
        self.colormap.addItems(list(COLORMAPS))
        self.range_db = QDoubleSpinBox(minimum=10, maximum=200, singleStep=5, suffix=" dB")
        self.auto_top = QCheckBox("Automatic (from the recording)")
        self.top_db = QDoubleSpinBox(minimum=-200, maximum=40, singleStep=5, suffix=" dB")
        self.brightness = QSpinBox(minimum=-100, maximum=100, singleStep=5)
        self.brightness.setToolTip("Also on the toolbar. 0: the levels above as they are")
        self.contrast = QSpinBox(minimum=-100, maximum=100, singleStep=5)
        self.contrast.setToolTip(
            "Also on the toolbar. +100 shows a quarter of the dynamic range, −100 four times it"
        )
        self.n_fft = QComboBox()
        for size in FFT_SIZES:
            self.n_fft.addItem(f"{size} samples", size)
        self.hop = QSpinBox(minimum=16, maximum=8192, singleStep=32, suffix=" samples")
        self.window_shape = QComboBox()
        for kind in WINDOWS:
            self.window_shape.addItem(kind.replace("-", "–").capitalize(), kind)
        self.window_shape.setToolTip(
            "Hann suits most sounds; Blackman–Harris keeps loud tones from smearing over "
            "quiet neighbours; rectangular shows the sharpest time detail"
        )
        self.overlap = QLabel()
        self.min_hz = QDoubleSpinBox(minimum=0, maximum=200_000, singleStep=100, suffix=" Hz")
        self.max_hz = QDoubleSpinBox(minimum=0, maximum=200_000, singleStep=100, suffix=" Hz")
        self.max_hz.setSpecialValueText("Nyquist")
        self.freq_scale = QComboBox()
        for kind, text in SCALE_NAMES.items():
            self.freq_scale.addItem(text, kind)
        self.overlay = QCheckBox("Shade time-only labels over the spectrogram")
        self.cache_mb = QSpinBox(minimum=16, maximum=4096, singleStep=16, suffix=" MB")

        look = QGroupBox("Colours")
        form = QFormLayout(look)
        form.addRow("Colour map", self.colormap)
        form.addRow("Dynamic range", self.range_db)
        top = QHBoxLayout()
        top.addWidget(self.top_db)
        top.addWidget(self.auto_top)
        form.addRow("Top level", top)
        form.addRow("Brightness", self.brightness)
        form.addRow("Contrast", self.contrast)
        fft = QGroupBox("Analysis")
        form = QFormLayout(fft)
        form.addRow("FFT window", self.n_fft)
        form.addRow("Window shape", self.window_shape)
        hop = QHBoxLayout()
        hop.addWidget(self.hop)
        hop.addWidget(self.overlap)
        form.addRow("Hop at full zoom", hop)
        form.addRow("Tile cache", self.cache_mb)
        self._nyquist = nyquist
        freq = QGroupBox("Frequency range shown")
        form = QFormLayout(freq)
        form.addRow("From", self.min_hz)
        form.addRow("To", self.max_hz)
        # Said beside the fields as they are typed; OK refuses the range while it stands.
        self.range_error = QLabel()
        self.range_error.setWordWrap(True)
        self.range_error.setStyleSheet(f"color: {ERROR_COLOR}")
        self.range_error.hide()
        form.addRow("", self.range_error)
        form.addRow("Scale", self.freq_scale)
        if nyquist:
            form.addRow("", QLabel(f"This recording goes up to {nyquist:,.0f} Hz."))
        labels = QGroupBox("Labels")
        QVBoxLayout(labels).addWidget(self.overlay)
        machine = QGroupBox("Computing and cache")
        row = QHBoxLayout(machine)
        row.addWidget(
            QLabel(
                "The compute device, the log file and the project's feature cache (its size,\n"
                "and Clear cache) are in Help ▸ About."
            )
        )
        self.machine_button = QPushButton("Show…")
        row.addWidget(self.machine_button)
        if show_machine is not None:
            self.machine_button.clicked.connect(lambda: show_machine())
        machine.setVisible(show_machine is not None)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            lambda: self.set_values(ViewSettings())
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        for group in (look, fft, freq, labels, machine):
            column.addWidget(group)
        column.addStretch(1)
        # The groups scroll on a small screen (or with a large font); the buttons stay.
        layout = QVBoxLayout(self)
        self.body = ScrollBody(content)
        layout.addWidget(self.body, 1)
        layout.addWidget(buttons)
        self.auto_top.toggled.connect(lambda on: self.top_db.setEnabled(not on))
        self.hop.valueChanged.connect(self._on_hop_change)
        self.n_fft.currentIndexChanged.connect(self._on_hop_change)
        self.min_hz.valueChanged.connect(self._on_range_change)
        self.max_hz.valueChanged.connect(self._on_range_change)
        self.set_values(settings)
        fit_to_screen(self)

    def set_values(self, s: ViewSettings) -> None:
        self.colormap.setCurrentText(s.colormap)
        self.range_db.setValue(s.range_db)
        self.auto_top.setChecked(s.auto_top)
        self.top_db.setValue(s.top_db)
        self.top_db.setEnabled(not s.auto_top)
        self.brightness.setValue(round(s.brightness))
        self.contrast.setValue(round(s.contrast))
        self.n_fft.setCurrentIndex(max(0, self.n_fft.findData(s.n_fft)))
        self.hop.setValue(s.hop)
        self.window_shape.setCurrentIndex(max(0, self.window_shape.findData(s.window)))
        self.min_hz.setValue(s.min_hz)
        self.max_hz.setValue(s.max_hz)
        self.freq_scale.setCurrentIndex(max(0, self.freq_scale.findData(s.freq_scale)))
        self.overlay.setChecked(s.label_overlay)
        self.cache_mb.setValue(s.cache_mb)
        self._on_hop_change()
        self._on_range_change()

    def range_problem(self) -> str:
        """Why the frequency range typed cannot be shown ("" when it can)."""
        low, high = self.min_hz.value(), self.max_hz.value()
        if high:  # 0 is "Nyquist"
            if low >= high:
                return (
                    f"“From” ({low:,.0f} Hz) must be below “To” ({high:,.0f} Hz): "
                    "swap them, or set “To” to Nyquist."
                )
        elif self._nyquist and low >= self._nyquist:
            return (
                f"“From” ({low:,.0f} Hz) must be below this recording's top "
                f"({self._nyquist:,.0f} Hz)."
            )
        return ""

    def _on_range_change(self, *_args) -> None:
        problem = self.range_problem()
        self.range_error.setText(problem)
        if bool(problem) != self.range_error.isVisibleTo(self):
            self.range_error.setVisible(bool(problem))
            if problem and self.isVisible():  # room for the message, where the screen has it
                QTimer.singleShot(0, self._grow_to_fit)
        self.ok_button.setEnabled(not problem)
        self.ok_button.setToolTip(problem)

    def _grow_to_fit(self) -> None:
        self.body.updateGeometry()  # its hint follows its content's, which grew
        layout = self.layout()
        if layout is not None:
            layout.invalidate()
        fit_to_screen(self, QSize(self.width(), max(self.height(), self.sizeHint().height())))

    def accept(self) -> None:
        if self.range_problem():  # Enter in a field: OK is disabled but Enter still accepts
            self._on_range_change()
            self.min_hz.setFocus()
            return
        super().accept()

    def _on_hop_change(self, *_args) -> None:
        n_fft = int(self.n_fft.currentData() or 1024)
        self.hop.setMaximum(n_fft)
        overlap = max(0.0, 1 - self.hop.value() / n_fft) * 100
        self.overlap.setText(f"({overlap:.0f} % overlap)")

    def values(self) -> ViewSettings:
        return ViewSettings(
            colormap=self.colormap.currentText(),
            range_db=self.range_db.value(),
            auto_top=self.auto_top.isChecked(),
            top_db=self.top_db.value(),
            n_fft=int(self.n_fft.currentData()),
            hop=self.hop.value(),
            window=str(self.window_shape.currentData()),
            min_hz=self.min_hz.value(),
            max_hz=self.max_hz.value(),
            freq_scale=str(self.freq_scale.currentData()),
            label_overlay=self.overlay.isChecked(),
            cache_mb=self.cache_mb.value(),
            brightness=float(self.brightness.value()),
            contrast=float(self.contrast.value()),
            waveform=self._original.waveform,  # View ▸ Show waveform
        ).validated()


class ExportDialog(QDialog):
    """Format, what to export, and where."""

    def __init__(
        self, formats: dict[str, Any], default_out: Callable[[str, str], Path], parent=None
    ):
        super().__init__(parent)
        self.setWindowTitle("Export labels")
        self._formats = formats
        self._default_out = default_out
        self.format = QComboBox()
        for name, module in formats.items():
            doc = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
            self.format.addItem(f"{name} — {doc.split(':')[0]}" if doc else name, name)
        self.source = QComboBox()
        self.source.addItem("Labels (human + accepted detections)", "labels")
        self.source.addItem("Detections (not rejected)", "detections")
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.hint = QLabel()
        self.hint.setStyleSheet("color: palette(mid)")
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Export", self.source)
        form.addRow("To", row)
        form.addRow("", self.hint)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(560, 0)
        # A path the user typed or browsed to is theirs: a later change of format or source
        # changes only its suffix, as a native save dialog does; until then it follows them.
        self._path_chosen = False
        self.path.textEdited.connect(self._on_path_edit)
        browse.clicked.connect(self._on_browse)
        self.format.currentIndexChanged.connect(self._on_format_change)
        self.source.currentIndexChanged.connect(self._on_format_change)
        self._format = self.format.currentData()
        self._on_format_change()

    def per_recording(self) -> bool:
        return bool(self._formats[self.format.currentData()].PER_RECORDING)

    def _on_path_edit(self, text: str) -> None:
        self._path_chosen = bool(text.strip())  # emptied: the default comes back next time

    def _on_format_change(self, *_args) -> None:
        fmt, source = self.format.currentData(), self.source.currentData()
        if self._path_chosen:
            self.path.setText(str(self._with_format(Path(self.path.text()), self._format, fmt)))
        else:
            self.path.setText(str(self._default_out(fmt, source)))
        self._format = fmt
        self.hint.setText(
            "One file per recording in this folder." if self.per_recording() else "One file."
        )

    def _with_format(self, path: Path, old: str, new: str) -> Path:
        """``path`` named for format ``new`` instead of ``old``: a file's suffix changes, a
        folder (per-recording formats) has none."""
        old_module, new_module = self._formats[old], self._formats[new]
        name = path.name
        old_suffix = "" if old_module.PER_RECORDING else str(old_module.SUFFIX)
        if old_suffix and name.lower().endswith(old_suffix.lower()) and len(name) > len(old_suffix):
            name = name[: -len(old_suffix)]
        if not new_module.PER_RECORDING:
            name += str(new_module.SUFFIX)
        return path.with_name(name) if name else path

    def _on_browse(self) -> None:
        if self.per_recording():
            chosen = QFileDialog.getExistingDirectory(self, "Export to folder", self.path.text())
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export to file", self.path.text())
        if chosen:
            self.path.setText(chosen)
            self._path_chosen = True

    def values(self) -> tuple[str, str, Path]:
        return self.format.currentData(), self.source.currentData(), Path(self.path.text())
