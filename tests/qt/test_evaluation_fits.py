"""The Evaluation panel in a narrow dock (380 px, as beside a laptop's spectrogram): all of the
panel in view, and typical class names whole beside the numbers of the per-class table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from tfstudio.qt.evaluation import SWATCH
from tfstudio.store import Project

from .conftest import open_window

NAMES = (
    "instrument",
    "vehicle",
    "speech",
    "alarm",
    "dog_bark",
    "footsteps",
    "music",
    "door_knock",
    "siren",
    "engine",
    "birdsong",
    "crowd",
    "rain",
    "wind",
    "thunder",
    "water",
    "typing",
    "cough",
    "laughter",
    "baby_cry",
)


def make_project(folder: Path) -> Path:
    project = Project.create(folder / "proj")
    for name in NAMES:
        project.add_class(name)
    root = project.root
    project.close()
    return root


def scores() -> dict[str, Any]:
    """What ``tfstudio evaluate --json`` prints for a run tuned on val: a threshold per class,
    and a class that runs on below its threshold (the widest Thr. cell)."""
    per_class = {
        name: {
            "segment_f1": 0.8 - 0.03 * i,
            "segment_er": 0.35 + 0.08 * i,
            "event_f1": 0.6 - 0.02 * i,
            "event_er": 0.7 + 0.05 * i,
            "reference_events": 136 + i,
            "detected_events": 140 - i,
        }
        for i, name in enumerate(NAMES)
    }
    return {
        "run": 1,
        "epoch": 12,
        "split": "test",
        "recordings": 40,
        "threshold": 0.5,
        "segment_f1": 0.812,
        "segment_er": 0.364,
        "event_f1": 0.553,
        "event_er": 0.81,
        "per_class": per_class,
        "class_thresholds": {name: 0.3 + 0.02 * i for i, name in enumerate(NAMES)},
        "class_hysteresis": {NAMES[0]: 0.5},
    }


def test_in_a_380_px_dock_class_names_and_every_column_are_in_view(qtbot, tmp_path):
    win = open_window(qtbot, make_project(tmp_path))
    try:
        dock, panel = win.docks["evaluation"], win.evaluation
        dock.show()
        dock.raise_()
        win.resizeDocks([dock], [380], Qt.Orientation.Horizontal)
        qtbot.waitUntil(lambda: dock.width() == 380)
        panel.show_result(scores())
        table, header = panel.table, panel.table.horizontalHeader()
        # Twenty classes: the table scrolls, and its scroll bar takes room from the names.
        qtbot.waitUntil(lambda: header.length() > 0 and table.verticalScrollBar().isVisible())

        # The panel is as narrow as its dock: its right part (Evaluate, Det., Thr.) was
        # scrolled out of a dock narrower than 430 px.
        area = dock.widget()
        assert panel.width() <= area.width()
        assert header.length() <= table.viewport().width()
        metrics = table.fontMetrics()
        rows = {table.item(r, 0).text(): table.item(r, 0) for r in range(1, table.rowCount())}
        for name in ("instrument", "vehicle", "speech"):
            index = table.indexFromItem(rows[name])
            # The room the table's own delegate asks for (swatch, text and margins) and at
            # least the text's advance beside the swatch: the name is drawn whole.
            assert table.columnWidth(0) >= table.sizeHintForIndex(index).width(), name
            assert table.columnWidth(0) >= metrics.horizontalAdvance(name) + SWATCH, name
        assert rows["instrument"].toolTip() == "instrument"
    finally:
        win.close()
