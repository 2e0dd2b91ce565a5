"""A training plot's empty-state message stays inside a narrow plot, wrapped and centred."""

from __future__ import annotations

from tfstudio.qt.training.plots import TrainingPlot


def test_a_long_empty_message_wraps_inside_a_narrow_plot(qtbot):
    plot = TrainingPlot("Training loss", x_label="iteration (batches)", y_label="BCE loss")
    qtbot.addWidget(plot)
    plot.set_empty_text("Run 12 stored no data for this plot")
    plot.resize(200, 160)  # one of four plots side by side in a 900 px dock
    plot.show()
    qtbot.waitExposed(plot)
    view = plot.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: view.width() < 190)
    text = plot._empty
    inside = view.mapRectToScene(view.boundingRect())
    shown = text.mapRectToScene(text.boundingRect())
    # Before: one line ~230 px wide, centred on a view of ~180 px, past both of its edges.
    assert inside.left() <= shown.left() and shown.right() <= inside.right(), (inside, shown)
    narrow = shown.height()
    plot.resize(700, 300)
    qtbot.waitUntil(lambda: view.width() > 500)
    wide = text.mapRectToScene(text.boundingRect())
    assert wide.width() > shown.width() + 100  # room: one line again
    assert narrow >= 1.5 * wide.height()  # where it had two
