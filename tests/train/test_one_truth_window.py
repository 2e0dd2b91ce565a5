"""One run, one set of detections: what the window's review writes for a run and its
thresholds (the Qt-free session behind the sliders) is what ``tfstudio detect`` stores for
the same run and thresholds, detection for detection."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.session.review_session import review_session
from tfstudio.session.detections import RunInfo, load_posteriors
from tfstudio.train import detect_recordings, train
from tfstudio.train.layout import STITCHING, posteriors_stamp


def _stored(project, run_id):
    return sorted(
        (e.recording_id, e.class_id, e.onset, e.offset, e.confidence)
        for e in project.events(source="model", run_id=run_id)
    )


def test_the_window_and_detect_store_the_same_detections(demo_project, tiny_config):
    project = demo_project
    done = list(train(project, tiny_config(epochs=1, tune_postprocess=False)))[-1]
    assert done.status == "done", done.message
    # One class's detections run on down to a third of its threshold (as tuning may leave
    # them), the others' stop at it.
    info = RunInfo.from_run(project, project.run(done.run))
    assert info is not None
    held, config = info.classes[0], project.run(done.run).config_dict
    project.update_run(done.run, config={**config, "class_hysteresis": {held: 0.3}})
    recordings = [r for r in project.recordings() if r.status == "ok"]
    detect_recordings(project, recordings, device="cpu")  # saves every recording's posteriors

    with review_session(project.root) as (ws, model, loop):
        assert ws.run_id == done.run and model.info is not None
        assert model.info.hysteresis_ratios()[0] == 0.3
        # Thresholds that cut through this barely trained model's posteriors: a global one
        # at their median, and one class's at its 90th percentile, as a user's sliders.
        posts = [load_posteriors(ws.project, model.info, r) for r in ws.recordings()]
        every = np.concatenate([p for p in posts if p is not None])
        one_class = next(c for c in ws.classes() if c.name == model.info.classes[0])
        model.set_threshold(float(np.median(every)), final=True)
        model.set_threshold(float(np.quantile(every[:, 0], 0.9)), one_class.id, final=True)
        loop.run()
        assert model.apply([r.id for r in ws.recordings()]) == len(recordings)
        loop.run()
        window = _stored(ws.project, done.run)
    assert window and len({e[1] for e in window}) > 1

    # The command line, reading the run's post-processing from the project as stored.
    detect_recordings(project, recordings, device="cpu")
    command_line = _stored(project, done.run)
    assert len(command_line) == len(window)
    for ours, theirs in zip(window, command_line):
        assert ours[:2] == theirs[:2]
        assert ours[2:] == pytest.approx(theirs[2:], abs=1e-6)


def test_posteriors_of_an_earlier_version_are_not_redrawn_until_detected_again(
    demo_project, tiny_config
):
    """Posteriors saved by a version that stitched windows another way are stale: the
    sliders must not redraw detections from them (``detect`` would store others)."""
    project = demo_project
    done = list(train(project, tiny_config(epochs=1, tune_postprocess=False)))[-1]
    assert done.status == "done", done.message
    recordings = [r for r in project.recordings() if r.status == "ok"]
    detect_recordings(project, recordings, device="cpu")
    stamp_path = posteriors_stamp(project, done.run)
    stamp = json.loads(stamp_path.read_text())
    assert stamp["stitching"] == STITCHING
    stamp_path.write_text(json.dumps({**stamp, "stitching": "cut"}))  # as 2026-11-28 wrote it
    before = _stored(project, done.run)

    with review_session(project.root) as (ws, model, loop):
        ws.set_recording(recordings[0].id)
        loop.run()
        assert model.info is not None and model.posteriors is None and model.posteriors_stale
        model.set_threshold(0.05, final=True)
        loop.run()
        assert model.apply([r.id for r in ws.recordings()]) == 0
        loop.run()
        assert _stored(ws.project, done.run) == before  # nothing redrawn from stale files

        # Detecting again makes them anew (the stamp differs), and the sliders work again.
        detect_recordings(ws.project, recordings, device="cpu")
        model.reload()
        loop.run()
        assert model.posteriors is not None and not model.posteriors_stale
