"""Detections in the window: overlay, posteriorgram, thresholds, and review decisions in the store.

The run here is synthetic (known posteriors, no model): what is drawn and stored can be
predicted exactly. ``test_detect.py`` drives the real model through child processes.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt

from tests.session.fake_run import HOP_S, expected, make_fake_run
from tfstudio.store import Project


def stored(root, **filters):
    """Events as another process sees them: a fresh connection."""
    with Project.open(root) as project:
        return project.events(source="model", **filters)


def pending(root):
    return [e for e in stored(root) if e.review == "none"]


def labels(root):
    with Project.open(root) as project:
        return project.labels()


def test_detections_are_drawn_apart_from_labels_with_an_aligned_posteriorgram(review_window):
    win = review_window
    view, ws = win.view, win.workspace
    assert len(ws.detections) == expected(0.5) == 4
    assert len(ws.labels) == 0  # pending detections are not labels
    assert view.detection_count() == 4
    assert view.spec_detections.count() == 4  # over the spectrogram too
    rect = view.posteriorgram_rect()
    assert rect is not None
    # Frame i covers [i·hop, (i+1)·hop): the image spans the recording, within a frame.
    assert rect.left() == pytest.approx(0.0)
    assert rect.right() == pytest.approx(ws.recording.duration, abs=2 * HOP_S)
    assert rect.height() == pytest.approx(len(ws.classes()))
    assert view.post.getViewBox().linkedView(0) is view.spec_vb  # shares the time axis
    # Its rows follow the lanes: bird (lane 0) bright where its bump is, frog dark there.
    image = view.post_image.image
    assert image.shape[:2] == (2, round(ws.recording.duration / HOP_S) + 1)
    bird_peak, frog_there = image[0, 150, :3].astype(int), image[1, 150, :3].astype(int)
    assert bird_peak.sum() > frog_there.sum() + 100

    win.show_detections_action.trigger()  # hide
    assert view.detection_count() == 0 and view.posteriorgram_rect() is None
    win.show_detections_action.trigger()
    assert view.detection_count() == 4 and view.posteriorgram_rect() is not None


def test_threshold_slider_redraws_live_then_stores_on_release(review_window, qtbot):
    win = review_window
    root, view, thresholds = win.workspace.project.root, win.view, win.review.thresholds
    thresholds.set_threshold(0.3, final=False)
    qtbot.waitUntil(lambda: view.detection_count() == expected(0.3) == 6, timeout=2000)
    assert len(pending(root)) == 4  # dragging only previews
    assert win.detections.last_redraw_s < 0.05

    thresholds.set_threshold(0.3, final=True)
    assert len(pending(root)) == 6
    assert view.detection_count() == 6
    assert win.review.model.rowCount() == 6

    thresholds.set_threshold(0.6)
    assert len(pending(root)) == expected(0.6) == 3
    assert view.detection_count() == 3


def test_a_class_threshold_moves_that_class_only(review_window):
    win = review_window
    root, controls = win.workspace.project.root, win.review.thresholds
    frog = next(c.id for c in win.workspace.classes() if c.name == "frog")
    controls.scope.setCurrentIndex(controls.scope.findData(frog))
    controls.set_threshold(0.4)
    assert win.detections.threshold_for(frog) == pytest.approx(0.4)
    assert win.detections.global_threshold == pytest.approx(0.5)
    assert len(pending(root)) == expected(0.5, ["bird"]) + expected(0.4, ["frog"]) == 5
    controls.reset_button.click()
    assert len(pending(root)) == 4


def test_reviewed_detections_survive_a_new_threshold_and_are_not_asked_again(review_window):
    win = review_window
    root, ws = win.workspace.project.root, win.workspace
    best = max(ws.detections.order, key=lambda e: e.confidence)
    ws.review([best.id], "accepted")
    win.review.thresholds.set_threshold(0.3)
    events = stored(root)
    assert sum(e.review == "accepted" for e in events) == 1
    # The accepted bump is not detected again as a pending duplicate.
    assert len(pending(root)) == expected(0.3) - 1
    assert win.view.detection_count() == expected(0.3) - 1


def test_review_keys_accept_reject_and_navigate_in_confidence_order(review_window, qtbot):
    win = review_window
    root, review, ws = win.workspace.project.root, win.review, win.workspace
    table = review.table
    table.setFocus()
    confidences = [review.model.event_at(r).confidence for r in range(review.model.rowCount())]
    assert confidences == sorted(confidences, reverse=True)

    if ws.selected_event() is None:  # focusing the list may already make the first current
        qtbot.keyClick(table, Qt.Key.Key_N)
    first = ws.selected_event()
    assert first.confidence == pytest.approx(0.9) and ws.is_detection(first.id)
    qtbot.keyClick(table, Qt.Key.Key_A)
    accepted = next(e for e in stored(root) if e.id == first.id)
    assert accepted.review == "accepted"
    assert [e.id for e in labels(root)] == [first.id]  # an accepted detection is a label
    assert first.id in ws.labels and first.id not in ws.detections
    # The review moved on to the next pending one (0.8).
    second = ws.selected_event()
    assert second.confidence == pytest.approx(0.8)

    qtbot.keyClick(table, Qt.Key.Key_R)
    assert next(e for e in stored(root) if e.id == second.id).review == "rejected"
    assert [e.id for e in labels(root)] == [first.id]  # a rejection is not a label
    assert "1 accepted" in review.counts_label.text()
    assert "1 rejected" in review.counts_label.text()
    assert review.model.rowCount() == 2  # only pending ones are listed
    assert win.view.detection_count() == 3  # the rejection is still drawn (faintly)

    third = ws.selected_event()  # 0.7, the first of the two still pending
    assert third.confidence == pytest.approx(0.7)
    qtbot.keyClick(table, Qt.Key.Key_K)  # nothing before it: stays
    assert ws.selected_event().id == third.id
    qtbot.keyClick(table, Qt.Key.Key_J)
    assert ws.selected_event().confidence == pytest.approx(0.55)
    qtbot.keyClick(table, Qt.Key.Key_P)  # P is "previous" in the list (play elsewhere)
    assert ws.selected_event().id == third.id
    with qtbot.waitSignal(review.playRequested) as played:
        qtbot.keyClick(table, Qt.Key.Key_Space)
    assert played.args == pytest.approx([third.onset, third.offset])

    win.workspace.undo()  # the rejection
    assert next(e for e in stored(root) if e.id == second.id).review == "none"
    win.workspace.undo()  # the acceptance
    assert next(e for e in stored(root) if e.id == first.id).review == "none"
    assert labels(root) == []
    assert review.model.rowCount() == 4


def test_window_shortcuts_review_when_the_spectrogram_has_focus(review_window, qtbot):
    win = review_window
    root = win.workspace.project.root
    win.view.graphics.setFocus()
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_J)
    chosen = win.workspace.selected_event()
    assert chosen is not None
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_R)
    assert next(e for e in stored(root) if e.id == chosen.id).review == "rejected"


def test_adjust_then_release_accepts_the_moved_detection_in_one_undo_step(review_window, qtbot):
    win = review_window
    root, view, ws = win.workspace.project.root, win.view, win.workspace
    win.review.table.setFocus()
    if ws.selected_event() is None:
        qtbot.keyClick(win.review.table, Qt.Key.Key_N)
    target = ws.selected_event()
    qtbot.keyClick(win.review.table, Qt.Key.Key_E)
    t0, t1 = view.view_range()
    assert t0 <= target.onset and target.offset <= t1 and (t1 - t0) < 4  # zoomed to it
    assert view.live_region.isVisible()
    assert view.live_region.getRegion() == pytest.approx((target.onset, target.offset))

    # What a drag of its right edge does.
    view.live_region.setRegion((target.onset, target.offset + 0.25))
    view.live_region.sigRegionChangeFinished.emit(view.live_region)
    moved = next(e for e in stored(root) if e.id == target.id)
    assert moved.review == "accepted"
    assert moved.offset == pytest.approx(target.offset + 0.25)
    assert target.id in [e.id for e in labels(root)]

    ws.undo()
    back = next(e for e in stored(root) if e.id == target.id)
    assert back.review == "none" and back.offset == pytest.approx(target.offset)


def test_uncertainty_order_and_all_recordings_scope(review_window):
    review = review_window.review
    review.sort_combo.setCurrentIndex(review.sort_combo.findData("uncertainty"))
    gaps = [abs(review.model.event_at(r).confidence - 0.5) for r in range(review.model.rowCount())]
    assert gaps == sorted(gaps) and gaps[0] == pytest.approx(0.05)  # 0.55 first
    review.show_combo.setCurrentIndex(review.show_combo.findData("all"))
    review.scope_combo.setCurrentIndex(review.scope_combo.findData("all"))
    assert review.model.rowCount() == 4
    assert not review.table.isColumnHidden(1)  # recording names shown


def test_the_review_model_leaves_qts_event_and_sort_alone(review_window):
    # Its row accessor was once named ``event`` and its sort key ``sort``, hiding
    # QObject.event() and QAbstractItemModel.sort(): the first Qt event sent to it (a
    # property change, a deferred delete) went to the row accessor and crashed.
    model = review_window.review.model
    model.setProperty("reviewing", True)  # a QDynamicPropertyChangeEvent
    QCoreApplication.sendEvent(model, QEvent(QEvent.Type.User))
    model.sort(0)  # the base class's: the list keeps its own order
    assert model.sort_by == "confidence" and model.rowCount() == 4


def test_clicking_a_detection_in_its_lane_selects_it(review_window, qtbot):
    win = review_window
    view = win.view
    bird = next(c.id for c in win.workspace.classes() if c.name == "bird")
    lane = view.lane_of(bird)
    qtbot.mouseClick(
        view.graphics.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.viewport_pos("lanes", 3.5, lane + 0.5),
    )
    event = win.workspace.selected_event()
    assert event is not None and event.source == "model" and event.confidence == pytest.approx(0.7)
    assert win.review.table.currentIndex().row() == win.review.model.row_of(event.id)


def test_thresholds_are_applied_when_another_recording_opens(review_window, qtbot):
    """Posteriors on a second recording: opening it brings its detections to the sliders."""
    from tfstudio.train.layout import posteriors_file

    win = review_window
    ws = win.workspace
    rec1 = next(r for r in ws.recordings() if r.stem == "rec1")
    post = np.full((1001, 2), 0.05, dtype=np.float32)
    post[100:200, 0] = 0.42
    path = posteriors_file(ws.project, ws.run_id, rec1)
    np.save(path, post)
    win.review.thresholds.set_threshold(0.4)
    ws.set_recording(rec1.id)
    qtbot.waitUntil(lambda: len(ws.detections) == 1, timeout=2000)
    (event,) = ws.detections.order
    assert (event.onset, event.offset) == pytest.approx((1.0, 2.0))
    assert win.view.posteriorgram_rect() is not None


def test_polish_time_axis_unit_and_durations_with_units(review_window):
    win = review_window
    assert win.view.lanes.getAxis("bottom").labelText == "Time (s)"
    row = win.browser.model.row_of(win.workspace.recording.id)
    assert win.browser.model.index(row, 1).data() == "10.0 s"


def test_a_newly_finished_run_becomes_active_unless_one_was_chosen(review_window):
    ws = review_window.workspace
    first = ws.run_id
    second = make_fake_run(ws.project)
    ws.refresh()
    assert ws.run_id == second.id  # a training just ended: its run is what one reviews next
    assert review_window.review.run_chooser.currentData() == second.id
    assert len(ws.detections) == 0  # the new run has not detected anything yet

    chooser = review_window.review.run_chooser
    chooser.setCurrentIndex(chooser.findData(first))
    assert ws.run_id == first and len(ws.detections) == 4
    make_fake_run(ws.project)
    ws.refresh()
    assert ws.run_id == first  # chosen by the user: kept


def test_apply_to_all_redoes_every_recording_with_posteriors(review_window):
    from tfstudio.train.layout import posteriors_file

    win = review_window
    ws = win.workspace
    rec1 = next(r for r in ws.recordings() if r.stem == "rec1")
    post = np.full((1001, 2), 0.05, dtype=np.float32)
    post[100:200, 1] = 0.6
    np.save(posteriors_file(ws.project, ws.run_id, rec1), post)
    win.review.thresholds.apply_all_button.click()
    on_rec1 = stored(ws.project.root, recording_id=rec1.id)
    assert [(e.onset, e.offset) for e in on_rec1] == [(1.0, 2.0)]
    assert len(pending(ws.project.root)) == 4 + 1
    assert "2 recording(s)" in win.statusBar().currentMessage()


def test_the_runs_tuned_class_thresholds_are_the_default(qtbot, detected_project):
    """Thresholds tuned on the val split at the end of training (stored in the run's config)
    are what the window starts from; Reset returns to them, not to the global value."""
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow

    with Project.open(detected_project) as project:
        run = project.latest_run()
        config = {**run.config_dict, "class_thresholds": {"frog": 0.4}}
        project.update_run(run.id, config=config)
    create_application()
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    assert win.open_project(detected_project)
    frog = next(c.id for c in win.workspace.classes() if c.name == "frog")
    bird = next(c.id for c in win.workspace.classes() if c.name == "bird")
    assert win.detections.threshold_for(frog) == pytest.approx(0.4)
    assert win.detections.threshold_for(bird) == pytest.approx(0.5)
    assert not win.detections.customized()
    controls = win.review.thresholds
    controls.scope.setCurrentIndex(controls.scope.findData(frog))
    controls.set_threshold(0.7)
    assert win.detections.customized()
    controls.reset_button.click()
    assert win.detections.threshold_for(frog) == pytest.approx(0.4)
    assert not win.detections.customized()
    win.close()


def _drag_slider(qtbot, slider, value: float) -> None:
    """Press the slider's handle, drag it to ``value`` (0–1) and let go, as a user does."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider

    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    style = slider.style()
    handle = style.subControlRect(
        QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, slider
    )
    groove = style.subControlRect(
        QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, slider
    )
    start = handle.center()
    span = groove.width() - handle.width()
    target_x = groove.left() + handle.width() // 2 + round(value * span)
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    assert slider.isSliderDown()
    for k in range(1, 5):
        x = start.x() + (target_x - start.x()) * k // 4
        qtbot.mouseMove(slider, QPoint(x, start.y()))
        qtbot.wait(20)  # the live preview redraws once per frame
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(target_x, start.y()))


def test_a_recording_without_posteriors_shows_none_and_its_slider_previews_nothing(
    review_window, qtbot
):
    """Bug: after detecting on rec0, every other recording showed rec0's posteriorgram, and
    dragging the threshold there previewed rec0's detections on it."""
    win = review_window
    root, view, ws, model = win.workspace.project.root, win.view, win.workspace, win.detections
    assert view.posteriorgram_rect() is not None and view.detection_count() == 4
    rec0 = ws.recording
    view.graphics.setFocus()
    qtbot.keyClick(view.graphics, Qt.Key.Key_PageDown)  # to rec1: never detected on
    assert ws.recording.stem == "rec1"
    assert model.posteriors is None
    assert view.posteriorgram_rect() is None and not view.post.isVisible()
    assert view.detection_count() == 0
    assert win.review.thresholds.hint.isVisible()  # says why the slider does nothing here

    slider = win.review.thresholds.slider
    seen: list[int] = []
    model.events.drawn.connect(lambda: seen.append(view.detection_count()))
    _drag_slider(qtbot, slider, 0.3)
    assert slider.value() == pytest.approx(30, abs=3)
    assert not model.previewing()
    assert set(seen) <= {0} and view.detection_count() == 0
    assert stored(root, recording_id=ws.recording.id) == []

    # Back on rec0 the slider's value applies to rec0's own posteriors.
    qtbot.keyClick(view.graphics, Qt.Key.Key_PageUp)
    assert ws.recording.id == rec0.id
    assert model.posteriors is not None and view.posteriorgram_rect() is not None
    threshold = slider.value() / 100
    qtbot.waitUntil(lambda: view.detection_count() == expected(threshold), timeout=2000)


@pytest.mark.parametrize(
    "names",
    [
        ("bird", "frog"),
        ("Eurasian blackcap, full song with trills", "x"),
        ("n" * 90, "frog call (distant, through rain)"),
    ],
)
def test_posteriorgram_stays_aligned_with_the_spectrogram_in_time(detected_project, qtbot, names):
    """Bug: the posteriorgram's plot area was sometimes ~80 px left of the spectrogram's (its
    plot was hidden, the window resized, then it was shown again with a 0 px left axis)."""
    from PySide6.QtCore import QPointF

    from .conftest import open_window

    with Project.open(detected_project) as project:
        for cls, name in zip(project.classes(), names):
            project.update_class(cls.id, name=name)
    win = open_window(qtbot, detected_project, size=(1000, 700))
    view, ws = win.view, win.workspace

    def misalignment() -> float:
        duration = ws.recording.duration
        worst = 0.0
        for t in (0.0, duration):
            spec_x = view.spec_vb.mapViewToScene(QPointF(t, 0)).x()
            post_x = view.post_vb.mapViewToScene(QPointF(t, 0)).x()
            lane_x = view.lane_vb.mapViewToScene(QPointF(t, 0)).x()
            worst = max(worst, abs(spec_x - post_x), abs(spec_x - lane_x))
        return worst

    def settle() -> None:
        qtbot.wait(100)  # pyqtgraph lays out on the next turns of the event loop

    try:
        rec0 = next(r for r in ws.recordings() if r.stem == "rec0")
        ws.step_recording(1)  # rec1: never detected on, so no posteriorgram
        assert not view.post.isVisible()
        for size in ((1500, 900), (900, 650), (1300, 850)):
            win.resize(*size)  # while the posteriorgram is hidden
            settle()
            ws.set_recording(rec0.id)
            view.show_all()
            settle()
            assert view.posteriorgram_rect() is not None
            assert misalignment() <= 2.0, size
            win.show_detections_action.trigger()  # hidden again, resized, shown
            win.resize(size[0] - 120, size[1] - 40)
            settle()
            win.show_detections_action.trigger()
            settle()
            assert view.post.isVisible()
            assert misalignment() <= 2.0, size
            ws.step_recording(1)  # off to a recording without posteriors
            settle()
    finally:
        win.close()


def _lane_y(view, class_id: int) -> float:
    return view.lane_of(class_id) + 0.5


def test_accepting_a_detection_over_a_drawn_label_merges_them_in_one_undo_step(
    review_window, qtbot
):
    """Bug: pressing A on a detection that coincided with a label added a duplicate label."""
    from .test_annotation import drag

    win = review_window
    root, view, ws, review = win.workspace.project.root, win.view, win.workspace, win.review
    bird = next(c.id for c in ws.classes() if c.name == "bird")
    messages: list[str] = []
    ws.events.message.connect(messages.append)
    drag(qtbot, view, "lanes", (1.3, _lane_y(view, bird)), (2.4, _lane_y(view, bird)))
    (drawn,) = labels(root)
    assert drawn.source == "human" and drawn.onset == pytest.approx(1.3, abs=0.05)

    row = next(r for r in range(review.model.rowCount()) if review.model.event_at(r).onset == 1.0)
    rect = review.table.visualRect(review.model.index(row, 0))
    qtbot.mouseClick(review.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    first = ws.selected_event()
    assert first.confidence == pytest.approx(0.9) and (first.onset, first.offset) == (1.0, 2.0)
    qtbot.keyClick(review.table, Qt.Key.Key_A)

    (merged,) = labels(root)  # one label for one sound, not two
    assert merged.id == first.id and merged.review == "accepted"
    assert (merged.onset, merged.offset) == pytest.approx((1.0, drawn.offset))
    assert "merged with the bird label" in messages[-1]
    assert len(ws.labels) == 1

    view.graphics.setFocus()
    qtbot.keyClick(view.graphics, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    restored = labels(root)
    assert [(e.id, e.source) for e in restored] == [(drawn.id, "human")]
    assert next(e for e in stored(root) if e.id == first.id).review == "none"


def test_relabelling_a_detection_onto_a_label_of_that_class_merges_them(review_window, qtbot):
    from .test_annotation import click

    win = review_window
    root, view, ws = win.workspace.project.root, win.view, win.workspace
    frog = next(c for c in ws.classes() if c.name == "frog")
    with Project.open(root) as project:
        frog_label = project.add_event(ws.recording.id, frog.id, 3.6, 4.5)
    ws.refresh()
    bird = next(c.id for c in ws.classes() if c.name == "bird")
    click(qtbot, view, "lanes", 3.5, _lane_y(view, bird))  # the bird detection at 3–4 s
    detection = ws.selected_event()
    assert detection.source == "model" and (detection.onset, detection.offset) == (3.0, 4.0)
    qtbot.keyClick(view.graphics, getattr(Qt.Key, f"Key_{frog.hotkey}"))

    frogs = [e for e in labels(root) if e.class_id == frog.id]
    assert [(e.id, e.onset, e.offset) for e in frogs] == [(detection.id, 3.0, 4.5)]
    assert frog_label.id not in {e.id for e in stored(root)} | {e.id for e in labels(root)}


def test_reviewing_on_a_test_recording_warns_that_it_changes_the_reference(review_window, qtbot):
    win = review_window
    ws, review = win.workspace, win.review
    assert not review.test_split_warning.isVisible()
    ws.set_split([ws.recording.id], "test")
    assert review.test_split_warning.isVisible()
    assert "evaluation" in review.test_split_warning.text()

    messages: list[str] = []
    ws.events.message.connect(messages.append)
    review.table.setFocus()
    qtbot.keyClick(review.table, Qt.Key.Key_N)
    qtbot.keyClick(review.table, Qt.Key.Key_A)
    assert "test recording" in messages[-1] and "evaluation" in messages[-1]

    ws.set_split([ws.recording.id], "train")
    assert not review.test_split_warning.isVisible()


def test_slider_thresholds_are_stored_with_the_run_where_detect_reads_them(
    qtbot, review_window, detected_project
):
    """One truth: the sliders write the run's post-processing in the project, which is what
    ``tfstudio detect`` / ``evaluate`` use; a new window starts from it; Reset returns to
    what training left."""
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow
    from tfstudio.train.config import TrainConfig
    from tfstudio.train.detect import with_stored_postprocess

    win = review_window
    controls = win.review.thresholds
    frog = next(c.id for c in win.workspace.classes() if c.name == "frog")
    controls.set_threshold(0.3)  # global
    controls.scope.setCurrentIndex(controls.scope.findData(frog))
    controls.set_threshold(0.7)
    with Project.open(detected_project) as project:
        stored = project.latest_run().config_dict
    core = with_stored_postprocess(TrainConfig(), stored)
    assert core.thresholds_for(["bird", "frog"]) == pytest.approx([0.3, 0.7])
    assert stored["trained_postprocess"] == {"threshold": 0.5, "class_thresholds": {}}
    win.close()

    create_application()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    assert again.open_project(detected_project)
    assert again.detections.global_threshold == pytest.approx(0.3)
    assert again.detections.threshold_for(frog) == pytest.approx(0.7)
    assert again.detections.customized()
    controls = again.review.thresholds
    controls.scope.setCurrentIndex(controls.scope.findData(frog))
    controls.reset_button.click()
    assert again.detections.threshold_for(frog) == pytest.approx(0.3)  # follows global again
    with Project.open(detected_project) as project:
        assert project.latest_run().config_dict["class_thresholds"] == {}
    again.close()


def test_detections_imported_from_birdnet_are_reviewed_like_our_own(small_project, qtbot):
    """Issue 14: a BirdNET results file comes in as a run of detections; the Review tab offers
    that run (no checkpoint, no posteriors) and A accepts, R rejects, as for tfstudio's own."""
    from tests.qt.conftest import open_window
    from tfstudio.importer import import_labels

    results = small_project.parent / "rec0.BirdNET.results.txt"
    results.write_text(
        "1.0\t3.0\tTurdus merula, Eurasian Blackbird\t0.83\n"
        "4.0\t6.0\tErithacus rubecula, European Robin\t0.41\n",
        encoding="utf-8",
    )
    with Project.open(small_project) as project:
        report = import_labels(project, [results])
        (run,) = [r for r in project.runs() if r.imported]
        assert report.detections_added == 2 and report.run_id == run.id
    win = open_window(qtbot, small_project)
    try:
        ws = win.workspace
        assert [r.id for r in ws.runs()] == [run.id]
        chooser = win.review.run_chooser
        chooser.setCurrentIndex(chooser.findData(run.id))
        assert ws.run_id == run.id
        assert ws.recording.stem == "rec0"
        shown = [ws.detections.get(i) for i in ws.detections.ids]
        assert sorted(e.confidence for e in shown) == [0.41, 0.83]
        # The trained-run docks stay as they were: nothing was trained.
        assert win.docks["training"].isHidden()
        table = win.review.table
        table.setFocus()
        if ws.selected_event() is None:
            qtbot.keyClick(table, Qt.Key.Key_N)
        first = ws.selected_event()
        assert first.confidence == pytest.approx(0.83)  # most confident first
        qtbot.keyClick(table, Qt.Key.Key_A)
        qtbot.keyClick(table, Qt.Key.Key_R)
        reviewed = {e.confidence: e.review for e in stored(small_project)}
        assert reviewed == {0.83: "accepted", 0.41: "rejected"}
        assert [e.id for e in labels(small_project)] == [first.id]
    finally:
        win.close()


def test_posteriors_of_an_earlier_version_say_so_and_the_slider_leaves_detections_alone(
    detected_project, qtbot
):
    """Posteriors saved by a version that joined windows another way would redraw other
    detections than ``tfstudio detect`` stores: the window does not use them and says why."""
    import json

    from tfstudio.train.layout import posteriors_stamp

    from .conftest import open_window

    with Project.open(detected_project) as project:
        run = project.latest_run()
        path = posteriors_stamp(project, run.id)
        path.write_text(json.dumps({**json.loads(path.read_text()), "stitching": "cut"}))
    before = stored(detected_project)
    win = open_window(qtbot, detected_project, size=(1300, 850))
    try:
        ws, view, model = win.workspace, win.view, win.detections
        ws.set_recording(next(r for r in ws.recordings() if r.stem == "rec0").id)
        win.docks["review"].raise_()
        qtbot.waitUntil(lambda: view.has_image(), timeout=5000)
        hint = win.review.thresholds.hint
        assert model.posteriors is None and model.posteriors_stale
        assert hint.isVisible() and "older tfstudio" in hint.text()
        assert "earlier version" in hint.toolTip()
        assert view.posteriorgram_rect() is None
        assert view.detection_count() == 4  # the stored detections are still shown
        _drag_slider(qtbot, win.review.thresholds.slider, 0.3)
        assert stored(detected_project) == before
        assert view.detection_count() == 4
    finally:
        win.close()


def test_delete_on_a_detection_rejects_it_and_leaves_nothing_for_a_number_key(review_window, qtbot):
    """Delete rejects a detection and, as for a label, nothing stays selected: the number key
    pressed next relabelled the rejected detection, which accepted it as a label of that
    class. Delete on one rejected already writes no undo step that changes nothing."""
    win = review_window
    view, ws = win.view, win.workspace
    root = ws.project.root
    bird, frog = (next(c.id for c in ws.classes() if c.name == n) for n in ("bird", "frog"))
    lane = view.lane_of(bird)
    viewport = view.graphics.viewport()
    qtbot.mouseClick(
        viewport, Qt.MouseButton.LeftButton, pos=view.viewport_pos("lanes", 3.5, lane + 0.5)
    )
    target = ws.selected_event()
    assert target is not None and target.confidence == pytest.approx(0.7)
    qtbot.keyClick(view.graphics, Qt.Key.Key_Delete)
    assert next(e for e in stored(root) if e.id == target.id).review == "rejected"
    assert ws.selected_id is None
    qtbot.keyClick(view.graphics, Qt.Key.Key_2)
    after = next(e for e in stored(root) if e.id == target.id)
    assert (after.review, after.class_id) == ("rejected", bird)
    assert labels(root) == []
    assert ws.current_class_id == frog  # the key still picks the class of new events

    # The rejected detection is still drawn in its lane: a click selects it, Delete again
    # changes nothing and adds no step, so one Ctrl+Z takes the rejection back.
    qtbot.wait(600)  # not a double click
    qtbot.mouseClick(
        viewport, Qt.MouseButton.LeftButton, pos=view.viewport_pos("lanes", 3.5, lane + 0.5)
    )
    assert ws.selected_id == target.id
    qtbot.keyClick(view.graphics, Qt.Key.Key_Delete)
    assert ws.selected_id is None
    qtbot.keyClick(view.graphics, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert next(e for e in stored(root) if e.id == target.id).review == "none"


def test_tab_from_a_detection_goes_to_the_label_after_it(review_window, qtbot):
    """Tab with a detection selected went to the first label after the playback cursor (the
    recording's start), not the one after the detection."""
    win = review_window
    ws, view = win.workspace, win.view
    bird = next(c.id for c in ws.classes() if c.name == "bird")
    early = ws.add_event(0.2, 0.4, class_id=bird)
    late = ws.add_event(8.5, 9.0, class_id=bird)
    ws.select_event(None)
    view.graphics.setFocus()
    qtbot.keyClick(view.graphics, Qt.Key.Key_J)  # the most confident detection, 1-2 s
    assert ws.selected_event().onset == pytest.approx(1.0) and ws.is_detection(ws.selected_id)
    qtbot.keyClick(view.graphics, Qt.Key.Key_Tab)
    assert ws.selected_id == late.id
    qtbot.keyClick(view.graphics, Qt.Key.Key_J)
    qtbot.keyClick(view.graphics, Qt.Key.Key_J)  # the next detection, 2.5-3.5 s
    assert ws.selected_event().onset == pytest.approx(2.5) and ws.is_detection(ws.selected_id)
    qtbot.keyClick(view.graphics, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert ws.selected_id == early.id


def test_accepting_or_rejecting_again_in_the_list_adds_no_undo_step(review_window, qtbot):
    """A or R on a detection already so decided (the list showing All) wrote an undo step
    that changed nothing: the next Ctrl+Z seemed to do nothing."""
    win = review_window
    ws, review = win.workspace, win.review
    root = ws.project.root
    review.show_combo.setCurrentIndex(review.show_combo.findData("all"))
    table = review.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_J)
    first = ws.selected_event()
    qtbot.keyClick(table, Qt.Key.Key_A)
    second = ws.selected_event()
    qtbot.keyClick(table, Qt.Key.Key_R)
    for event, key_ in ((first, Qt.Key.Key_A), (second, Qt.Key.Key_R)):
        row = review.model.row_of(event.id)
        qtbot.mouseClick(
            table.viewport(),
            Qt.MouseButton.LeftButton,
            pos=table.visualRect(review.model.index(row, 0)).center(),
        )
        assert ws.selected_id == event.id
        qtbot.keyClick(table, key_)
    assert ws.undo_description() == "reject 1 detection(s)"
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert next(e for e in stored(root) if e.id == second.id).review == "none"
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert next(e for e in stored(root) if e.id == first.id).review == "none"


def test_adjust_shows_room_on_both_sides_to_drag_an_edge_out(review_window, qtbot):
    """A detection is adjusted most often because the model caught only part of the sound:
    E showed it with a tenth of its length either side, and an edge could not be dragged out
    further without zooming out first. It shows as much again on each side (0.5 s at least)."""
    win = review_window
    view, ws = win.view, win.workspace
    win.review.table.setFocus()
    if ws.selected_event() is None:
        qtbot.keyClick(win.review.table, Qt.Key.Key_N)
    target = ws.selected_event()
    length = target.offset - target.onset
    assert length == pytest.approx(1.0)
    qtbot.keyClick(win.review.table, Qt.Key.Key_E)
    t0, t1 = view.view_range()
    assert t0 == pytest.approx(target.onset - length, abs=0.02)
    assert t1 == pytest.approx(target.offset + length, abs=0.02)
