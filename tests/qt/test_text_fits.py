"""Names and headers are sized from the font and the text, not fixed pixel widths: lane names,
the Recordings and Events tables' columns fit at the default font and at a large one; what
cannot fit is elided in the middle, with the whole name in a tooltip."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from tests.conftest import write_wav
from tests.qt.conftest import app_font

NAMES = ("tone", "sweep", "Common chiffchaff", "noise_burst", "harmonic", "Common blackbird")


def make_project(tmp_path, names=NAMES, long_name: str | None = None):
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    for i in range(3):
        write_wav(audio / f"demo_recording_{i:03d}.wav", 6.0, sample_rate=8000, seed=i)
    with Project.create(tmp_path / "proj") as project:
        import_audio(project, [audio])
        classes = [project.add_class(n) for n in names]
        if long_name:
            classes.append(project.add_class(long_name))
        rec = project.recordings()[0]
        for k, cls in enumerate(classes):
            project.add_event(rec.id, cls.id, 0.2 + 0.4 * k, 0.5 + 0.4 * k)
        return project.root


@pytest.fixture
def app():
    from tfstudio.qt.app import create_application

    return create_application()


def text_width(widget, text: str) -> int:
    return widget.fontMetrics().horizontalAdvance(text)


@pytest.mark.parametrize("points", [None, 15.0])
def test_lane_names_and_table_columns_fit_their_text(qtbot, tmp_path, app, points):
    from tests.qt.conftest import open_window

    root = make_project(tmp_path)
    with app_font(points or app.font().pointSizeF()):
        window = open_window(qtbot, root, size=(1440, 900))
        try:
            qtbot.waitUntil(window.view.has_image, timeout=5000)
            ws = window.workspace
            window.browser.table.selectRow(0)
            # Lanes: the names whole ("4  noise_bu…" was cut, "2  sw…" at 15 pt); at 15 pt
            # in a 650 px view the two long ones are elided in the middle, told apart.
            axis = window.view.lane_axis
            names = axis._names
            for name in ("1  tone", "2  sweep", "4  noise_burst", "5  harmonic"):
                assert name in names
            if points is None:
                assert names == window.view.lane_map.shown_names()
            else:
                common = [n for n in names if n.startswith(("3  Com", "6  Com"))]
                assert len(common) == 2 and common[0].endswith("ff") and common[1].endswith("rd")
            # Recordings: headers and names whole ("ecordin", "demo_…" at 15 pt).
            table = window.browser.table
            header = table.horizontalHeader()
            # The sort arrow's room only on the sorted column (the names).
            assert header.sectionSize(0) >= header.sectionSizeFromContents(0).width()
            for col in range(1, 4):
                title = header.model().headerData(col, Qt.Orientation.Horizontal)
                assert header.sectionSize(col) > text_width(header, title) + 6
            for rec in ws.recordings():
                assert table.columnWidth(0) > text_width(table, rec.name)
            assert table.columnWidth(1) > text_width(table, "30.0 s")
            # Events: class names and times whole.
            events = window.events.table
            whole = "Common chiffchaff" if points is None else "noise_burst"
            assert events.columnWidth(0) > text_width(events, whole) + 10
            assert events.columnWidth(1) > text_width(events, "0.000")
        finally:
            window.close()


def test_a_name_too_long_is_elided_in_the_middle_with_a_tooltip(qtbot, tmp_path, app):
    from tests.qt.conftest import open_window

    long_name = "Eurasian collared dove (Streptopelia decaocto), distant, in rain"
    window = open_window(qtbot, make_project(tmp_path, long_name=long_name), size=(1024, 640))
    try:
        view = window.view
        qtbot.waitUntil(view.has_image, timeout=5000)
        axis = view.lane_axis
        row = len(NAMES)
        shown = axis._names[row]
        assert shown != axis._full[row] and "…" in shown
        assert shown.startswith("7  Eur") and shown.endswith("rain")  # both ends kept
        # Short names are whole; those that share a start are told apart by their ends
        # ("3  Common…" and "6  Common…" were not); the spectrogram keeps most of the width.
        assert {"1  tone", "2  sweep", "4  noise_burst", "5  harmonic"} <= set(axis._names)
        common = [n for n in axis._names if n.startswith(("3  Comm", "6  Comm"))]
        assert common[0].endswith("chaff") and common[1].endswith("bird")
        assert axis.width() <= 0.3 * view.width()
        # Hovering the name shows it whole.
        scene_y = view.lane_vb.mapViewToScene(QPointF(0, row + 0.5)).y()
        x = axis.sceneBoundingRect().center().x()
        pos = view.graphics.mapFromScene(QPointF(x, scene_y))
        qtbot.mouseMove(view.graphics.viewport(), pos - QPoint(0, 40))
        qtbot.mouseMove(view.graphics.viewport(), pos)
        qtbot.waitUntil(lambda: axis.toolTip() == f"7  {long_name}", timeout=2000)
        # The Events table elides in the middle too, with the name as its tooltip.
        table, model = window.events.table, window.events.model
        last = next(
            r for r in range(model.rowCount()) if model.data(model.index(r, 0)) == long_name
        )
        assert table.textElideMode() == Qt.TextElideMode.ElideMiddle
        assert model.data(model.index(last, 0), Qt.ItemDataRole.ToolTipRole) == long_name
        assert window.browser.table.textElideMode() == Qt.TextElideMode.ElideMiddle
    finally:
        window.close()
