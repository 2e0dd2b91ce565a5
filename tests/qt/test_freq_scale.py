"""Log and mel frequency axes in the real window: the picture, the boxes, new boxes, the
readout and the axis all agree in Hz, and each project remembers its scale."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.qt.conftest import open_window
from tests.qt.test_annotation import drag, store_labels
from tfstudio.store import Project


@pytest.fixture
def window(qtbot, small_project):
    win = open_window(qtbot, small_project)
    qtbot.waitUntil(win.view.has_image, timeout=5000)
    yield win
    win.close()


def shown_hz(window, view, seconds: float, hz: float) -> str:
    scene = view.graphics.mapToScene(view.viewport_pos("spec", seconds, hz))
    view.graphics.scene().sigMouseMoved.emit(scene)
    return window.cursor_label.text()


def test_log_scale_from_the_view_menu_keeps_everything_in_hz(window, qtbot, small_project):
    view = window.view
    bird = next(c.id for c in window.workspace.classes() if c.name == "bird")
    box = window.workspace.add_event(5.0, 6.0, class_id=bird, low_hz=900.0, high_hz=1100.0)
    window.scale_actions["log"].trigger()
    assert view.scale.kind == "log" and window.scale_actions["log"].isChecked()
    qtbot.waitUntil(lambda: view.tiles.wait(0.01) and view.has_image(), timeout=10000)

    # The axis: round frequencies, in Hz, spread as a log axis spreads them.
    axis = view.freq_axis
    (_, values), *_ = axis.tickValues(*view.spec_vb.viewRange()[1], 300)
    labels = axis.tickStrings(values, 1.0, 1.0)
    assert "1k" in labels and "100" in labels and "Hz" in axis.labelText
    # The box is drawn between log10(900) and log10(1100) on the axis.
    view.events.update()
    (rects,) = [item for key, item in view.events.spec_paths._items.items() if key[1] == "box"]
    rect = rects.qrects(range(len(rects)))[0]
    assert rect.top() == pytest.approx(view.scale.to_axis(900.0), abs=1e-6)
    assert rect.bottom() == pytest.approx(view.scale.to_axis(1100.0), abs=1e-6)
    # The readout says the frequency under the mouse in Hz, and the 1 kHz tone is loud there.
    words = shown_hz(window, view, 0.5, 1000.0).split()
    value, unit = float(words[words.index("f") + 1]), words[words.index("f") + 2]
    assert value * (1000 if unit == "kHz" else 1) == pytest.approx(1000.0, rel=0.01)  # ± a pixel
    tone = view.level_at(0.5, 1000.0)
    assert tone is not None and tone > view.level_at(0.5, 200.0) + 20

    # A Shift+drag box on the log axis is stored in Hz where the user dragged.
    window.workspace.select_event(None)
    drag(qtbot, view, "spec", (2.0, 300.0), (3.0, 3000.0), Qt.KeyboardModifier.ShiftModifier)
    new = next(e for e in store_labels(small_project) if e.id != box.id)
    assert new.low_hz == pytest.approx(300.0, rel=0.05)
    assert new.high_hz == pytest.approx(3000.0, rel=0.05)
    # Clicking inside the old box selects it (picking maps the click back to Hz).
    qtbot.mouseClick(
        view.graphics.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.viewport_pos("spec", 5.5, 1000.0),
    )
    assert window.workspace.selected_id == box.id


def test_each_project_remembers_its_scale(qtbot, small_project, tmp_path):
    first = open_window(qtbot, small_project)
    first.scale_actions["mel"].trigger()
    assert first.view.freq_axis.labelText.startswith("Frequency (Hz, mel")
    first.close()
    # Another project shows the same default until it is given its own.
    other = tmp_path / "other"
    Project.create(other).close()
    second = open_window(qtbot, other)
    assert second.view.scale.kind == "mel"
    second.cycle_frequency_scale()  # mel → linear
    assert second.view.scale.kind == "linear"
    assert second.scale_actions["linear"].isChecked()
    second.close()
    third = open_window(qtbot, small_project)
    assert third.view.scale.kind == "mel" and third.scale_actions["mel"].isChecked()
    third.close()
