"""Screenshots of the training UI from a real (short) training on a generated demo project.

    python -m tfstudio.qt.training.screenshots OUTDIR [--epochs 12] [--project DIR] [--dialog-only]

Writes ``training-panel-running.png`` (mid-run), ``training-panel-done.png``,
``training-dialog.png``, ``training-further-dialog.png`` and ``training-further-menu.png``
(Train further… of the newest run that can go on) and ``training-history.png`` (a
scheduled-sampling run overlaid on a run without teacher forcing); ``--dialog-only`` writes
just the dialogs and the menu, without training.
Runs offscreen unless a display is set; ``xvfb-run -a`` gives the same fonts as a desktop.
Prints how long the GUI thread spent per redraw and the longest event-loop stall seen while
training ran.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    # Offscreen's screen is 800 × 600: dialogs that fit themselves to the screen would be
    # shot cramped; under a display (xvfb-run) they get its size.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from tfstudio.qt.training.dialog import TrainDialog
from tfstudio.qt.training.engine import engine_info, engine_probe
from tfstudio.qt.training.further import TrainFurtherDialog
from tfstudio.qt.training.history import RunHistory
from tfstudio.qt.training.panel import TrainingPanel
from tfstudio.session.engine import EngineInfo
from tfstudio.session.runs import extension
from tfstudio.store import Project
from tfstudio.train.events import BatchEvent, DoneEvent, EpochEvent, TrainEvent, TrainingSummary

SIZE = (1200, 820)


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``condition()`` holds (True) or the time is up (False)."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    return True


def settle(ms: int = 400) -> None:
    """Let throttled redraws and layouts happen before a grab."""
    wait_until(lambda: False, ms / 1000)


def save(widget: QWidget, path: Path) -> None:
    widget.grab().save(str(path))
    print(f"wrote {path}")


class StallMeter:
    """Gaps between 10 ms timer ticks: how long the event loop was blocked.

    ``worst`` is wall time; ``worst_cpu`` the GUI thread's own CPU time in its longest gap.
    On a busy machine a long wall gap with little CPU is the OS running something else,
    not the GUI being slow.
    """

    def __init__(self) -> None:
        self.worst = 0.0
        self.worst_cpu = 0.0
        self.gaps: list[float] = []
        self.ticks = 0
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = max(0.0, now - self._last - 0.010)
        self.gaps.append(gap)
        self.worst = max(self.worst, gap)
        self.worst_cpu = max(self.worst_cpu, cpu - self._last_cpu)
        self._last, self._last_cpu = now, cpu
        self.ticks += 1

    def summary(self) -> str:
        gaps = sorted(self.gaps) or [0.0]
        p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
        return (
            f"event-loop stall over {self.ticks} ticks: p99 {1000 * p99:.1f} ms, "
            f"max {1000 * self.worst:.1f} ms wall; most GUI-thread CPU between two ticks "
            f"{1000 * self.worst_cpu:.1f} ms"
        )


def train(panel: TrainingPanel, args: list[str], timeout_s: float) -> TrainingSummary:
    results: list[TrainingSummary] = []
    panel.run_finished.connect(results.append)
    panel.start(args)
    if not wait_until(lambda: bool(results), timeout_s):
        panel.process.kill()
        wait_until(lambda: bool(results), 10)
        raise SystemExit(f"training did not finish within {timeout_s:.0f} s")
    panel.run_finished.disconnect(results.append)
    return results[0]


def shoot_dialog(root: Path, info: EngineInfo, settings: QSettings, outdir: Path) -> None:
    dialog = TrainDialog(root, engine=info, settings=settings)
    dialog.show()
    settle()
    save(dialog, outdir / "training-dialog.png")
    dialog.close()


def shoot_further(root: Path, outdir: Path) -> None:
    """training-further-dialog.png and training-further-menu.png: Train further… of the
    newest run that can go on (nothing when none can), and its row's menu in the Runs dock."""
    with Project.open(root) as project:
        runs = [(run, extension(project, run)) for run in project.runs()]
    chosen = next((pair for pair in reversed(runs) if pair[1].possible), None)
    if chosen is None:
        print("no run to train further: no Train further shots")
        return
    run, ext = chosen
    dialog = TrainFurtherDialog(ext)
    dialog.show()
    settle()
    save(dialog, outdir / "training-further-dialog.png")
    dialog.close()
    history = RunHistory(root)
    history.train_further_requested.connect(lambda _run_id: None)  # as the window wires it
    history.resume_requested.connect(lambda _run_id: None)
    history.resize(*SIZE)
    history.show()
    settle()
    menu = history.run_menu(run.id)
    menu.popup(history.mapToGlobal(history.rect().center()))
    settle()
    save(menu, outdir / "training-further-menu.png")
    menu.close()
    history.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--project", type=Path, help="use this project instead of a new demo")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--gamma", type=float, default=0.4, help="decay of the scheduled run")
    parser.add_argument("--recordings", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per training")
    parser.add_argument(
        "--dialog-only", action="store_true", help="only training-dialog.png (no training)"
    )
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("tfstudio")
    scratch = tempfile.TemporaryDirectory(prefix="tfstudio-shots-")
    root = args.project
    if root is None:
        from tfstudio.cli import main as cli

        root = Path(scratch.name) / "demo"
        cli(
            [
                "demo",
                str(root),
                "--recordings",
                str(args.recordings),
                "--seconds",
                str(args.seconds),
            ]
        )
    settings = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)

    probe = engine_probe()
    probe.request()
    wait_until(lambda: probe.info is not None, 120)
    info = probe.info or engine_info()
    print(f"device: {info.auto_device()}  torch {info.torch}")
    if args.dialog_only:
        shoot_dialog(root, info, settings, args.outdir)
        shoot_further(root, args.outdir)
        scratch.cleanup()
        return 0

    panel = TrainingPanel(root, settings=settings, engine=info)
    panel.setWindowTitle("tfstudio — training")
    panel.resize(*SIZE)
    panel.show()
    settle()
    save(panel, args.outdir / "training-panel-empty.png")

    meter = StallMeter()
    shot_epoch = max(2, args.epochs // 2)
    grabbed: list[bool] = []

    def on_epoch(event: EpochEvent) -> None:
        if not grabbed and event.epoch >= shot_epoch:
            grabbed.append(True)
            # After the next throttled redraw, so the epoch just received is on screen.
            QTimer.singleShot(300, grab_running)

    def grab_running() -> None:
        # A grab and a PNG encode are the script's cost, not the panel's.
        meter.stop()
        during.stop()
        save(panel, args.outdir / "training-panel-running.png")
        meter.start()
        during.start()

    # The meter covers the training itself (first batch to the "done" line); starting the
    # child and the end-of-run summary are one-off costs, reported by the whole-run meter.
    during = StallMeter()

    def on_batch(_event: BatchEvent) -> None:
        if not during.ticks and not during._timer.isActive():
            during.start()

    def on_event(event: TrainEvent) -> None:
        if isinstance(event, DoneEvent):
            during.stop()

    panel.process.batch.connect(on_batch)
    panel.process.event.connect(on_event)
    panel.process.epoch.connect(on_epoch)
    common = ["--preset", "fast", "--epochs", str(args.epochs), "--device", "auto"]
    common += ["--patience", str(args.epochs)]
    meter.start()
    t0 = time.perf_counter()
    first = train(
        panel, [*common, "--schedule", "drossos", "--gamma", str(args.gamma)], args.timeout
    )
    elapsed = time.perf_counter() - t0
    meter.stop()
    panel.process.epoch.disconnect(on_epoch)
    panel.process.batch.disconnect(on_batch)
    panel.process.event.disconnect(on_event)
    settle()
    save(panel, args.outdir / "training-panel-done.png")
    redraws = panel.redraw_seconds
    print(
        f"run {first.run} {first.status} in {elapsed:.0f} s; "
        f"{len(redraws)} redraws, median {1000 * sorted(redraws)[len(redraws) // 2]:.2f} ms, "
        f"max {1000 * max(redraws):.2f} ms\n  whole run: {meter.summary()}"
        f"\n  while training: {during.summary()}"
    )

    second = train(panel, [*common, "--schedule", "none"], args.timeout)
    print(f"run {second.run} {second.status}")

    shoot_dialog(root, info, settings, args.outdir)
    shoot_further(root, args.outdir)

    history = RunHistory(root)
    history.setWindowTitle("tfstudio — runs")
    history.resize(*SIZE)
    history.show()
    with Project.open(root) as project:
        ids = [r.id for r in project.runs()][-2:]
    history.select_runs(ids)
    settle()
    save(history, args.outdir / "training-history.png")
    history.close()
    panel.close()
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
