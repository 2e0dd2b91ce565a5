"""Screenshots of the real window: ``python -m tfstudio.qt.screenshots OUTDIR [PROJECT]``.

Without PROJECT a demo project is generated in a temporary folder. Writes welcome.png,
main-window.png, overlapping-events.png (zoomed on the busiest polyphonic moment, one event
selected) and settings.png; undo-reveal.png (Ctrl+Z of a label deleted on another recording than the one
shown, in a scratch demo); the annotation workspace: freq-log.png and freq-mel.png (the same
moment on a log and a mel axis, the readout under the pointer), multi-select.png (events picked
with Ctrl+click and a Ctrl+drag rubber band, through real mouse events), waveform.png (the strip
above the spectrogram) and missing-audio.png (a scratch demo whose audio folder was moved:
flagged in Recordings, the Locate… offer open). ``--only NAME …`` writes just those. With
``--review`` also review.png (detections, posteriorgram and the review list) and
evaluation.png: a project without a finished run is first trained briefly (``--epochs``), then
detected on through the window's own Detect path. Run it under
``xvfb-run -a`` for the platform's real rendering, or with QT_QPA_PLATFORM=offscreen. User
settings are not touched (a temporary settings folder).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tfstudio.paths import self_command

WIDTH, HEIGHT = 1440, 900


def _settle(app, view=None, seconds: float = 0.3) -> None:
    """Let queued work land: tiles computed, events processed, a paint done."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if view is not None:
        for _ in range(100):
            app.processEvents()
            if view.tiles.wait(0.05):
                app.processEvents()
                if view.tiles.wait(0.05):
                    break
        app.processEvents()


def save(widget, path: Path, *, dither: bool = False) -> None:
    """A PNG of a widget; ``dither`` reduces it to 256 colours (half the bytes for noisy
    spectrograms, but it would add grain to flat dialogs)."""
    save_image(widget.grab().toImage(), path, dither=dither)


def save_image(image, path: Path, *, dither: bool = False) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    if dither:
        image = image.convertToFormat(
            QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.DiffuseDither
        )
    image.save(str(path), "PNG", 0)


def busiest_moment(labels, window_s: float = 5.0) -> tuple[float, float]:
    """The window with the most distinct classes overlapping (ties: most events)."""
    best, best_score = (0.0, window_s), (-1, -1)
    for event in labels.order:
        t = event.onset
        idx = labels.visible(t, t + 1.0)
        classes = {int(labels.class_ids[k]) for k in idx}
        score = (len(classes), len(idx))
        if score > best_score:
            best_score = score
            start = max(0.0, min(labels.onsets[idx].min(), t) - 0.4)
            end = max(labels.offsets[idx].max() + 0.4, start + 2.0)
            best = (start, min(end, start + window_s))
    return best


def _wait_for(app, signal, timeout_s: float = 600.0):
    """Run the event loop until ``signal`` fires; returns its first argument. A modal message
    box that opens meanwhile (a failed detection's warning) would wait for a click that never
    comes: it is closed and its text raised instead."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QMessageBox

    loop = QEventLoop()
    box: list = []
    modal: list[str] = []

    def done(*args) -> None:
        box.append(args[0] if args else None)
        loop.quit()

    def close_modal() -> None:
        widget = app.activeModalWidget()
        if isinstance(widget, QMessageBox):
            modal.append(f"{widget.windowTitle()}: {widget.text()}")
            widget.done(0)
            loop.quit()

    watch = QTimer()
    watch.timeout.connect(close_modal)
    watch.start(100)
    signal.connect(done)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    watch.stop()
    signal.disconnect(done)
    if modal:
        raise RuntimeError(modal[0])
    if not box:
        raise TimeoutError("timed out waiting for a child process")
    return box[0]


def train_quickly(project: Path, epochs: int) -> None:
    """A short real training with the fast preset (``tfstudio train``), for screenshots."""
    import subprocess

    args = ["train", str(project), "--preset", "fast", "--epochs", str(epochs), "--device", "cpu"]
    subprocess.run(
        [*self_command(), *args, "--json"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def review_shots(app, window, outdir: Path, *, threshold: float = 0.4) -> list[Path]:
    """review.png and evaluation.png of an open project that has a finished run."""
    from PySide6.QtCore import Qt

    ws, view = window.workspace, window.view
    if ws.run_id is None:
        print("no finished run: skipping review.png", file=sys.stderr)
        return []
    # A detection on every test recording, through the same path as the Detect button.
    tests = [r for r in ws.recordings() if r.split == "test"] or ws.recordings()[:3]
    window.review.thresholds.set_threshold(threshold)
    window.browser.select_ids([r.id for r in tests])
    if not window.detect("selected"):
        # Nothing was started, so nothing will finish: say why instead of waiting.
        raise RuntimeError(f"detection did not start: {window.statusBar().currentMessage()}")
    outcome = _wait_for(app, window.detector.finished)
    if outcome.status != "done":
        raise RuntimeError(f"detection failed: {outcome.message}")

    # The test recording and the window of it where the most detections overlap labels.
    best = None
    for rec in tests:
        ws.set_recording(rec.id)
        app.processEvents()
        drawn = window.detections.drawn()
        for t in np.arange(0.0, max(rec.duration - 8.0, 0.0) + 0.01, 1.0):
            inside = int(((drawn.onsets < t + 8.0) & (drawn.offsets > t)).sum())
            labelled = len(ws.labels.visible(t, t + 8.0))
            score = (min(inside, labelled), inside)
            if best is None or score > best[0]:
                best = (score, rec.id, float(t))
    assert best is not None
    _, rec_id, start = best
    ws.set_recording(rec_id)
    window.docks["review"].raise_()
    # Reviewing wants the spectrogram wide and the list tall: a narrower recordings column.
    window.resizeDocks(
        [window.docks["recordings"], window.docks["review"]], [300, 420], Qt.Orientation.Horizontal
    )
    window.resizeDocks(
        [window.docks["classes"], window.docks["review"]], [178, 680], Qt.Orientation.Vertical
    )
    window.review.sort_combo.setCurrentIndex(window.review.sort_combo.findData("uncertainty"))
    _settle(app, view, 0.4)
    view.show_range(start, start + 8.0)
    model = window.review.model
    in_view = [e for e in model.events() if start <= e.onset and e.offset <= start + 8.0]
    # The least certain detection long enough to see, as a reviewer would pick it next.
    visible = [e for e in in_view if e.duration >= 0.4] or in_view
    if visible:
        window.review.go_to(visible[0])
        view.show_range(start, start + 8.0)
    _settle(app, view, 0.8)
    shots = [outdir / "review.png"]
    save(window, shots[0], dither=True)

    window.docks["evaluation"].raise_()
    if not window.ask_evaluate():
        print(
            f"evaluation did not start ({window.evaluation.summary.text()}): "
            "skipping evaluation.png",
            file=sys.stderr,
        )
        return shots
    outcome = _wait_for(app, window.evaluation.finished)
    if outcome.status == "done":
        _settle(app, view, 0.4)
        shots.append(outdir / "evaluation.png")
        save(window, shots[-1], dither=True)
    return shots


def _mouse_move(app, viewport, pos) -> None:
    """A real mouse move, then time for pyqtgraph (it drops moves closer than 10 ms)."""
    from PySide6.QtTest import QTest

    time.sleep(0.015)
    QTest.mouseMove(viewport, pos)
    app.processEvents()


def point_at(app, window, t: float, hz: float) -> None:
    """Move the pointer over the spectrogram: the status bar reads time, frequency and dB."""
    view = window.view
    _mouse_move(app, view.graphics.viewport(), view.viewport_pos("spec", t, hz))


def scale_shots(app, window, outdir: Path, start: float, end: float) -> list[Path]:
    """freq-log.png and freq-mel.png: one moment on each axis, the pointer on a loud bin."""
    view, ws = window.view, window.workspace
    shots = []
    ws.select_event(None)
    for kind in ("log", "mel"):
        window.set_frequency_scale(kind)
        view.show_range(start, end)
        _settle(app, view, 0.8)
        # The pointer on the loudest bin below 4 kHz near the middle, for a telling readout.
        t = (start + end) / 2
        freqs = np.geomspace(100.0, min(4000.0, view.audio.nyquist if view.audio else 4000.0), 60)
        levels = [view.level_at(t, float(f)) for f in freqs]
        known = [(lv, f) for lv, f in zip(levels, freqs, strict=True) if lv is not None]
        hz = float(max(known)[1]) if known else 1000.0
        point_at(app, window, t, hz)
        _settle(app, view, 0.2)
        shots.append(outdir / f"freq-{kind}.png")
        save(window, shots[-1], dither=True)
    window.set_frequency_scale("linear")
    _settle(app, view, 0.3)
    return shots


def multi_select_shot(app, window, outdir: Path, start: float, end: float) -> list[Path]:
    """multi-select.png: Ctrl+click one event, Ctrl+drag a band over others, all by mouse."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    view, ws = window.view, window.workspace
    view.show_range(start, end)
    _settle(app, view, 0.5)
    inside = sorted(
        (ws.labels.order[k] for k in ws.labels.visible(start, end)), key=lambda e: e.onset
    )
    if len(inside) < 3:
        print("fewer than three events in view: skipping multi-select.png", file=sys.stderr)
        return []
    viewport = view.graphics.viewport()
    left = Qt.MouseButton.LeftButton
    ctrl = Qt.KeyboardModifier.ControlModifier
    _, (y0, y1) = view.spec_vb.viewRange()

    def hz_at(fraction: float) -> float:
        return float(view.scale.to_hz(y0 + fraction * (y1 - y0)))

    ws.select_event(None)
    first = inside[0]
    QTest.mouseClick(viewport, left, pos=view.viewport_pos("spec", first.onset + 0.02, hz_at(0.5)))
    app.processEvents()
    ws.select_event(first.id)  # in case the click landed on an overlapping one
    # A rubber band from the middle of the view to its end, across the whole height.
    t0 = start + 0.55 * (end - start)
    a = view.viewport_pos("spec", t0, hz_at(0.97))
    b = view.viewport_pos("spec", end - 0.03 * (end - start), hz_at(0.03))
    QTest.mousePress(viewport, left, ctrl, a)
    for k in range(1, 9):
        _mouse_move(app, viewport, a + (b - a) * k / 8)
    QTest.mouseRelease(viewport, left, ctrl, b)
    app.processEvents()
    # And one more with Ctrl+click, somewhere before the band.
    others = [e for e in inside[1:] if e.offset < t0 and e.id not in ws.selection()]
    if others:
        pick = others[len(others) // 2]
        time.sleep(0.6)  # not a double click
        QTest.mouseClick(
            viewport,
            left,
            ctrl,
            view.viewport_pos("spec", (pick.onset + pick.offset) / 2, hz_at(0.5)),
        )
    _settle(app, view, 0.5)
    window.statusBar().showMessage(
        f"{len(ws.selection())} events selected: 1–9, Del or the arrows act on all"
    )
    _settle(app, view, 0.2)
    shot = outdir / "multi-select.png"
    save(window, shot, dither=True)
    ws.select_event(None)
    return [shot]


def waveform_shot(app, window, outdir: Path, start: float, end: float) -> list[Path]:
    """waveform.png: the strip above the spectrogram, on the same time axis."""
    view = window.view
    window.statusBar().clearMessage()
    window.set_waveform_shown(True)
    view.show_range(start, end)
    _settle(app, view, 0.5)
    for _ in range(200):
        if view.waveform.envelope is not None and view.waveform.envelope.complete:
            break
        view.waveform.wait(0.05)
        app.processEvents()
    _settle(app, view, 0.3)
    shot = outdir / "waveform.png"
    save(window, shot, dither=True)
    window.set_waveform_shown(False)
    return [shot]


def undo_shot(app, window, outdir: Path, scratch: Path) -> list[Path]:
    """undo-reveal.png: a label deleted on one recording, the user gone on to another with
    the list filtered to it, then Ctrl+Z: the first recording opens (the filter cleared),
    scrolled to the label, which is selected, and the status bar says what was undone."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from tfstudio.importer import create_demo

    root = scratch / "undo-demo"
    create_demo(root, recordings=6, seconds=30.0, seed=2).close()
    window.open_project(root)
    view, ws, browser = window.view, window.workspace, window.browser
    _settle(app, view, 0.5)
    first, other = ws.recordings()[1], ws.recordings()[4]
    ws.set_recording(first.id)
    late = [e for e in ws.labels.order if e.onset > 15.0]
    if not late:
        return []
    ws.select_event(late[0].id)
    window.view.ensure_visible(late[0])
    ws.delete_selected()
    ws.set_recording(other.id)
    view.show_range(0.0, 6.0)
    QTest.keyClicks(browser.filter_edit, other.stem)
    window.activateWindow()
    view.graphics.setFocus()
    _settle(app, view, 0.5)
    deleted = ws.undo_description()
    QTest.keyClick(view.graphics, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    if ws.undo_description() == deleted:  # a window manager that did not activate it
        window.undo_action.trigger()
    _settle(app, view, 0.8)
    shot = outdir / "undo-reveal.png"
    save(window, shot, dither=True)
    return [shot]


def missing_audio_shot(app, window, outdir: Path, scratch: Path) -> list[Path]:
    """missing-audio.png: a demo whose audio folder was moved, the row's Locate… menu open."""
    import shutil

    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QApplication

    from tfstudio.importer import create_demo

    root = scratch / "moved-demo"
    create_demo(root, recordings=6, seconds=20.0, seed=1).close()
    with_audio = [p for p in root.iterdir() if p.is_dir() and any(p.glob("*.wav"))]
    for folder in with_audio:
        shutil.move(folder, folder.with_name(folder.name + "-moved"))
    window.open_project(root)
    view, browser = window.view, window.browser
    _settle(app, view, 0.5)
    table = browser.table
    # On the second row's label count: the menu opens over the spectrogram's margin, leaving
    # the flagged names and the message on the spectrogram in sight.
    rect = table.visualRect(browser.model.index(1, 3))
    pos = rect.center()
    shot = outdir / "missing-audio.png"

    def grab_with_menu() -> None:
        # The menu is a window of its own: painted onto the window's picture where it opened.
        menu = QApplication.activePopupWidget()
        picture = window.grab()
        if menu is not None:
            painter = QPainter(picture)
            at = menu.mapToGlobal(QPoint(0, 0)) - window.mapToGlobal(QPoint(0, 0))
            painter.drawPixmap(at, menu.grab())
            painter.end()
        save_image(picture.toImage(), shot, dither=True)
        if menu is not None:
            menu.close()

    QTimer.singleShot(400, grab_with_menu)
    table.customContextMenuRequested.emit(pos)  # the row's right-click menu, until closed
    return [shot] if shot.exists() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tfstudio.qt.screenshots", description=__doc__.split("\n")[0]
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("project", type=Path, nargs="?")
    parser.add_argument("--review", action="store_true", help="also review.png and evaluation.png")
    parser.add_argument(
        "--epochs", type=int, default=30, help="training epochs when --review needs a run"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="write only these shots (e.g. freq-log waveform)"
    )
    args = parser.parse_args(argv)
    if args.project is not None:
        # Checked here, before any window: the window would ask in a modal message box,
        # which nobody can close in an unattended (offscreen) run.
        from tfstudio.store import Project, ProjectError

        try:
            Project.open(args.project).close()
        except (ProjectError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    os.environ.setdefault("TFSTUDIO_NO_AUDIO", "1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args.outdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="tfstudio-shots-"))
    # Every shot is rendered (later ones start where earlier ones left the window) into a
    # staging folder; the ones asked for are then copied to OUTDIR.
    staging = scratch / "shots"
    staging.mkdir()

    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings")
    )

    from tfstudio.qt.app import create_application
    from tfstudio.qt.dialogs import SettingsDialog
    from tfstudio.qt.main_window import MainWindow

    app = create_application(sys.argv[:1])
    project = args.project
    if project is None:
        from tfstudio.importer import create_demo

        project = scratch / "demo"
        create_demo(project, recordings=12, seconds=30.0, seed=0).close()

    window = MainWindow()
    window.resize(WIDTH, HEIGHT)
    window.show()
    _settle(app)
    window._fill_recent_list()
    save(window, staging / "welcome.png")

    window.open_project(project)
    view, ws = window.view, window.workspace
    _settle(app, view, 0.8)
    save(window, staging / "main-window.png", dither=True)

    # The busiest polyphonic moment of the project, zoomed, with one event selected.
    best = None
    for rec in ws.recordings():
        ws.set_recording(rec.id)
        start, end = busiest_moment(ws.labels)
        idx = ws.labels.visible(start, end)
        score = len({int(ws.labels.class_ids[k]) for k in idx})
        if best is None or score > best[0]:
            best = (score, rec.id, start, end)
    if best is not None:
        _, rec_id, start, end = best
        ws.set_recording(rec_id)
        _settle(app, view, 0.3)
        view.show_range(start, end)
        inside = [ws.labels.order[k] for k in ws.labels.visible(start, end)]
        if inside:
            ws.select_event(max(inside, key=lambda e: e.duration).id)
        _settle(app, view, 0.8)
        save(window, staging / "overlapping-events.png", dither=True)

    dialog = SettingsDialog(
        window.view_settings, window, nyquist=view.audio.nyquist if view.audio else 0
    )
    dialog.show()
    _settle(app)
    save(dialog, staging / "settings.png")
    dialog.close()

    names = ["welcome", "main-window", "overlapping-events", "settings"]
    if best is not None:
        _, rec_id, start, end = best
        ws.set_recording(rec_id)
        _settle(app, view, 0.3)
        scale_shots(app, window, staging, start, end)
        multi_select_shot(app, window, staging, start, end)
        waveform_shot(app, window, staging, start, end)
        names += ["freq-log", "freq-mel", "multi-select", "waveform"]
    if args.review:
        from tfstudio.store import Project

        with Project.open(project) as opened:
            trained = opened.latest_run() is not None
        if not trained:
            window.close_project()
            train_quickly(project, args.epochs)
            window.open_project(project)
            _settle(app, view, 0.5)
        try:
            review_shots(app, window, staging)
        except (RuntimeError, TimeoutError) as exc:
            # e.g. a run whose checkpoint is gone: one line, not a traceback after minutes.
            print(f"cannot make review.png: {exc}", file=sys.stderr)
            window.close()
            return 1
        names += ["review", "evaluation"]
    # Last: they open projects of their own.
    if undo_shot(app, window, staging, scratch):
        names.append("undo-reveal")
    missing_audio_shot(app, window, staging, scratch)
    names.append("missing-audio")

    window.close()
    wanted = set(args.only or names)
    for name in sorted(wanted - set(names)):
        print(f"no shot named {name!r} (made: {', '.join(names)})", file=sys.stderr)
    for name in names:
        made = staging / f"{name}.png"
        if name in wanted and made.exists():
            path = args.outdir / made.name
            shutil.copyfile(made, path)
            print(path)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
