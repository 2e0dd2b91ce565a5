"""Benchmark of the annotation window: ``python -m tfstudio.qt.bench [--hours 2] ...``.

Generates (once) a long mono WAV, makes a project with many labels on it, opens it in the real
main window (offscreen unless a display is set) and prints:
- time from opening the project to the first spectrogram image, and to the first painted frame;
- process memory (RSS) before and after, against the decoded size of the recording;
- frame time while panning at several zoom levels with all the labels on that recording;
- time for zoom steps (the GUI must never wait for spectrogram tiles);
  both also as the GUI thread's CPU time per step, which a busy machine inflates far less;
- the waveform strip: its first envelope at full zoom-out (the summary pass over the whole
  file, partial envelopes drawn as it goes) and on zoom steps (``--skip-pan`` measures this
  and the first image only).
``--freq-scale linear|log|mel`` opens the project with that frequency axis, as a project the
user last showed on it opens (the scale is remembered per project).
Numbers, not assertions: run it on the machine you care about. The figures that need no
window (time to the first tile and overview, tile times per zoom, peak memory of the tile
code) are ``tfstudio bench spectrogram``'s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from tfstudio.bench.common import rss_mb, write_long_wav


def make_project(root: Path, wav: Path, n_events: int, seed: int = 0):
    from tfstudio.importer import import_audio
    from tfstudio.store import Project

    if root.exists():
        shutil.rmtree(root)
    project = Project.create(root)
    report = import_audio(project, [wav])
    rec_id = report.recording_ids[0]
    duration = project.recording(rec_id).duration
    classes = [
        project.add_class(name).id for name in ("bird", "frog", "insect", "engine", "voice", "rain")
    ]
    rng = np.random.default_rng(seed)
    onsets = np.sort(rng.uniform(0, duration - 4, n_events))
    rows = [
        dict(
            recording_id=rec_id,
            class_id=int(classes[i % len(classes)]),
            onset=float(on),
            offset=float(on + rng.uniform(0.2, 3.0)),
        )
        for i, on in enumerate(onsets)
    ]
    project.add_events(rows, description="bench labels")
    project.close()
    return rec_id


class _PaintCounter:
    """Counts and times paint events of a widget (the graphics viewport)."""

    def __init__(self, widget):
        from PySide6.QtCore import QEvent, QObject

        counter = self

        class Filter(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Type.Paint:
                    counter.count += 1
                return False

        self.count = 0
        self._filter = Filter()
        widget.installEventFilter(self._filter)


def frame_times(app, view, steps: int, fraction: float) -> tuple[list[float], list[float], float]:
    """Pan by ``fraction`` of the view per step, as a held arrow key or a drag does.

    A step is the pan itself, every handler it triggers (tiles, labels, axes) and the repaint
    it causes, i.e. one frame; returns the step times in ms, the GUI thread's CPU time per
    step in ms (what the step cost, whatever else the machine runs) and the paints per step.
    """
    times, cpu = [], []
    counter = _PaintCounter(view.graphics.viewport())
    for i in range(steps):
        start, start_cpu = time.perf_counter(), time.thread_time()
        view.pan(fraction if (i // (steps // 2 or 1)) % 2 == 0 else -fraction)
        app.processEvents()
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        time.sleep(1 / 60)  # input arrives at display rate; workers compute in between
    return times, cpu, counter.count / max(1, steps)


def cpu_text(values: list[float]) -> str:
    return f"GUI-thread CPU median {statistics.median(values):5.2f} ms"


def summary_text(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(values):6.2f} ms   p95 {p95:6.2f} ms   max {max(values):6.2f} ms"


def _until(app, done, timeout_s: float = 120.0) -> float:
    """Seconds until ``done()`` while the event loop runs (``nan`` on a timeout)."""
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout_s:
            return float("nan")
        app.processEvents()
        time.sleep(0.001)
    return time.perf_counter() - start


def waveform_numbers(app, window, view) -> None:
    """Show the waveform on the whole recording (first time: no summary yet), then zoom."""
    strip = view.waveform

    def drawn(complete: bool) -> bool:
        asked = strip._asked
        if asked is None or strip.shown_request != asked or strip.envelope is None:
            return False
        return strip.envelope.complete or not complete

    duration = view.audio.duration if view.audio else 0

    def zoom_steps() -> tuple[list[float], list[float]]:
        """GUI time of 24 zoom steps (30 s ↔ whole), and until the strip has drawn each
        (the second time round: its summary is complete by then)."""
        gui, ready = [], []
        view.show_range(duration / 2, duration / 2 + 30)
        _until(app, lambda: not strip.active or drawn(True))
        for i in range(24):
            start = time.perf_counter()
            view.zoom(0.5 if i < 12 else 2.0)
            app.processEvents()
            gui.append((time.perf_counter() - start) * 1000)
            if strip.active:
                ready.append(_until(app, lambda: drawn(True), 30.0) * 1000 + gui[-1])
            else:
                time.sleep(0.05)
        return gui, ready

    window.set_waveform_shown(False)  # whatever the bench's settings remember
    hidden, _ = zoom_steps()
    view.show_all()
    app.processEvents()
    start = time.perf_counter()
    window.set_waveform_shown(True)
    gui_ms = (time.perf_counter() - start) * 1000
    first = _until(app, lambda: drawn(False))
    whole = first + _until(app, lambda: drawn(True))
    summary = strip.queue.summary(view.audio.path) if view.audio else None
    size = f"{summary.nbytes / 1e6:.1f} MB" if summary else "?"
    print("\nwaveform shown at full zoom-out (first time: the summary is read from the file):")
    print(f"  the menu action itself: {gui_ms:.0f} ms on the GUI thread")
    print(f"  first envelope drawn (left part while the summary fills): {first * 1000:.0f} ms")
    print(f"  complete envelope of the whole recording: {whole * 1000:.0f} ms (summary {size})")

    gui, ready = zoom_steps()
    # Again, hidden then shown: on a loaded machine the two halves see different loads.
    window.set_waveform_shown(False)
    hidden += zoom_steps()[0]
    window.set_waveform_shown(True)
    more_gui, more_ready = zoom_steps()
    gui, ready = gui + more_gui, ready + more_ready
    print(f"zoom steps, waveform hidden (30 s ↔ whole): GUI {summary_text(hidden)}")
    print(f"zoom steps, waveform shown:                 GUI {summary_text(gui)}")
    print(f"  until the strip shows the new window's envelope: {summary_text(ready)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tfstudio.qt.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--rate", type=int, default=48000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tfstudio-bench"))
    parser.add_argument("--steps", type=int, default=60, help="pan steps per zoom level")
    parser.add_argument(
        "--skip-pan", action="store_true", help="only the first image and the waveform strip"
    )
    parser.add_argument(
        "--freq-scale",
        choices=("linear", "log", "mel"),
        default="linear",
        help="the frequency axis the project opens with",
    )
    args = parser.parse_args(argv)

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TFSTUDIO_NO_AUDIO", "1")
    wav = args.workdir / f"long-{args.hours:g}h-{args.rate}.wav"
    if not wav.exists():
        print(f"writing {wav} ({args.hours:g} h at {args.rate} Hz)…", flush=True)
        t = time.perf_counter()
        write_long_wav(wav, args.hours * 3600, args.rate)
        print(f"  {time.perf_counter() - t:.1f} s, {wav.stat().st_size / 1e6:.0f} MB")
    root = args.workdir / "project"
    t = time.perf_counter()
    make_project(root, wav, args.events)
    print(f"project with {args.events} labels on one recording: {time.perf_counter() - t:.1f} s")

    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(args.workdir / "settings")
    )
    from tfstudio.qt import settings as qs
    from tfstudio.qt.app import create_application
    from tfstudio.qt.main_window import MainWindow

    app = create_application()
    # The window's own per-project memory, as if the user had last shown it on this scale.
    qs.qsettings().setValue(f"projects/{root.absolute()}/freq_scale", args.freq_scale)
    window = MainWindow()
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    view = window.view
    base_rss = rss_mb()
    first_image: list[float] = []
    view.firstImage.connect(first_image.append)

    t0 = time.perf_counter()
    window.open_project(root)
    while not view.has_image() and time.perf_counter() - t0 < 30:
        app.processEvents()
        time.sleep(0.001)
    view.graphics.viewport().repaint()
    painted = time.perf_counter() - t0
    frames = sf.info(str(wav)).frames
    print(f"\nfrequency scale: {view.scale.kind}")
    if view.scale.kind != args.freq_scale:
        raise SystemExit(f"error: the window opened on {view.scale.kind}, not {args.freq_scale}")
    print(
        f"\nrecording: {frames / args.rate / 3600:.2f} h at {args.rate} Hz, decoded float32 = {frames * 4 / 1e6:.0f} MB"
    )
    if first_image:
        print(f"first spectrogram image: {first_image[0] * 1000:.0f} ms after the recording opened")
    print(
        f"first painted frame:     {painted * 1000:.0f} ms after File ▸ Open (includes loading {args.events} labels)"
    )

    if args.skip_pan:
        waveform_numbers(app, window, view)
        window.close()
        return 0
    # Let the first view refine, then measure panning at three zoom levels.
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    duration = view.audio.duration if view.audio else 0
    print(f"\npan frame times ({args.steps} steps each, 1600 px window, {args.events} labels):")
    for label, width in (("10 s", 10.0), ("60 s", 60.0), ("10 min", 600.0), ("1 h", 3600.0)):
        view.show_range(duration / 3, duration / 3 + width)
        for _ in range(20):
            app.processEvents()
        visible = len(window.workspace.labels.visible(*view.view_range()))
        times, cpu, paints = frame_times(app, view, args.steps, 0.05)
        print(
            f"  {label:>6} view ({visible:5d} labels visible): {summary_text(times)}  ({paints:.1f} paint/step)"
            f"\n{'':29}{cpu_text(cpu)}"
        )

    zooms, zoom_cpu = [], []
    view.show_range(duration / 2, duration / 2 + 30)
    for i in range(24):
        start, start_cpu = time.perf_counter(), time.thread_time()
        view.zoom(0.5 if i < 12 else 2.0)
        app.processEvents()
        app.processEvents()
        zooms.append((time.perf_counter() - start) * 1000)
        zoom_cpu.append((time.thread_time() - start_cpu) * 1000)
    print(f"\nzoom steps (30 s ↔ whole recording): {summary_text(zooms)}")
    print(f"{'':37}{cpu_text(zoom_cpu)}")

    waveform_numbers(app, window, view)
    deadline = time.perf_counter() + 3
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    print(
        f"\nmemory: RSS {base_rss:.0f} MB before opening, {rss_mb():.0f} MB after all of the above; "
        f"tile cache {view.tiles.cache.nbytes / 1e6:.0f} MB in {len(view.tiles.cache)} tiles "
        f"(limit {view.tiles.cache.max_bytes / 1e6:.0f} MB)"
    )
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
