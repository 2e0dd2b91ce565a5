"""Benchmark of the threshold slider: ``python -m tfstudio.qt.bench_review [--minutes 60] ...``.

Makes a project with one long recording and a synthetic run whose posteriors hold a known
number of detections, opens it in the real main window (offscreen unless a display is set)
and prints, per slider step while dragging: post-processing time, the overlay rebuild, and a
full repaint of the window zoomed out and zoomed in; and the time to store the detections when
the slider is released. Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def synthetic_posteriors(frames: int, classes: int, per_class: int, seed: int = 0) -> np.ndarray:
    """Noise below 0.3 with ``per_class`` bumps per class whose heights spread over 0.3-1."""
    rng = np.random.default_rng(seed)
    post = (rng.random((frames, classes), dtype=np.float32) * 0.3).astype(np.float32)
    for c in range(classes):
        starts = np.sort(rng.choice(frames - 200, size=per_class, replace=False))
        lengths = rng.integers(10, 150, size=per_class)
        heights = rng.uniform(0.3, 1.0, size=per_class).astype(np.float32)
        for s, n, h in zip(starts.tolist(), lengths.tolist(), heights.tolist()):
            post[s : s + n, c] = np.maximum(post[s : s + n, c], h)
    return post


def _has_frames(path: Path, frames: int) -> bool:
    import soundfile as sf

    try:
        return sf.info(str(path)).frames == frames
    except (OSError, RuntimeError):  # missing or unreadable
        return False


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"median {statistics.median(ms):6.1f} ms   max {max(ms):6.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tfstudio.qt.bench_review", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--per-class", type=int, default=600, help="posterior bumps per class")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tfstudio-bench-review"))
    args = parser.parse_args(argv)
    os.environ.setdefault("TFSTUDIO_NO_AUDIO", "1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QSettings

    from tfstudio.qt.bench import write_long_wav

    sample_rate = 8000
    wav = args.workdir / f"long-{args.minutes:g}min.wav"
    # Made again when missing or cached at another length.
    if not _has_frames(wav, round(args.minutes * 60 * sample_rate)):
        write_long_wav(wav, args.minutes * 60, sample_rate)
    root = args.workdir / "project"
    shutil.rmtree(root, ignore_errors=True)
    settings = args.workdir / "settings"
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings))

    from tfstudio.importer import import_audio
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow
    from tfstudio.store import Project
    from tfstudio.train.layout import STITCHING, posteriors_file, posteriors_stamp

    hop_s = 0.02
    with Project.create(root) as project:
        import_audio(project, [wav])
        for k in range(args.classes):
            project.add_class(f"class{k}")
        classes = [f"class{k}" for k in range(args.classes)]
        run = project.create_run(
            {
                "classes": classes,
                "features": {"hop_length": 160, "sample_rate": 8000},
                "threshold": 0.5,
                "median_filter_frames": 5,
            }
        )
        project.update_run(run.id, status="done", best_checkpoint="runs/run-1/best.pt")
        rec = project.recordings()[0]
        frames = int(rec.duration / hop_s) + 1
        post = synthetic_posteriors(frames, args.classes, args.per_class)
        path = posteriors_file(project, run.id, rec)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, post)
        # Stamped as this version's detect stamps them, or the window would not read them.
        stamp = {"stitching": STITCHING, "classes": classes}
        posteriors_stamp(project, run.id).write_text(json.dumps(stamp))

    app = create_application(sys.argv[:1])
    window = MainWindow()
    window.resize(1440, 900)
    window.show()
    window.open_project(root)
    for _ in range(20):
        app.processEvents()
    model, view, controls = window.detections, window.view, window.review.thresholds
    print(f"recording {rec.duration / 60:.3g} min, posteriors {post.shape} float32")

    started = time.perf_counter()
    controls.set_threshold(0.5)
    stored_s = time.perf_counter() - started
    app.processEvents()
    print(
        f"detections at 0.50: {model.pending_count()} (stored on release in {stored_s * 1000:.0f} ms)"
    )

    for label, zoom in (("zoomed out (whole recording)", None), ("zoomed in (30 s)", 30.0)):
        if zoom is None:
            view.show_all()
        else:
            view.show_range(rec.duration / 2, rec.duration / 2 + zoom)
        app.processEvents()
        compute, overlay, paint = [], [], []
        for step in range(args.steps):
            value = 0.35 + 0.5 * step / max(1, args.steps - 1)
            controls.slider.setSliderDown(True)
            controls.slider.setValue(round(value * 100))
            t0 = time.perf_counter()
            model._compute_preview()  # what the throttle timer runs once per frame
            t1 = time.perf_counter()
            compute.append(model.last_redraw_s)
            overlay.append(t1 - t0 - model.last_redraw_s)
            t2 = time.perf_counter()
            view.graphics.viewport().repaint()
            paint.append(time.perf_counter() - t2)
        controls.slider.setSliderDown(False)
        print(f"{label}: {model.pending_count()} detections drawn at the last step")
        print(f"  post-processing   {summary(compute)}")
        print(f"  overlay rebuild   {summary(overlay)}")
        print(f"  repaint           {summary(paint)}")
    started = time.perf_counter()
    controls.set_threshold(controls.slider.value() / 100)
    print(
        f"release: stored {model.pending_count()} detections in "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
