"""The Review dock on a recording whose file changed and was imported again: the active run's
detections there were made from the earlier audio, and its hint says so in one line (the
whole sentence in its tooltip) until the run has detected again."""

from __future__ import annotations

from tests.conftest import write_wav
from tests.session.fake_run import detect_on
from tests.store.helpers import tfstudio
from tfstudio.store import Project

from .conftest import open_review_window

EARLIER = "Made from this file's earlier audio: Detect (Ctrl+D) again."


def _change_and_import(root) -> None:
    """rec0.wav gets another take (another length) and is imported again by the CLI."""
    with Project.open(root) as project:
        path = project.absolute_path(project.find_recording("rec0"))
    write_wav(path, 8.0, seed=99)
    result = tfstudio("import", root, path, "-q")
    assert result.returncode == 0, result.stderr


def _detect_again(root) -> None:
    """What ``tfstudio detect`` does for rec0: posteriors for its audio, new detections."""
    with Project.open(root) as project:
        detect_on(project, project.latest_run(), project.find_recording("rec0"))


def test_a_changed_file_says_its_detections_are_of_the_earlier_audio(detected_project, qtbot):
    _change_and_import(detected_project)
    win = open_review_window(qtbot, detected_project)
    try:
        hint, model, view = win.review.thresholds.hint, win.detections, win.view
        assert model.earlier_audio
        assert hint.isVisible() and hint.text() == EARLIER
        assert "before it changed and was imported again" in hint.toolTip()
        assert "Detect (Ctrl+D) makes them again" in hint.toolTip()
        assert "Not detected here yet" not in hint.text()
        assert view.detection_count() == 4  # still drawn, as they were, but faint
        assert view.overlay.detections_opacity() < 0.5
        # Another recording has nothing of the kind.
        win.workspace.set_recording(
            next(r for r in win.workspace.recordings() if r.stem == "rec1").id
        )
        qtbot.waitUntil(lambda: hint.text() != EARLIER)
        assert not model.earlier_audio and view.overlay.detections_opacity() == 1.0

        win.workspace.set_recording(
            next(r for r in win.workspace.recordings() if r.stem == "rec0").id
        )
        qtbot.waitUntil(lambda: hint.text() == EARLIER)
        _detect_again(detected_project)  # another process detects (the CLI, or Detect)
        win.workspace.poll()
        qtbot.waitUntil(lambda: not hint.isVisible())
        assert not model.earlier_audio and model.posteriors is not None
        assert view.overlay.detections_opacity() == 1.0
    finally:
        win.close()


def test_the_hint_comes_when_the_open_file_is_imported_again_elsewhere(detected_project, qtbot):
    win = open_review_window(qtbot, detected_project)
    try:
        hint = win.review.thresholds.hint
        assert not hint.isVisible() and not win.detections.earlier_audio
        _change_and_import(detected_project)
        win.workspace.poll()  # the window looks for other processes' writes every second
        qtbot.waitUntil(lambda: hint.isVisible() and hint.text() == EARLIER)
    finally:
        win.close()
