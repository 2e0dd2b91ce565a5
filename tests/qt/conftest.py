"""Qt test fixtures: offscreen platform, no audio, isolated QSettings, small real projects."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TFSTUDIO_NO_AUDIO", "1")  # no sound server on CI; tested separately

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import write_wav
from tests.session.fake_run import detect_on, make_fake_run


@pytest.fixture(autouse=True)
def no_mouse_button_left_down(qapp):
    """QTest keeps its own idea of which mouse buttons are down, across tests; after a double
    click it counts the button as still pressed, so the next test's mouse moves were drags
    (a hover then showed no tooltip). Each test starts with every button up."""
    yield
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QWidget

    spare = QWidget()
    QTest.mouseRelease(spare, Qt.MouseButton.LeftButton)
    spare.deleteLater()


def stale_layout_items() -> list[str]:
    """Python wrappers of layout items (QWidgetItem, QSpacerItem) whose C++ item is gone.

    PySide6's ``QLayout.addLayout`` wraps every item the added layout already holds and keeps
    those wrappers as children of the outer layout's wrapper. Qt later deletes an item without
    telling Shiboken when its widget moves to another cell or leaves the layout, and the
    wrapper stays in Shiboken's map at a freed address: a QObject made there afterwards came
    back to Python as that QWidgetItem (``'QWidgetItem' object has no attribute 'children'``
    inside pyqtgraph) or crashed the process (CI, exit 139). ``removeWidget`` first lets
    PySide drop the wrapper; a layout added to its parent while still empty gets none.
    """
    import re

    import shiboken6
    from PySide6.QtWidgets import QLayout, QLayoutItem

    wrappers = shiboken6.getAllValidWrappers()
    by_id = {id(w): w for w in wrappers}
    found = []
    for wrapper in wrappers:
        if not isinstance(wrapper, QLayoutItem) or isinstance(wrapper, QLayout):
            continue
        match = re.search(r"^parent\.+ <.* at (0x[0-9a-f]+)>", shiboken6.dump(wrapper), re.M)
        parent = by_id.get(int(match.group(1), 16)) if match else None
        if not isinstance(parent, QLayout) or not shiboken6.isValid(parent):
            continue
        live: set[int] = set()
        layouts = [parent]
        while layouts:
            layout = layouts.pop()
            for i in range(layout.count()):
                item = layout.itemAt(i)
                live.add(shiboken6.getCppPointer(item)[0])
                if item.layout() is not None:
                    layouts.append(item.layout())
        if shiboken6.getCppPointer(wrapper)[0] not in live:
            owner = parent.parentWidget()
            found.append(f"{type(wrapper).__name__} of a layout of {type(owner).__name__}")
    return found


@pytest.fixture(autouse=True)
def no_stale_layout_items(qtbot):
    """After each test, while its windows still live: no layout item's wrapper outlived its
    item (see :func:`stale_layout_items`)."""
    yield
    stale = stale_layout_items()
    assert not stale, f"layout item wrappers left at freed addresses: {stale}"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    """Each test gets its own QSettings (recent projects, view settings, window state)."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    monkeypatch.setenv("TFSTUDIO_LOG_DIR", str(folder / "log"))  # not the user's log folder
    yield


@pytest.fixture
def small_project(tmp_path):
    """A project with three 10 s recordings and two classes, closed after the test."""
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    audio = tmp_path / "audio"
    audio.mkdir()
    for i in range(3):
        write_wav(audio / f"rec{i}.wav", 10.0, seed=i)
    project = Project.create(tmp_path / "proj")
    import_audio(project, [audio])
    project.add_class("bird")
    project.add_class("frog")
    root = project.root
    project.close()
    return root


def open_window(qtbot, root: Path, size: tuple[int, int] = (1200, 800)):
    """The main window, shown, laid out and on the project in ``root``."""
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow

    create_application()
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_project(root)
    return win


def training_dock(qtbot, root: Path, size: tuple[int, int]):
    """The window at ``size`` with its Training dock shown (as View ▸ Training shows it for
    a project without runs): the window, the panel and the dock's scroll area."""
    win = open_window(qtbot, root, size)
    dock = win.docks["training"]
    if dock.isHidden():
        dock.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: dock.isVisible() and win._training is not None)
    panel = win.training
    qtbot.waitUntil(lambda: panel.height() > 0)
    return win, panel, dock.widget()


def read_report_when_shown(seen: list[str]) -> None:
    """Once a ReportDialog is open (modal, from the code under test), put its list's text
    in ``seen`` and close it; looks again every 20 ms until one is."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QPlainTextEdit

    from tfstudio.qt.dialogs import ReportDialog

    box = QApplication.activeModalWidget()
    if not isinstance(box, ReportDialog):
        QTimer.singleShot(20, lambda: read_report_when_shown(seen))
        return
    seen.append(box.findChild(QPlainTextEdit).toPlainText())
    box.accept()


def settle_layout(qtbot, view, timeout_ms: int = 5000) -> None:
    """Wait until the spectrogram view's plots stay where they are between two turns of the
    event loop. pyqtgraph lays its items out and applies view ranges on later turns, sooner
    or later by the machine's load: a position a test computes before that (``viewport_pos``)
    points at another lane or time once its press arrives (seen on a busy machine)."""
    from PySide6.QtCore import QPointF

    def where() -> tuple:
        places = []
        for vb in (view.spec_vb, view.lane_vb, view.ov_vb, view.wave_vb, view.post_vb):
            (x0, x1), (y0, y1) = vb.viewRange()
            corners = [vb.mapViewToScene(QPointF(x, y)) for x, y in ((x0, y0), (x1, y1))]
            points = [view.graphics.mapFromScene(c) for c in corners]
            places.append((x0, x1, y0, y1, *((p.x(), p.y()) for p in points)))
        return (view._fit_timer.isActive(), view.graphics.size(), *places)

    state = where()
    for _ in range(max(1, timeout_ms // 25)):
        qtbot.wait(25)
        now = where()
        if now == state and not now[0]:
            return
        state = now
    raise AssertionError(f"the spectrogram view kept moving for {timeout_ms} ms")


@pytest.fixture
def window(qtbot, small_project):
    """The main window on the small project, with its first spectrogram drawn and laid out."""
    win = open_window(qtbot, small_project)
    qtbot.waitUntil(lambda: win.view.has_image(), timeout=5000)
    settle_layout(qtbot, win.view)
    yield win
    win.close()


# ------------------------------------------------------------------ detections
@pytest.fixture
def detected_project(small_project):
    """small_project plus a finished run with posteriors and detections (at 0.5) on rec0."""
    from tfstudio.store import Project

    with Project.open(small_project) as project:
        run = make_fake_run(project)
        detect_on(project, run, project.find_recording("rec0"))
    return small_project


def open_review_window(qtbot, root: Path):
    """The main window on ``root``, rec0 open, the Review tab in front, laid out."""
    win = open_window(qtbot, root, (1300, 850))
    rec0 = next(r for r in win.workspace.recordings() if r.stem == "rec0")
    win.workspace.set_recording(rec0.id)
    win.docks["review"].raise_()
    qtbot.waitUntil(lambda: win.view.has_image(), timeout=5000)
    settle_layout(qtbot, win.view)
    return win


@pytest.fixture
def review_window(qtbot, detected_project):
    """The main window on ``detected_project`` (:func:`open_review_window`)."""
    win = open_review_window(qtbot, detected_project)
    yield win
    win.close()


TINY_TRAIN = [
    "--preset",
    "fast",
    "--epochs",
    "1",
    "--max-batches",
    "3",
    "--device",
    "cpu",
    "--channels",
    "4",
    "--gru-hidden",
    "8",
    "--seq-len",
    "64",
    "--json",
]


@pytest.fixture(scope="session")
def trained_template(tmp_path_factory) -> Path:
    """A 4-recording demo with one tiny trained run, made once per session by the real CLI."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("trained") / "demo"
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    for args in (
        ["demo", str(root), "--recordings", "4", "--seconds", "4"],
        ["train", str(root), *TINY_TRAIN],
    ):
        subprocess.run(
            [sys.executable, "-m", "tfstudio", *args],
            check=True,
            capture_output=True,
            env=env,
            timeout=300,
        )
    return root


@pytest.fixture
def trained_root(trained_template, tmp_path) -> Path:
    """A private copy of the trained demo project."""
    import shutil

    root = tmp_path / "trained"
    shutil.copytree(trained_template, root)
    return root


@contextmanager
def app_font(points: float) -> Iterator[None]:
    """The application's font at ``points`` for what is built inside (as a user's setting)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.font()
    font = app.font()
    font.setPointSizeF(points)
    app.setFont(font)
    try:
        yield
    finally:
        app.setFont(before)
