"""An uncaught exception in the running app: logged with its traceback, shown in a dialog that
names the log file, and the app goes on (a real ``tfstudio`` app in a child process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The app as ``tfstudio PROJECT`` runs it (tfstudio.qt.app.run), with three timers: a slot that
# raises, a look at the windows afterwards, and a second slot that raises while the dialog is
# open; then it closes the dialog, edits the project and quits.
CHILD = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox
    from tfstudio.qt.app import create_application, run
    from tfstudio.store import Project

    report = {}

    def failing_slot():
        raise RuntimeError("a slot that fails")

    def look():
        boxes = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QMessageBox) and w.isVisible()]
        report["dialogs"] = [
            {"title": b.windowTitle(), "text": b.text(), "info": b.informativeText(),
             "buttons": [x.text() for x in b.buttons()]}
            for b in boxes
        ]
        QTimer.singleShot(100, failing_slot)   # a second error while the dialog is open
        QTimer.singleShot(400, close_and_edit)

    def close_and_edit():
        boxes = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QMessageBox) and w.isVisible()]
        report["dialogs_after_second_error"] = len(boxes)
        for box in boxes:
            box.done(0)
        window = next(w for w in QApplication.topLevelWidgets() if hasattr(w, "open_project"))
        report["window_visible"] = window.isVisible()
        QTimer.singleShot(100, QApplication.quit)

    app = create_application()
    QTimer.singleShot(800, failing_slot)
    QTimer.singleShot(1500, look)
    code = run(sys.argv[1])
    project = Project.open(sys.argv[1])
    project.add_class("after the error")
    report["classes"] = [c.name for c in project.classes()]
    project.close()
    print(json.dumps(report))
    sys.exit(code)
    """
)


def test_an_error_in_a_slot_is_logged_shown_and_survived(small_project, tmp_path):
    log_dir = tmp_path / "logs"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TFSTUDIO_NO_AUDIO": "1",
        "TFSTUDIO_LOG_DIR": str(log_dir),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(small_project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    log_file = log_dir / "tfstudio.log"
    log = log_file.read_text(encoding="utf-8")
    assert "ERROR tfstudio: uncaught exception" in log
    assert "Traceback (most recent call last)" in log
    assert "in failing_slot" in log
    assert log.count("RuntimeError: a slot that fails") == 2  # both errors, one dialog

    [dialog] = report["dialogs"]
    assert dialog["title"] == "Unexpected error"
    assert "RuntimeError: a slot that fails" in dialog["text"]
    assert str(log_file) in dialog["info"]
    assert "project is safe" in dialog["info"]
    assert "Open log folder" in dialog["buttons"]
    assert report["dialogs_after_second_error"] == 1
    assert report["window_visible"] is True
    # The project is intact and writable after the errors.
    assert set(report["classes"]) == {"bird", "frog", "after the error"}
