"""Validation (tfstudio.train.validation): the scores a run reports at an epoch's end are
those of its checkpoint, as detection loads it; a stop ends validation between recordings."""

from __future__ import annotations

import pytest

from tfstudio.train import load_model, train
from tfstudio.train.data import load_recordings
from tfstudio.train.validation import ValidationSet, tune, validate


def _validation_set(project, loaded):
    recordings = [r for r in project.recordings("val") if r.status == "ok"]
    data = load_recordings(project, recordings, loaded.classes, loaded.feature_config)
    return ValidationSet(data, loaded.normalizer, loaded.classes, loaded.feature_config.hop_s)


def test_the_reported_scores_are_those_of_the_best_checkpoint_and_a_stop_ends_them(
    demo_project, tiny_config
):
    events = list(train(demo_project, tiny_config(tune_postprocess=False)))
    done = events[-1]
    assert done.status == "done", done.message
    best = next(e for e in events if e.kind == "epoch" and e.epoch == done.best_epoch)
    loaded = load_model(done.best_checkpoint, "cpu")
    val = _validation_set(demo_project, loaded)
    scores = validate(loaded.model, val, loaded.config, stop=lambda: False)
    assert scores is not None and len(scores) == 3  # a multi-label run: no frame scores
    assert scores[0] == pytest.approx(best.val_loss, rel=1e-6)
    assert scores[1:] == pytest.approx((best.f1, best.er))
    # Tuning starts from the run's values and never scores below them.
    tuned = tune(loaded.model, val, loaded.config)
    assert set(tuned.thresholds) <= set(loaded.classes)
    assert tuned.score_after >= tuned.score_before
    # A stop is asked for before each recording: none is scored once it is.
    asked = []

    def stop():
        asked.append(True)
        return True

    assert validate(loaded.model, val, loaded.config, stop) is None and asked == [True]
