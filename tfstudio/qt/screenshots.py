"""Screenshots of the real window: ``python -m tfstudio.qt.screenshots OUTDIR [PROJECT]``.

Without PROJECT a demo project is generated in a temporary folder. Writes welcome.png,
main-window.png, overlapping-events.png (zoomed on the busiest polyphonic moment, one event
selected) and settings.png. Run it under ``xvfb-run -a`` for the platform's real rendering, or
with QT_QPA_PLATFORM=offscreen. User settings are not touched (a temporary settings folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

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
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    image = widget.grab().toImage()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tfstudio.qt.screenshots", description=__doc__.split("\n")[0]
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("project", type=Path, nargs="?")
    args = parser.parse_args(argv)
    os.environ.setdefault("TFSTUDIO_NO_AUDIO", "1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args.outdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="tfstudio-shots-"))

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
    save(window, args.outdir / "welcome.png")

    window.open_project(project)
    view, ws = window.view, window.workspace
    _settle(app, view, 0.8)
    save(window, args.outdir / "main-window.png", dither=True)

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
        save(window, args.outdir / "overlapping-events.png", dither=True)

    dialog = SettingsDialog(
        window.view_settings, window, nyquist=view.audio.nyquist if view.audio else 0
    )
    dialog.show()
    _settle(app)
    save(dialog, args.outdir / "settings.png")
    dialog.close()

    window.close()
    for name in ("welcome", "main-window", "overlapping-events", "settings"):
        path = args.outdir / f"{name}.png"
        if path.exists():
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
