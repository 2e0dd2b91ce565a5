"""Run summaries and curves as the history reads them from the store."""

from __future__ import annotations

import math
import time

import numpy as np

from tfstudio.session.runs import format_lr, load_curves, run_title, summarise
from tfstudio.store import Run


def test_a_run_is_summarised_from_its_config_and_epoch_metrics(project):
    run = project.create_run(
        {"preset": "fast", "schedule": {"name": "drossos"}, "epochs": "3", "lr": 1e-3}
    )
    project.add_metrics(
        run.id,
        [
            {"kind": "epoch", "epoch": 1, "iteration": 9, "val_loss": 0.5, "f1": 0.4},
            {"kind": "epoch", "epoch": 2, "iteration": 19, "val_loss": 0.3, "f1": 0.5},
            {"kind": "epoch", "epoch": 3, "iteration": 29, "val_loss": math.nan, "f1": 0.6},
        ],
    )
    summary = summarise(project, project.run(run.id))
    assert (summary.preset, summary.schedule, summary.epochs) == ("fast", "drossos", 3)
    assert summary.epochs_done == 3
    # The best epoch is the lowest validation loss; NaN is no score.
    assert (summary.best_val_loss, summary.best_epoch, summary.f1_at_best) == (0.3, 2, 0.5)
    assert summary.best_f1 == 0.6
    assert summary.label == f"run {run.id} · drossos"
    assert summary.duration() is None  # not started
    assert format_lr(summary.lr) == "0.001" and format_lr(None) == "—"


def test_curves_keep_gaps_and_smooth_only_finite_losses(project):
    run = project.create_run({})
    project.add_metrics(
        run.id,
        [
            {"kind": "batch", "epoch": 1, "iteration": 2, "loss": 3.0, "tf_prob": 0.8},
            {"kind": "batch", "epoch": 1, "iteration": 0, "loss": 1.0, "tf_prob": 0.9},
            {"kind": "batch", "epoch": 1, "iteration": 1, "loss": None, "tf_prob": 0.85},
            {"kind": "epoch", "epoch": 1, "iteration": 2, "loss": 2.0, "val_loss": 1.5},
        ],
    )
    curves = load_curves(project, run.id, ema_alpha=0.5)
    assert curves.iteration.tolist() == [0, 1, 2]
    assert math.isnan(curves.loss[1]) and math.isnan(curves.loss_smooth[1])
    # Bias-corrected EMA of [1, 3] with alpha 0.5: 1, then (0.25 + 1.5) / 0.75.
    assert np.allclose(curves.loss_smooth[[0, 2]], [1.0, 1.75 / 0.75])
    # An epoch's mean training loss is stored as "loss".
    assert curves.train_loss.tolist() == [2.0] and curves.val_loss.tolist() == [1.5]


def test_a_run_is_titled_by_name_status_and_its_latest_moment():
    when = time.mktime((2025, 5, 14, 10, 32, 0, 0, 0, -1))
    run = Run(3, "", "{}", "done", "", "cpu", None, None, None, when - 60, when - 30, when)
    assert run_title(run) == "run 3 · done · 14 May 10:32"
    named = Run(4, "tuned", "{}", "queued", "", "cpu", None, None, None, 0.0, None, None)
    assert run_title(named) == "tuned · queued"  # no moment yet
