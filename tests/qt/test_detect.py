"""Detection and evaluation in child processes: the real model on a tiny trained project, and a
stand-in CLI for progress, cancelling and failures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.qt.conftest import open_window
from tfstudio.qt.job import CliJob
from tfstudio.store import Project

FAKE_CLI = [sys.executable, str(Path(__file__).with_name("fake_cli.py"))]
# The child imports torch and loads the model: seconds on a busy two-core machine.
CHILD_MS = 180_000


@pytest.fixture
def trained_window(qtbot, trained_root):
    win = open_window(qtbot, trained_root, (1300, 850))
    yield win
    win.close()


@pytest.mark.slow
def test_detect_runs_the_model_in_a_child_and_the_view_shows_its_detections(trained_window, qtbot):
    win = trained_window
    ws, view = win.workspace, win.view
    assert ws.run_id is not None and win.detections.info is not None
    # The run's class order comes from its checkpoint, read without torch in the GUI.
    assert win.detections.info.classes == tuple(c.name for c in ws.classes())
    assert view.detection_count() == 0 and view.posteriorgram_rect() is None
    # A one-batch model is unsure of everything: low thresholds make sure it detects. The
    # run tuned one per class, which the global slider does not move: each class's own.
    win.review.thresholds.set_threshold(0.02)
    silent, *others = (c.id for c in ws.classes())
    for other in others:
        win.detections.set_threshold(0.02, other, final=True)
    # One class kept silent by its own threshold: the child must detect at the window's
    # per-class thresholds (it once got the global one as --threshold, which overrode them,
    # and its message counted detections the window then did not show).
    win.detections.set_threshold(1.0, silent, final=True)
    progress = []
    win.detector.progress.connect(lambda done, total, name: progress.append((done, total)))
    with qtbot.waitSignal(win.detector.finished, timeout=CHILD_MS) as finished:
        assert win.detect("current")
        assert win.review.job_row.isVisibleTo(win.review)
        assert not win.detect_actions["current"].isEnabled()
    outcome = finished.args[0]
    assert outcome.status == "done", outcome.message
    assert outcome.result["recordings"] == 1
    assert progress[0] == (0, 1) and progress[-1] == (1, 1)
    assert not win.review.job_row.isVisibleTo(win.review)

    with Project.open(ws.project.root) as project:
        stored = project.events(ws.recording.id, source="model", run_id=ws.run_id)
    assert stored and all(e.review == "none" for e in stored)
    assert all(e.class_id != silent for e in stored)
    # What the child stored is what the window shows and what its message counts.
    assert outcome.result["events"] == len(stored)
    assert len(ws.detections) == len(stored) == view.detection_count()
    assert win.review.model.rowCount() == len(stored)
    rect = view.posteriorgram_rect()
    hop = win.detections.info.hop_s
    assert rect is not None and rect.left() == 0.0
    assert rect.right() == pytest.approx(ws.recording.duration, abs=2 * hop)


@pytest.mark.slow
def test_evaluation_table_fills_from_a_real_evaluate_run(trained_window, qtbot):
    win = trained_window
    panel = win.evaluation
    with qtbot.waitSignal(panel.finished, timeout=CHILD_MS) as finished:
        win.ask_evaluate()
    outcome = finished.args[0]
    assert outcome.status == "done", outcome.message
    classes = [c.name for c in win.workspace.classes()]
    assert panel.table.rowCount() == 1 + len(classes)
    assert panel.table.item(0, 0).text() == "Overall"
    assert [panel.table.item(r + 1, 0).text() for r in range(len(classes))] == classes
    for col in (1, 2, 3):  # segment F1 (maybe "–"), segment ER, event F1
        assert panel.table.item(0, col).text()
    assert float(panel.table.item(0, 2).text()) >= 0  # the segment error rate is a number
    assert "test" in panel.summary.text()
    # Each class's threshold as evaluate used it (the CLI prints the same column).
    used = outcome.result["class_thresholds"]
    thr = panel.table.columnCount() - 1
    assert panel.table.horizontalHeaderItem(thr).text() == "Thr."
    assert [float(panel.table.item(r + 1, thr).text()) for r in range(len(classes))] == [
        round(used[c], 3) for c in classes
    ]
    # A split without recordings is a plain message, not a crash.
    panel.set_split("val")
    assert panel.table.rowCount() == 0
    with Project.open(win.workspace.project.root) as project:
        val = project.recordings("val")
        project.set_split([r.id for r in val], "train")
    with qtbot.waitSignal(panel.finished, timeout=CHILD_MS) as finished:
        panel.evaluate()
    assert finished.args[0].status == "failed"
    assert "no recordings in the val split" in panel.summary.text()


def test_the_window_never_imports_torch():
    """Models run in child processes; the GUI reads checkpoints' metadata without torch."""
    import subprocess

    code = "import sys, tfstudio.qt.main_window, tfstudio.session.detection_model\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_job_reports_progress_lines_and_the_last_object(qtbot, tmp_path):
    job = CliJob("detect", [str(tmp_path)], program=FAKE_CLI)
    seen = []
    job.progress.connect(lambda done, total, name: seen.append((done, total, name)))
    with qtbot.waitSignal(job.finished, timeout=30_000) as finished:
        job.start()
    result = finished.args[0]
    assert result.status == "done" and result.result["events"] == 5
    assert seen == [(1, 2, "rec1.wav"), (2, 2, "rec2.wav")]


def test_a_failing_command_gives_its_error_line(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_CLI", "fail")
    job = CliJob("detect", [str(tmp_path)], program=FAKE_CLI)
    with qtbot.waitSignal(job.finished, timeout=30_000) as finished:
        job.start()
    assert finished.args[0].status == "failed"
    assert finished.args[0].message == "no finished training run with a checkpoint yet"


def test_detection_can_be_cancelled_and_the_window_recovers(review_window, qtbot, monkeypatch):
    win = review_window
    monkeypatch.setenv("FAKE_CLI", "sleep")
    win.detector.program = FAKE_CLI
    win.browser.select_ids([r.id for r in win.workspace.recordings()[:2]])
    assert win.detect("selected")
    assert win.detector.job is not None and len(win.detector.job.recording_ids) == 2
    assert win.cancel_detect_action.isEnabled()
    with qtbot.waitSignal(win.detector.finished, timeout=30_000) as finished:
        win.review.cancel_button.click()
    assert finished.args[0].status == "cancelled"
    assert win.detect_actions["current"].isEnabled()
    assert not win.cancel_detect_action.isEnabled()
    assert win.view.detection_count() == 4  # what was stored before is still there


def test_recordings_left_out_by_detection_are_listed_and_the_rest_shown(
    review_window, qtbot, monkeypatch
):
    """detect exits 3 when it left out recordings whose audio cannot be read: the window takes
    it as done (the others' detections are stored) and lists what was left out."""
    from PySide6.QtCore import QTimer

    from tests.qt.conftest import read_report_when_shown

    win = review_window
    monkeypatch.setenv("FAKE_CLI", "skip")
    win.detector.program = FAKE_CLI
    seen: list[str] = []
    QTimer.singleShot(0, lambda: read_report_when_shown(seen))
    win.browser.select_ids([r.id for r in win.workspace.recordings()[:2]])
    with qtbot.waitSignal(win.detector.finished, timeout=30_000) as finished:
        assert win.detect("selected")
    outcome = finished.args[0]
    assert outcome.status == "done" and outcome.exit_code == 3
    assert outcome.message.startswith("skipped /data/rec2.flac: damaged audio")
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert "/data/rec2.flac: damaged audio" in seen[0]
    message = win.statusBar().currentMessage()
    assert message.startswith("Detected 5 event(s) on 2 recording(s)")
    # Several recordings detected on: the message says how to choose which to label.
    assert message.endswith("sort Recordings by Unsure to label the most uncertain first")
    assert win.detect_actions["current"].isEnabled()


def test_detect_on_unlabelled_recordings_picks_those_without_labels(review_window, monkeypatch):
    win = review_window
    ws = win.workspace
    labelled = ws.recordings()[0]
    ws.write(ws.project.add_event, labelled.id, ws.classes()[0].id, 1.0, 2.0)
    monkeypatch.setenv("FAKE_CLI", "sleep")
    win.detector.program = FAKE_CLI
    assert win.detect("unlabelled")
    assert sorted(win.detector.job.recording_ids) == sorted(
        r.id for r in ws.recordings() if r.id != labelled.id
    )
    win.detector.shutdown()


def test_after_detecting_on_other_recordings_next_goes_to_their_detections(
    review_window, qtbot, monkeypatch
):
    """Detect on selected (or unlabelled) recordings while another is open: the review list
    turns to all recordings, and N goes to the first detection. It stayed on 'this
    recording', which had none ('No detections on this recording yet: Detect ▸'), and N did
    nothing at all."""
    from PySide6.QtCore import Qt

    win = review_window
    ws = win.workspace
    rec0, rec1, rec2 = sorted(ws.recordings(), key=lambda r: r.stem)
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_PageDown)
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_PageDown)
    assert ws.recording.id == rec2.id
    assert win.review.model.rowCount() == 0
    monkeypatch.setenv("FAKE_CLI", "")
    win.detector.program = FAKE_CLI
    win.browser.select_ids([rec0.id, rec1.id])
    with qtbot.waitSignal(win.detector.finished, timeout=30_000) as finished:
        assert win.detect("selected")
    assert finished.args[0].status == "done"
    assert win.review.scope_combo.currentData() == "all"
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_N)
    assert ws.recording.id == rec0.id
    assert ws.selected_id is not None
    assert ws.detections.get(ws.selected_id) is not None  # a detection, not a label


def test_after_detecting_on_the_open_recording_the_list_stays_on_it(
    review_window, qtbot, monkeypatch
):
    win = review_window
    monkeypatch.setenv("FAKE_CLI", "")
    win.detector.program = FAKE_CLI
    with qtbot.waitSignal(win.detector.finished, timeout=30_000):
        assert win.detect("current")
    assert win.review.scope_combo.currentData() == "recording"


def test_next_on_a_recording_without_detections_says_so(review_window, qtbot):
    from PySide6.QtCore import Qt

    win = review_window
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_PageDown)
    assert win.review.model.rowCount() == 0
    win.statusBar().clearMessage()
    qtbot.keyClick(win.view.graphics, Qt.Key.Key_N)
    assert (
        win.statusBar()
        .currentMessage()
        .startswith("No pending detections on this recording (the list's 'all recordings'")
    )
