"""What following a training costs the GUI thread: per JSON line, per redraw, worst stall.

    python -m tfstudio.qt.training.bench [--lines 100000] [--rate 2000]

Feeds synthetic ``train --json`` lines through the same path as a real child's stdout
(``TrainingJob`` line handling → signals → ``TrainingPanel`` buffers → throttled redraw)
and prints numbers; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from tfstudio.qt.training.engine import engine_info
from tfstudio.qt.training.panel import TrainingPanel
from tfstudio.qt.training.process import TrainingJob
from tfstudio.qt.training.screenshots import StallMeter, wait_until
from tfstudio.train.events import StartEvent


def batch_line(i: int, per_epoch: int) -> bytes:
    event = {
        "event": "batch",
        "epoch": i // per_epoch + 1,
        "iteration": i,
        "tf_prob": max(0.05, 0.9 * math.exp(-i / 20000)),
        "loss": 0.7 * math.exp(-i / 5000) + 0.05 + 0.01 * math.sin(i),
        "batch": i % per_epoch + 1,
        "batches_per_epoch": per_epoch,
    }
    return (json.dumps(event) + "\n").encode()


def epoch_line(epoch: int) -> bytes:
    event = {"event": "epoch", "epoch": epoch, "train_loss": 0.3, "val_loss": 0.35}
    event.update(f1=0.8, er=0.3, tf_prob=0.5)
    return (json.dumps(event) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000, help="batch lines to feed")
    parser.add_argument("--per-epoch", type=int, default=500, help="batches per epoch")
    parser.add_argument("--rate", type=float, default=2000.0, help="lines/s in the live part")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the live part")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    process = TrainingJob(".")
    panel = TrainingPanel(None, process=process, engine=engine_info())
    panel.resize(1200, 800)
    panel.show()
    app.processEvents()
    process.state_changed.emit("starting")  # what a real start does to the panel
    process.run_started.emit(
        StartEvent(run=1, device="cpu", batches_per_epoch=args.per_epoch, epochs=1000, config={})
    )

    # 1. Handling cost per line: split, parse, emit, append (no drawing in between).
    lines = b"".join(
        batch_line(i, args.per_epoch)
        + (epoch_line(i // args.per_epoch + 1) if (i + 1) % args.per_epoch == 0 else b"")
        for i in range(args.lines)
    )
    t0 = time.perf_counter()
    for chunk_start in range(0, len(lines), 65536):  # pipe-sized chunks, lines cut anywhere
        process.feed_stdout(lines[chunk_start : chunk_start + 65536])
    per_line = (time.perf_counter() - t0) / args.lines
    print(f"per JSON line (parse + signal + buffer): {1e6 * per_line:.1f} µs")

    # 2. One redraw with everything so far on screen.
    costs = []
    for _ in range(5):
        t0 = time.perf_counter()
        panel._redraw()
        app.processEvents()  # the paint the redraw causes
        costs.append(time.perf_counter() - t0)
    print(
        f"redraw + paint with {len(panel.tf)} points per curve: median "
        f"{1000 * statistics.median(costs):.1f} ms (live, one plot per event-loop turn)"
    )

    # 3. Live: lines arriving at a steady rate while the event loop runs.
    meter = StallMeter()
    panel.redraw_seconds.clear()
    start_i = args.lines
    sent = [0]
    total = int(args.rate * args.seconds)
    t_start = time.perf_counter()

    def feed() -> None:
        due = min(total, int((time.perf_counter() - t_start) * args.rate))
        for k in range(sent[0], due):
            i = start_i + k
            process.feed_stdout(batch_line(i, args.per_epoch))
            if (i + 1) % args.per_epoch == 0:
                process.feed_stdout(epoch_line(i // args.per_epoch + 1))
        sent[0] = due

    from PySide6.QtCore import QTimer

    feeder = QTimer()
    feeder.setInterval(5)
    feeder.timeout.connect(feed)
    meter.start()
    feeder.start()
    wait_until(lambda: sent[0] >= total, args.seconds + 30)
    feeder.stop()
    wait_until(lambda: False, 0.3)
    meter.stop()
    r = panel.redraw_seconds
    print(
        f"live at {args.rate:.0f} lines/s for {args.seconds:.0f} s: {len(r)} redraws, median "
        f"{1000 * statistics.median(r):.1f} ms, max {1000 * max(r):.1f} ms; {meter.summary()}"
    )
    panel.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
