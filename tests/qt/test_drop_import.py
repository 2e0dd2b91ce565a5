"""Files and folders dropped on the window are imported, audio first and then labels (as
BirdNET and Raven users keep their tables beside their audio), with the import's report; a
drag of something else, or with no project open, is refused. File ▸ Import labels from folder
takes a folder's label files only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.qt.conftest import read_report_when_shown
from tfstudio.store import Project


def deployment(folder: Path) -> Path:
    """An SD card's folder: two recordings, a Raven table of one, and the recorder's notes."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(5)
    for name in ("20240501_050000.WAV", "20240501_060000.WAV"):
        sf.write(folder / name, rng.normal(0, 0.01, 16000).astype("float32"), 16000)
    (folder / "20240501_050000.Table.1.selections.txt").write_text(
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tAnnotation\n"
        "1\tSpectrogram 1\t1\t0.2\t0.6\twren\n"
    )
    (folder / "CONFIG.TXT").write_text("Device ID: 24F319046\nGain: medium\n")
    return folder


def drag(window, paths: list[Path], *, urls: list[QUrl] | None = None) -> tuple[bool, bool]:
    """Drag ``paths`` onto the middle of the window and drop them there, as a file manager
    does: whether the window took the drag on entering, and the drop."""
    data = QMimeData()
    data.setUrls(urls if urls is not None else [QUrl.fromLocalFile(str(p)) for p in paths])
    middle = window.rect().center()
    action = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(middle, action, data, buttons, modifiers)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(QPoint(middle)), action, data, buttons, modifiers)
    QApplication.sendEvent(window, drop)
    return enter.isAccepted(), drop.isAccepted()


def labels(root: Path) -> list[tuple[str, str, float, float]]:
    with Project.open(root) as p:
        names = {r.id: r.name for r in p.recordings()}
        classes = {c.id: c.name for c in p.classes()}
        return [(names[e.recording_id], classes[e.class_id], e.onset, e.offset) for e in p.labels()]


def test_a_dropped_folder_brings_its_audio_then_its_labels(qtbot, window, tmp_path):
    card = deployment(tmp_path / "card")
    seen: list[str] = []
    read_report_when_shown(seen)
    assert drag(window, [card]) == (True, True)
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    names = sorted(r.name for r in window.workspace.recordings())
    assert "20240501_050000.WAV" in names and "20240501_060000.WAV" in names
    root = window.workspace.project.root
    assert labels(root) == [("20240501_050000.WAV", "wren", 0.2, 0.6)]
    # The recorder's notes are passed over, said once, not a problem.
    assert "1 file(s) in the folders are not label files of a known format" in seen[0]
    assert "CONFIG.TXT" not in seen[0]


def test_a_drag_of_web_links_is_refused(window):
    assert drag(window, [], urls=[QUrl("https://example.org/rec.wav")]) == (False, False)


def test_with_no_project_open_a_projects_folder_opens_and_other_drags_are_refused(
    qtbot, window, tmp_path
):
    root = window.workspace.project.root
    window.close_project()
    assert drag(window, [deployment(tmp_path / "card")]) == (False, False)
    assert drag(window, [root, tmp_path / "card"]) == (False, False)
    assert drag(window, [root]) == (True, True)
    qtbot.waitUntil(lambda: window.workspace.project is not None, timeout=10000)
    assert window.workspace.project.root == root


def test_import_labels_from_folder_takes_the_label_files_only(qtbot, window, tmp_path, monkeypatch):
    card = deployment(tmp_path / "card")
    with Project.open(window.workspace.project.root) as p:
        before = len(p.recordings())
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(card))
    seen: list[str] = []
    read_report_when_shown(seen)
    action = next(a for a in window.project_actions if a.text() == "Import labels from f&older…")
    action.trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    assert len(window.workspace.recordings()) == before  # its audio was not imported
    # Its table names a recording the project does not have: said, nothing added.
    assert "20240501_050000" in seen[0] and "import the audio first" in seen[0]
