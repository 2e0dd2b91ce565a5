"""Brightness and contrast sliders for the toolbar, as in Raven: they move and scale the
spectrogram's colour levels (:meth:`ViewSettings.colour_levels`) without recomputing a tile."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

SLIDER_PX = 96
COMPACT_SLIDER_PX = 64
# In a narrow window the names give way to signs (the tooltips still say what they do).
COMPACT_NAMES = {"Brightness": "☀", "Contrast": "◐"}


class _Slider(QSlider):
    """−100 … 100; a double-click puts it back to 0."""

    def __init__(self, tip: str) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.setRange(-100, 100)
        self.setPageStep(10)
        self.setFixedWidth(SLIDER_PX)
        self.setToolTip(f"{tip}; double-click: back to the middle")
        # Arrow keys belong to the spectrogram (scroll, nudge), never to a slider.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.setValue(0)
        event.accept()


class DisplayControls(QWidget):
    """Two labelled sliders; ``changed(brightness, contrast)`` as they move."""

    changed = Signal(float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.brightness = _Slider("Spectrogram brightness: right is brighter")
        self.contrast = _Slider("Spectrogram contrast: right shows a narrower range of levels")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(4)
        self.labels: dict[str, QLabel] = {}
        for text, slider in (("Brightness", self.brightness), ("Contrast", self.contrast)):
            label = QLabel(text)
            label.setToolTip(slider.toolTip())
            self.labels[text] = label
            layout.addWidget(label)
            layout.addWidget(slider)
            layout.addSpacing(6)
            slider.valueChanged.connect(self._on_value_change)
        # As wide as its parts: the toolbar's spare room is not spread between them.
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.compact = False
        self._full_width = self.sizeHint().width()

    def full_width(self) -> int:
        """The width with names and long sliders (what :meth:`set_compact` saves from)."""
        return self._full_width if self.compact else self.sizeHint().width()

    def set_compact(self, compact: bool) -> None:
        """Signs for names and shorter sliders (a narrow window), or the full form."""
        if compact == self.compact:
            return
        if compact:
            self._full_width = self.sizeHint().width()
        self.compact = compact
        for text, label in self.labels.items():
            label.setText(COMPACT_NAMES[text] if compact else text)
        for slider in (self.brightness, self.contrast):
            slider.setFixedWidth(COMPACT_SLIDER_PX if compact else SLIDER_PX)
        self.adjustSize()

    def set_values(self, brightness: float, contrast: float) -> None:
        """Show these values without emitting ``changed``."""
        with QSignalBlocker(self.brightness), QSignalBlocker(self.contrast):
            self.brightness.setValue(round(brightness))
            self.contrast.setValue(round(contrast))

    def values(self) -> tuple[float, float]:
        return float(self.brightness.value()), float(self.contrast.value())

    def _on_value_change(self, *_args) -> None:
        self.changed.emit(*self.values())
