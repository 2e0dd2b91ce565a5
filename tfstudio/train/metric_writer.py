"""A run's metric rows on their way to the store, written in small batches.

The store is shared with a GUI that reads it while training runs: one row per batch would
take its write lock hundreds of times a second, so rows are buffered and written every
:data:`METRICS_EVERY_BATCHES` rows or :data:`METRICS_EVERY_S` seconds, and at once at an
epoch's end.
"""

from __future__ import annotations

import math
import time
from typing import Any

from tfstudio.store import Project

__all__ = ["METRICS_EVERY_BATCHES", "METRICS_EVERY_S", "MetricWriter"]

METRICS_EVERY_BATCHES = 20
METRICS_EVERY_S = 2.0


class MetricWriter:
    """Buffers metric rows and writes them in small batches (the store is shared with a GUI).

    Rows for iterations (or epochs) already in the store are skipped: after a resume from a
    killed run the first batches since its last checkpoint are done again, and they are the
    same batches (same order, same random state). A writer that is not ``enabled`` (a rank
    other than 0) writes nothing.
    """

    def __init__(self, project: Project, run_id: int, enabled: bool):
        self.project = project
        self.run_id = run_id
        self.enabled = enabled
        self.rows: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()
        self.batch_done = -1
        self.epochs_done: set[int] = set()
        if enabled:
            for row in project.metrics(run_id):
                if row["kind"] == "batch":
                    self.batch_done = max(self.batch_done, int(row["iteration"]))
                elif row["kind"] == "epoch":
                    self.epochs_done.add(int(row["epoch"]))

    def add(self, row: dict[str, Any]) -> None:
        """Buffer ``row`` (NaN and inf become null), writing the buffer when it is due."""
        if not self.enabled:
            return
        if row["kind"] == "batch" and row["iteration"] <= self.batch_done:
            return
        if row["kind"] == "epoch" and row["epoch"] in self.epochs_done:
            return
        self.rows.append(
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in row.items()
            }
        )
        if (
            len(self.rows) >= METRICS_EVERY_BATCHES
            or time.monotonic() - self.last_flush >= METRICS_EVERY_S
            or row["kind"] != "batch"
        ):
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows now."""
        if self.rows:
            self.project.add_metrics(self.run_id, self.rows)
            self.rows = []
        self.last_flush = time.monotonic()
