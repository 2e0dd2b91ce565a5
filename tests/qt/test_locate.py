"""Missing audio in the window: flagged in the browser, said on the spectrogram, and found again
with Locate… (the others of the same folder follow)."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from tests.qt.conftest import open_window
from tfstudio.qt.browser import ID_ROLE


def test_missing_recordings_are_flagged_and_located_with_their_folder(
    qtbot, small_project, monkeypatch
):
    audio = small_project.parent / "audio"
    moved = small_project.parent / "moved"
    shutil.move(audio, moved)
    window = open_window(qtbot, small_project)
    try:
        ws, browser = window.workspace, window.browser
        assert [r.status for r in ws.recordings()] == ["missing"] * 3
        model = browser.model
        first = model.index(0, 0)
        assert not model.data(first, Qt.ItemDataRole.DecorationRole).isNull()
        assert "Locate" in model.data(first, Qt.ItemDataRole.ToolTipRole)
        assert "Audio file not found" in window.view.message.toPlainText()

        # The user points at the open recording's file in its new folder (the OS file dialog
        # is the one part replaced here).
        chosen = moved / f"{ws.recording.stem}.wav"
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(chosen), ""))
        )
        window.ask_locate()
        assert [r.status for r in ws.recordings()] == ["ok"] * 3
        assert all(ws.recording_path(r).parent == moved for r in ws.recordings())
        assert "Relinked 3 recording(s)" in window.statusBar().currentMessage()
        qtbot.waitUntil(window.view.has_image, timeout=5000)
        assert window.view.message.toPlainText() == ""
        assert model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole) is None
        assert int(model.data(first, ID_ROLE)) in {r.id for r in ws.recordings()}
    finally:
        window.close()


def test_a_different_file_is_refused(qtbot, small_project, monkeypatch, tmp_path, wav_writer):
    audio = small_project.parent / "audio"
    shutil.rmtree(audio)
    other = wav_writer(tmp_path / "rec0.wav", 10.0, seed=99)  # same name, other content
    window = open_window(qtbot, small_project)
    try:
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(other), ""))
        )
        window.ask_locate()
        assert "is not rec0.wav: other content" in window.statusBar().currentMessage()
        assert all(r.status == "missing" for r in window.workspace.recordings())
    finally:
        window.close()
