"""The Recordings list's Unsure column: how unsure the active run is about each recording,
sorted by a click on its header, and Ctrl+U then goes to the most uncertain unlabelled one."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from tests.conftest import write_wav
from tests.qt.conftest import open_window
from tests.session.fake_run import detect_on, make_fake_run, save_posteriors
from tfstudio.qt.browser import UNSURE_COLUMN

# Each recording's posteriors: one level on every frame of both classes (threshold 0.5), so
# its uncertainty is 1 − |level − 0.5| / 0.5; "r4" has none (the run never detected on it).
LEVELS = {"r0.wav": 0.45, "r1.wav": 0.5, "r3.wav": 0.05}


def _project(tmp_path, *, with_posteriors: bool = True):
    """Five 10 s recordings, r0 labelled; a run that detected on r0, r1, r2 and r3 (r2 with
    the fake run's bumps, the others at one level each)."""
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    for i in range(5):
        write_wav(audio / f"r{i}.wav", 10.0, seed=i)
    with Project.create(tmp_path / "proj") as project:
        import_audio(project, [audio])
        bird = project.add_class("bird")
        project.add_class("frog")
        recs = {r.name: r for r in project.recordings()}
        project.add_event(recs["r0.wav"].id, bird.id, 1.0, 2.0)
        run = make_fake_run(project)
        if with_posteriors:
            detect_on(project, run, recs["r2.wav"])
            for name, level in LEVELS.items():
                post = np.full((1001, 2), level, dtype=np.float32)
                save_posteriors(project, run.id, ("bird", "frog"), recs[name], post)
        return project.root


def _column(browser, col: int) -> list[str]:
    model = browser.model
    return [model.index(row, col).data() for row in range(model.rowCount())]


def _click_header(qtbot, table, col: int) -> None:
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )


def test_unsure_sorts_the_list_and_ctrl_u_follows_it(qtbot, tmp_path):
    win = open_window(qtbot, _project(tmp_path), (1400, 800))
    browser, table = win.browser, win.browser.table
    qtbot.waitUntil(lambda: not table.isColumnHidden(UNSURE_COLUMN) and not win.uncertainty.busy())
    assert table.columnWidth(UNSURE_COLUMN) >= table.fontMetrics().horizontalAdvance("0.00")
    _click_header(qtbot, table, UNSURE_COLUMN)
    assert _column(browser, 0) == ["r1.wav", "r0.wav", "r2.wav", "r3.wav", "r4.wav"]
    scores = _column(browser, UNSURE_COLUMN)
    assert scores[:2] == ["1.00", "0.90"] and scores[3] == "0.10" and scores[4] == "–"
    assert 0.1 < float(scores[2]) < 0.9  # the fake run's bumps: sure at most frames
    tip = browser.model.index(0, UNSURE_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    assert "How unsure run 1's model is about this recording: 1.000" in tip and "Ctrl+U" in tip
    tip = browser.model.index(4, UNSURE_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    assert "has not detected on this recording yet" in tip
    # Open the most uncertain; Ctrl+U passes over r0 (labelled) to the next most uncertain.
    rect = table.visualRect(browser.model.index(0, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: win.workspace.recording.name == "r1.wav")
    qtbot.keyClick(win, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: win.workspace.recording.name == "r2.wav")
    qtbot.keyClick(win, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: win.workspace.recording.name == "r3.wav")
    win.close()


def test_without_posteriors_there_is_no_unsure_column(qtbot, tmp_path):
    win = open_window(qtbot, _project(tmp_path, with_posteriors=False), (1400, 800))
    qtbot.wait(50)
    assert win.browser.table.isColumnHidden(UNSURE_COLUMN)
    assert len(win.uncertainty) == 0
    win.close()
