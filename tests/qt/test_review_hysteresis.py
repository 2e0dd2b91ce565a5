"""Hysteresis in the Review panel: a class whose detections run on below its threshold says
how far (the slider's lower threshold, the per-class table, the list's tooltip and its
confidence bar); a class without says nothing more."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from tests.qt.conftest import open_review_window
from tests.qt.test_review import _drag_slider
from tests.session.fake_run import HOP_S, save_posteriors, synthetic_posteriors
from tfstudio.store import Project

RATIO = 0.4  # bird's hysteresis; frog has none


@pytest.fixture
def hysteresis_window(qtbot, detected_project):
    """rec0's bird posteriors rise to 0.25 at 1.0 s and pass the threshold only at 1.7 s; the
    run's stored config gives bird a hysteresis of 0.4 (as training tunes it)."""
    with Project.open(detected_project) as project:
        run = project.latest_run()
        project.update_run(run.id, config={**run.config_dict, "class_hysteresis": {"bird": RATIO}})
        rec0 = project.find_recording("rec0")
        post = synthetic_posteriors(rec0.duration)
        post[round(1.0 / HOP_S) : round(1.7 / HOP_S), 0] = 0.25
        post[round(1.7 / HOP_S) : round(2.0 / HOP_S), 0] = 0.6
        save_posteriors(project, run.id, ["bird", "frog"], rec0, post)
    win = open_review_window(qtbot, detected_project)
    yield win
    win.close()


def _class_id(win, name: str) -> int:
    return next(c.id for c in win.workspace.classes() if c.name == name)


def _click_class(qtbot, controls, name: str) -> None:
    """Click a class's row in the per-class table, as a user picks what the slider moves."""
    if not controls.per_class_button.isChecked():
        qtbot.mouseClick(controls.per_class_button, Qt.MouseButton.LeftButton)
    table = controls.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == name)
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _threshold_cells(controls) -> dict:
    table = controls.table
    return {table.item(r, 0).text(): table.item(r, 1) for r in range(table.rowCount())}


def test_the_slider_shows_the_lower_threshold_of_a_class_with_hysteresis_only(
    hysteresis_window, qtbot
):
    win = hysteresis_window
    controls = win.review.thresholds
    bird, frog = _class_id(win, "bird"), _class_id(win, "frog")

    _click_class(qtbot, controls, "bird")
    assert controls.scope_class() == bird
    assert controls.lower_label.isVisible()
    assert controls.lower_label.text() == "↓0.20"
    assert "down to 0.20" in controls.slider.toolTip()
    # The per-class table says it for bird, and nothing more for frog.
    cells = _threshold_cells(controls)
    assert "↓0.20" in cells["bird"].text()
    assert "down to 0.20" in cells["bird"].toolTip()
    assert "↓" not in cells["frog"].text()
    assert "down to" not in cells["frog"].toolTip()

    # The ratio is kept while the threshold moves: the lower threshold moves with the slider.
    _drag_slider(qtbot, controls.slider, 0.6)
    threshold = controls.slider.value() / 100
    assert threshold == pytest.approx(0.6, abs=0.04)
    assert win.detections.threshold_for(bird) == pytest.approx(threshold)
    assert controls.lower_label.text() == f"↓{threshold * RATIO:.2f}"
    assert f"↓{threshold * RATIO:.2f}" in _threshold_cells(controls)["bird"].text()

    # Frog has no hysteresis: no lower threshold anywhere.
    _click_class(qtbot, controls, "frog")
    assert controls.scope_class() == frog
    assert not controls.lower_label.isVisible()
    assert "down to" not in controls.slider.toolTip()

    # All classes: frog and bird follow the global threshold with different hysteresis, so
    # the label stays quiet and the tooltip names bird's.
    _click_class(qtbot, controls, "frog")  # a second click goes back to every class
    assert controls.scope_class() is None
    assert not controls.lower_label.isVisible()
    assert "frog" not in controls.slider.toolTip()


def test_a_detection_whose_mean_lies_below_its_threshold_is_listed_and_explained(
    hysteresis_window, qtbot
):
    """Bird's 1.0–2.0 s sound passes 0.5 only from 1.7 s on: it is detected whole, with a
    mean of 0.355, and the list shows it like any other, saying why."""
    win = hysteresis_window
    controls = win.review.thresholds
    bird = _class_id(win, "bird")
    _click_class(qtbot, controls, "bird")
    _drag_slider(qtbot, controls.slider, 0.5)
    threshold = controls.slider.value() / 100
    assert 0.25 / RATIO > threshold > 0.25  # the quiet part lies between the two thresholds

    panel = win.review
    panel.set_scope("recording")
    model = panel.model
    rows = {
        round(e.onset, 2): (r, e)
        for r in range(model.rowCount())
        if (e := model.event_at(r)).class_id == bird
    }
    assert 1.0 in rows, "the detection runs on back to where the sound began"
    row, event = rows[1.0]
    assert event.offset == pytest.approx(2.0, abs=HOP_S)
    assert event.confidence == pytest.approx(0.7 * 0.25 + 0.3 * 0.6, abs=0.01)
    assert event.confidence < threshold
    tip = model.data(model.index(row, 1), Qt.ItemDataRole.ToolTipRole)
    assert f"goes on down to {threshold * RATIO:.2f}" in tip

    # Its confidence bar has the threshold's tick and a fainter one at the lower threshold.
    delegate = panel.table.itemDelegateForColumn(4)
    image = QImage(200, 20, QImage.Format.Format_ARGB32)
    image.fill(QColor("#000000"))
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 200, 20)
    option.palette = panel.table.palette()
    painter = QPainter(image)
    delegate.paint(painter, option, model.index(row, 4))
    painter.end()
    bar = QRect(option.rect.adjusted(4, 15, -4, -2))
    y = bar.bottom()

    def at(value: float) -> QColor:
        return image.pixelColor(QPoint(bar.left() + round(bar.width() * value), y))

    full, faint = at(threshold), at(threshold * RATIO)
    assert full.lightness() > 240
    # Over the filled part of the bar (in bird's colour), lighter than the bar beside it.
    beside = at(threshold * RATIO + 0.03)
    assert faint.lightness() > beside.lightness() + 20
    assert faint.lightness() < full.lightness()


def test_without_hysteresis_nothing_more_is_shown(review_window, qtbot):
    """The run of ``review_window`` has no hysteresis: no lower threshold anywhere."""
    win = review_window
    controls = win.review.thresholds
    for name in ("bird", "frog"):
        _click_class(qtbot, controls, name)
        assert not controls.lower_label.isVisible()
        assert "down to" not in controls.slider.toolTip()
    assert all("↓" not in controls.table.item(r, 1).text() for r in range(2))
    model = win.review.model
    assert model.rowCount()
    assert "down to" not in model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
    assert np.isclose(win.detections.hysteresis_for(_class_id(win, "bird")), 1.0)


def test_all_classes_with_thresholds_of_their_own_say_the_slider_moves_none(
    hysteresis_window, qtbot
):
    """After tuning every class has its own threshold: dragging the All classes slider then
    changes no detection, and the panel says so (and how to move one)."""
    win = hysteresis_window
    controls = win.review.thresholds
    model = win.detections
    assert controls.scope_class() is None
    assert not controls.scope_note.isVisible()  # frog and bird follow the global threshold

    for name in ("bird", "frog"):  # each given its own, as training's tuning leaves them
        _click_class(qtbot, controls, name)
        _drag_slider(qtbot, controls.slider, 0.45)
    _click_class(qtbot, controls, "frog")  # a second click: All classes again
    assert controls.scope_class() is None
    assert controls.scope_note.isVisible()
    assert "moves none" in controls.scope_note.text()
    assert "pick a class" in controls.scope_note.toolTip()
    before = {c: model.threshold_for(c) for c in (_class_id(win, "bird"), _class_id(win, "frog"))}
    _drag_slider(qtbot, controls.slider, 0.8)
    assert {c: model.threshold_for(c) for c in before} == before  # what the note says

    _click_class(qtbot, controls, "bird")  # one class chosen: the note goes
    assert not controls.scope_note.isVisible()
