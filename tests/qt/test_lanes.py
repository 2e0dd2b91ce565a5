"""Many classes: the lanes form a strip of bounded height that scrolls (wheel over the names, a
scroll bar), filters by name and always shows the current class; the spectrogram keeps at
least half of the view. With few classes nothing of it appears."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.conftest import write_wav
from tests.qt.conftest import settle_layout

LEFT = Qt.MouseButton.LeftButton


def make_project(tmp_path, n_classes: int, labelled: tuple[int, ...] = ()):
    """One 10 s recording and ``n_classes`` classes ``c000``…; one label per ``labelled``."""
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    write_wav(audio / "rec.wav", 10.0, seed=0)
    with Project.create(tmp_path / "proj") as project:
        import_audio(project, [audio])
        classes = [project.add_class(f"c{i:03d}") for i in range(n_classes)]
        (rec,) = project.recordings()
        for k, i in enumerate(labelled):
            project.add_event(rec.id, classes[i].id, 1.0 + k * 0.5, 1.4 + k * 0.5)
        return project.root


@pytest.fixture
def open_view(qtbot):
    from tfstudio.qt.spectrogram import SpectrogramView
    from tfstudio.qt.workspace import qt_workspace
    from tfstudio.session.view_settings import ViewSettings

    opened = []

    def open_(root, size=(1200, 800)):
        workspace = qt_workspace()
        view = SpectrogramView(workspace, ViewSettings())
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        workspace.open_project(root)
        qtbot.waitUntil(view.has_image, timeout=5000)
        settle_layout(qtbot, view)
        opened.append((view, workspace))
        return view, workspace

    yield open_
    for view, workspace in opened:
        view.shutdown()
        workspace.close_project()


def ids(workspace) -> dict[str, int]:
    return {c.name: c.id for c in workspace.classes()}


def shown(view) -> list[str]:
    names = {c.id: c.name for c in view.workspace.classes()}
    rows = view.lane_map.rows
    return [names[c] for c in sorted(rows, key=rows.__getitem__)]


def wheel(view, pos: QPoint, steps: int) -> None:
    """Real wheel events on the graphics viewport (120 per notch, up positive)."""
    viewport = view.graphics.viewport()
    for _ in range(abs(steps)):
        delta = 120 if steps > 0 else -120
        event = QWheelEvent(
            QPointF(pos),
            QPointF(viewport.mapToGlobal(pos)),
            QPoint(0, 0),
            QPoint(0, delta),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)


def lane_name_pos(view, row: int) -> QPoint:
    """Viewport position over the name of the lane on ``row``."""
    axis = view.lanes.getAxis("left")
    rect = axis.sceneBoundingRect()
    y = view.lane_vb.mapViewToScene(QPointF(0, row + 0.5)).y()
    return view.graphics.mapFromScene(QPointF(rect.center().x(), y))


def test_thirty_classes_leave_the_spectrogram_half_the_view(open_view, tmp_path, qtbot):
    view, _ = open_view(make_project(tmp_path, 30))
    height = view.graphics.height()
    assert view.spec.geometry().height() >= height / 2
    assert 4 <= len(view.lane_map.rows) < 30
    assert view.strip.scrollbar.isVisible() and view.strip.filter.isVisible()

    def bar_beside_the_lanes() -> bool:
        bar = view.strip.scrollbar.geometry()
        lanes = view.graphics.mapFromScene(view.lane_vb.sceneBoundingRect()).boundingRect()
        return (
            bar.left() > lanes.right()
            and bar.right() <= view.graphics.viewport().width()
            and abs(bar.top() - lanes.top()) <= 2
        )

    # The scroll bar lies beside the lanes, inside the view, once the layout has settled (on
    # a busy machine the first check came before the last relayout: 6 px outside).
    qtbot.waitUntil(bar_beside_the_lanes, timeout=3000)


def test_a_thousand_classes_still_leave_half_the_view(open_view, tmp_path):
    view, _ = open_view(make_project(tmp_path, 1000), size=(1200, 600))
    assert view.spec.geometry().height() >= view.graphics.height() / 2
    assert len(view.lane_map.rows) == view.lane_map.height_rows


def test_few_classes_look_as_before(open_view, tmp_path):
    from tfstudio.qt.spectrogram.events import LANE_PX

    view, _ = open_view(make_project(tmp_path, 8))
    assert shown(view) == [f"c{i:03d}" for i in range(8)]
    assert not view.strip.scrollbar.isVisible() and not view.strip.filter.isVisible()
    assert view.lanes.geometry().height() == 8 * LANE_PX + 40
    assert view.graphics.ci.layout.getContentsMargins()[2] == 10


def test_the_wheel_over_the_lane_names_scrolls_the_lanes(open_view, tmp_path, qtbot):
    view, _ = open_view(make_project(tmp_path, 30))
    top = shown(view)[0]
    t_range = view.view_range()
    wheel(view, lane_name_pos(view, 1), -2)  # down two notches
    qtbot.wait(20)
    assert view.lane_map.first == 6
    assert shown(view)[0] == "c006" != top
    assert view.strip.scrollbar.value() == 6
    assert view.view_range() == t_range  # no time zoom over the names
    wheel(view, lane_name_pos(view, 1), 5)  # back up, past the top
    assert view.lane_map.first == 0
    # The names on the axis follow.
    assert view.lane_axis._names[0] == "1  c000"


def test_the_wheel_in_the_lanes_still_zooms_time(open_view, tmp_path):
    view, _ = open_view(make_project(tmp_path, 30))
    before = view.view_range()
    wheel(view, view.viewport_pos("lanes", 5.0, 2.5), 1)
    after = view.view_range()
    assert after[1] - after[0] < before[1] - before[0]
    assert view.lane_map.first == 0


def test_the_scroll_bar_scrolls_the_lanes(open_view, tmp_path):
    view, _ = open_view(make_project(tmp_path, 30))
    bar = view.strip.scrollbar
    bar.setValue(bar.maximum())
    assert shown(view)[-1] == "c029"
    assert view.lane_map.first == 30 - view.lane_map.height_rows


def test_typing_a_filter_shows_only_matching_lanes(open_view, tmp_path, qtbot):
    view, workspace = open_view(make_project(tmp_path, 30))
    field = view.strip.filter
    qtbot.mouseClick(field, LEFT)
    qtbot.keyClicks(field, "c01")
    # c010…c019 match; the current class (c000) stays, pinned on top.
    assert shown(view) == ["c000"] + [f"c01{i}" for i in range(10)]
    assert not any(name.startswith("c02") for name in shown(view))
    qtbot.keyClicks(field, "7")
    assert shown(view) == ["c000", "c017"]
    # Enter makes the first match the current class and hands the keys back.
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert workspace.current_class_id == ids(workspace)["c017"]
    assert shown(view) == ["c017"]  # c000 is no longer current: no longer pinned
    # Escape clears the filter.
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert field.text() == ""
    assert len(shown(view)) == view.lane_map.height_rows
    assert "c017" in shown(view)


def test_the_current_class_lane_is_always_shown(open_view, tmp_path):
    view, workspace = open_view(make_project(tmp_path, 30))
    cls = ids(workspace)
    workspace.set_current_class(cls["c025"])  # e.g. a click in the class list
    assert view.lane_of(cls["c025"]) is not None
    workspace.set_current_class(cls["c002"])
    assert view.lane_of(cls["c002"]) is not None
    view.strip.filter.setText("c028")
    assert shown(view) == ["c002", "c028"]


def test_classes_labelled_on_the_recording_come_first(open_view, tmp_path):
    view, _ = open_view(make_project(tmp_path, 30, labelled=(20, 7, 29)))
    assert shown(view)[:4] == ["c007", "c020", "c029", "c000"]  # then the rest in class order


def test_dragging_in_a_scrolled_lane_labels_that_lanes_class(open_view, tmp_path, qtbot):
    view, workspace = open_view(make_project(tmp_path, 30))
    wheel(view, lane_name_pos(view, 0), -3)
    settle_layout(qtbot, view)
    row = 2
    name = shown(view)[row]
    viewport = view.graphics.viewport()
    a = view.viewport_pos("lanes", 2.0, row + 0.5)
    b = view.viewport_pos("lanes", 3.5, row + 0.5)
    qtbot.mousePress(viewport, LEFT, pos=a)
    for k in range(1, 7):
        qtbot.wait(12)
        qtbot.mouseMove(viewport, a + (b - a) * k / 6)
    qtbot.mouseRelease(viewport, LEFT, pos=b)
    (event,) = workspace.labels.order
    assert event.class_id == ids(workspace)[name]
    assert event.onset == pytest.approx(2.0, abs=0.06)
    # The new event is selected: its live region sits in that lane.
    assert view.editor.lane_region.isVisible()
    assert view.lane_of(event.class_id) == row


def test_lane_map_scrolls_within_bounds():
    from tfstudio.qt.spectrogram.events import LaneMap
    from tfstudio.store import EventClass

    classes = [EventClass(i, f"n{i}", "#ffffff", None, i) for i in range(50)]
    lanes = LaneMap()
    lanes.set_classes(classes)
    lanes.set_capacity(10)
    lanes.arrange(set(), 0, "")
    lanes.scroll_to(100)
    assert lanes.first == 40 and len(lanes.rows) == 10
    assert lanes.ensure_visible(3) and lanes.rows[3] == 0
    assert lanes.ensure_visible(20) and lanes.rows[20] == 9
    assert not lanes.ensure_visible(15)


def test_the_posteriorgram_follows_the_lanes_and_the_spectrogram_keeps_half(
    open_view, small_project, qtbot
):
    from tests.session.fake_run import detect_on
    from tfstudio.store import Project

    with Project.open(small_project) as project:
        # A finished run of the two classes (as make_fake_run); the project then grows.
        config = {
            "classes": ["bird", "frog"],
            "features": {"hop_length": 160, "sample_rate": 16000},
            "threshold": 0.5,
            "median_filter_frames": 1,
            "min_event_s": 0.0,
            "min_gap_s": 0.0,
        }
        run = project.create_run(config)
        run = project.update_run(run.id, status="done", best_checkpoint="runs/run-1/best.pt")
        detect_on(project, run, project.find_recording("rec0"))
        for i in range(28):
            project.add_class(f"c{i:03d}")
    view, workspace = open_view(small_project, size=(1200, 800))
    rec0 = next(r for r in workspace.recordings() if r.stem == "rec0")
    workspace.set_recording(rec0.id)
    qtbot.waitUntil(lambda: view.posteriorgram_rect() is not None, timeout=5000)
    # Room for the posterior rows is taken from the lanes, not from the spectrogram.
    qtbot.waitUntil(
        lambda: view.spec.geometry().height() >= view.graphics.height() / 2, timeout=2000
    )
    # Bird and frog have detections here: their lanes and posterior rows come first.
    assert shown(view)[:2] == ["bird", "frog"]
    rows = len(view.lane_map.rows)
    assert view.posteriorgram_rect().height() == rows < 30
    wheel(view, lane_name_pos(view, 0), -1)
    assert shown(view)[0] != "bird"
    assert view.posteriorgram_rect().height() == rows


def test_a_click_on_a_lane_name_makes_it_the_current_class(open_view, tmp_path, qtbot):
    view, workspace = open_view(make_project(tmp_path, 30))
    band = view.strip.current_band
    assert band.isVisible() and band.getRegion() == (0, 1)  # c000, the current class
    qtbot.mouseClick(view.graphics.viewport(), LEFT, pos=lane_name_pos(view, 4))
    assert workspace.current_class_id == ids(workspace)["c004"]
    assert band.getRegion() == (4, 5)
    # The band lets drags through: drawing in the current lane labels its class.
    viewport = view.graphics.viewport()
    a = view.viewport_pos("lanes", 2.0, 4.5)
    b = view.viewport_pos("lanes", 3.0, 4.5)
    qtbot.mousePress(viewport, LEFT, pos=a)
    for k in range(1, 7):
        qtbot.wait(12)
        qtbot.mouseMove(viewport, a + (b - a) * k / 6)
    qtbot.mouseRelease(viewport, LEFT, pos=b)
    (event,) = workspace.labels.order
    assert event.class_id == ids(workspace)["c004"]


def test_few_classes_have_no_current_lane_band(open_view, tmp_path):
    view, _ = open_view(make_project(tmp_path, 3))
    assert not view.strip.current_band.isVisible()


def test_ctrl_f_finds_a_class_in_the_lanes_or_the_class_list(qtbot, tmp_path):
    from tests.qt.conftest import open_window

    root = make_project(tmp_path, 40)
    window = open_window(qtbot, root)
    try:
        qtbot.waitUntil(window.view.has_image, timeout=5000)
        graphics = window.view.graphics
        graphics.setFocus()
        qtbot.keyClick(graphics, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        field = window.view.strip.filter
        assert field.hasFocus()
        qtbot.keyClicks(field, "c037")
        qtbot.keyClick(field, Qt.Key.Key_Return)
        assert window.workspace.current_class_id == ids(window.workspace)["c037"]
        # The class list has scrolled to the current class, far down the list.
        palette = window.palette_widget.list
        (item,) = palette.selectedItems()
        assert item.text().strip().endswith("c037   (0)")
        assert palette.visualItemRect(item).intersects(palette.viewport().rect())
    finally:
        window.close()


def test_ctrl_f_with_few_classes_goes_to_the_class_list(qtbot, tmp_path):
    from tests.qt.conftest import open_window

    window = open_window(qtbot, make_project(tmp_path, 3))
    try:
        qtbot.waitUntil(window.view.has_image, timeout=5000)
        window.view.graphics.setFocus()
        qtbot.keyClick(window.view.graphics, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        assert not window.view.strip.filter.isVisible()
        assert window.palette_widget.list.hasFocus()
    finally:
        window.close()


def _handle_rows(view) -> list[float]:
    """The rows (lane units) at the middle of the selected event's two drag handles, as drawn."""
    rows = []
    for line in view.editor.lane_region.lines:
        scene = line.mapRectToScene(line.boundingRect())
        rows.append(view.lane_vb.mapSceneToView(scene.center()).y())
    return rows


def test_the_selection_handles_follow_the_lane_when_a_filter_moves_it(qtbot, tmp_path):
    """Filtering moves the selected event's lane to another row: its drag handles go with it
    (they stayed on the old row), and Esc in the filter clears it and gives the keys back to
    the spectrogram (it kept them: 2 and Delete typed into the filter)."""
    from tests.qt.conftest import open_window

    window = open_window(qtbot, make_project(tmp_path, 40, labelled=(0, 5, 17)))
    try:
        view, workspace = window.view, window.workspace
        qtbot.waitUntil(view.has_image, timeout=5000)
        event = next(e for e in workspace.labels.order if e.class_id == ids(workspace)["c017"])
        row = view.lane_of(event.class_id)
        assert row == 2
        middle = (event.onset + event.offset) / 2
        qtbot.mouseClick(
            view.graphics.viewport(), LEFT, pos=view.viewport_pos("lanes", middle, row + 0.5)
        )
        assert workspace.selected_id == event.id
        assert all(row < y < row + 1 for y in _handle_rows(view))

        graphics = view.graphics
        graphics.setFocus()
        qtbot.keyClick(graphics, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        field = view.strip.filter
        assert field.hasFocus()
        qtbot.keyClicks(field, "c017")
        row = view.lane_of(event.class_id)
        assert row == 0  # the only match (it is the current class too)
        qtbot.wait(50)
        assert all(row < y < row + 1 for y in _handle_rows(view))

        qtbot.keyClick(field, Qt.Key.Key_Escape)
        assert field.text() == ""
        assert not field.hasFocus() and graphics.hasFocus()
        assert workspace.selected_id == event.id  # Esc went to the filter, not to deselect
        qtbot.keyClick(graphics, Qt.Key.Key_2)
        assert workspace.labels.get(event.id).class_id == ids(workspace)["c001"]
        assert field.text() == ""
    finally:
        window.close()
