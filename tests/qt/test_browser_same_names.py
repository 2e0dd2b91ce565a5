"""Recordings of one file name in several folders (AudioMoth's hourly files, a folder per
site): the recordings list, its filter and the window title tell them apart by their folders,
and a list already open learns it when a second file of that name is imported."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from tfstudio.importer import import_audio
from tfstudio.qt.browser import RecordingBrowser
from tfstudio.session.workspace import Workspace
from tfstudio.store import Project

HOUR = "20240501_050000.WAV"


def wav(path: Path) -> Path:
    """One second of noise of its own (files of equal content would be one file moved)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))
    sf.write(path, rng.normal(0, 0.01, 8000).astype("float32"), 8000)
    return path


@pytest.fixture
def deployment(tmp_path) -> Path:
    root = tmp_path / "proj"
    with Project.create(root) as p:
        files = [wav(tmp_path / "field" / site / HOUR) for site in ("site1", "site2")]
        files.append(wav(tmp_path / "field" / "site2" / "20240501_060000.WAV"))
        assert import_audio(p, files).added == 3
    return root


def names(browser: RecordingBrowser) -> list[str]:
    model = browser.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_the_list_and_its_filter_tell_same_named_recordings_apart(qtbot, deployment, tmp_path):
    workspace = Workspace()
    workspace.open_project(deployment)
    browser = RecordingBrowser(workspace)
    qtbot.addWidget(browser)
    browser.show()
    assert names(browser) == ["20240501_060000.WAV", f"site1/{HOUR}", f"site2/{HOUR}"]
    qtbot.keyClicks(browser.filter_edit, "SITE2")
    assert names(browser) == [f"site2/{HOUR}"]
    browser.filter_edit.clear()
    browser.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert names(browser) == [f"site2/{HOUR}", f"site1/{HOUR}", "20240501_060000.WAV"]
    # A third site's file of one of these names: the open list names the others anew.
    third = wav(tmp_path / "field" / "site3" / "20240501_060000.WAV")
    assert import_audio(workspace.project, [third]).added == 1
    workspace.refresh()
    qtbot.waitUntil(lambda: len(names(browser)) == 4)
    assert sorted(names(browser)) == [
        f"site1/{HOUR}",
        f"site2/{HOUR}",
        "site2/20240501_060000.WAV",
        "site3/20240501_060000.WAV",
    ]
    workspace.close_project()


def test_a_recording_named_with_an_ampersand_reads_as_named_in_its_menu(qtbot, tmp_path):
    """A menu takes a lone '&' for its shortcut's mark and draws none: 'R&D dawn.wav' read
    'RD dawn.wav' in the split menu's header (and in Locate …)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication, QMenu

    root = tmp_path / "proj"
    with Project.create(root) as p:
        assert import_audio(p, [wav(tmp_path / "R&D dawn.wav")]).added == 1
    workspace = Workspace()
    workspace.open_project(root)
    browser = RecordingBrowser(workspace)
    qtbot.addWidget(browser)
    browser.show()
    shown: list[str] = []

    def read() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, read)
            return
        # As QMenu draws it: "&&" is an "&", a lone "&" is not drawn.
        shown.extend(
            a.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            for a in menu.actions()
            if not a.isSeparator()
        )
        menu.close()

    QTimer.singleShot(0, read)
    viewport = browser.table.viewport()
    pos = browser.table.visualRect(browser.model.index(0, 0)).center()
    browser.table.selectRow(0)
    QApplication.sendEvent(
        viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
    )
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown[0] == "Split of 1 recording (R&D dawn.wav):"
    workspace.close_project()
