"""Metric rows reach the store in small batches, once each, also after a resume."""

from __future__ import annotations

import math

from tfstudio.store import Project
from tfstudio.train.metric_writer import METRICS_EVERY_BATCHES, MetricWriter


def _batch(iteration, loss=0.5):
    return {"kind": "batch", "epoch": 1, "iteration": iteration, "tf_prob": 0.9, "loss": loss}


def _epoch(epoch):
    return {"kind": "epoch", "epoch": epoch, "iteration": 3 * epoch, "loss": 0.4, "val_loss": 0.6}


def test_batches_are_buffered_and_an_epoch_writes_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr("tfstudio.train.metric_writer.METRICS_EVERY_S", 3600.0)
    with Project.create(tmp_path / "p") as project:
        run = project.create_run({"preset": "fast"})
        writer = MetricWriter(project, run.id, enabled=True)
        for i in range(METRICS_EVERY_BATCHES - 1):
            writer.add(_batch(i))
        assert project.metrics(run.id) == []  # not yet: the GUI reads this store too
        writer.add(_batch(METRICS_EVERY_BATCHES - 1))
        assert len(project.metrics(run.id, "batch")) == METRICS_EVERY_BATCHES
        writer.add(_batch(METRICS_EVERY_BATCHES, loss=math.nan))
        writer.add(_epoch(1))
        rows = project.metrics(run.id)
        assert [r["kind"] for r in rows[-2:]] == ["batch", "epoch"]
        assert rows[-2]["loss"] is None  # NaN is stored as null


def test_a_resumed_run_skips_the_rows_it_already_stored(tmp_path):
    with Project.create(tmp_path / "p") as project:
        run = project.create_run({"preset": "fast"})
        first = MetricWriter(project, run.id, enabled=True)
        for i in range(5):
            first.add(_batch(i))
        first.add(_epoch(1))
        first.flush()
        # Killed after iteration 4; the last checkpoint was at iteration 2: 3 and 4 again.
        again = MetricWriter(project, run.id, enabled=True)
        for i in range(3, 7):
            again.add(_batch(i))
        again.add(_epoch(1))
        again.add(_epoch(2))
        again.flush()
        assert [r["iteration"] for r in project.metrics(run.id, "batch")] == list(range(7))
        assert [r["epoch"] for r in project.metrics(run.id, "epoch")] == [1, 2]


def test_a_writer_that_is_not_enabled_writes_nothing(tmp_path):
    with Project.create(tmp_path / "p") as project:
        run = project.create_run({"preset": "fast"})
        writer = MetricWriter(project, run.id, enabled=False)
        writer.add(_epoch(1))
        writer.flush()
        assert project.metrics(run.id) == []
