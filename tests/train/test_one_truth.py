"""One truth for post-processing: the run's settings as the project stores them decide the
detections of ``detect``, ``evaluate`` and the window alike; reviewed decisions are not
asked again."""

from __future__ import annotations

import numpy as np
import pytest

from tfstudio.cli import main
from tfstudio.train import detect_recordings, evaluate_run, train
from tfstudio.train.detect import load_run_model, select_run
from tfstudio.train.postprocess import repeats


@pytest.fixture
def trained(demo_project, tiny_config):
    events = list(train(demo_project, tiny_config(epochs=1, tune_postprocess=False)))
    assert events[-1].status == "done"
    return demo_project, events[-1].run


def _set_stored(project, run_id, **changes):
    run = project.run(run_id)
    project.update_run(run_id, config={**run.config_dict, **changes})


def _counts(project, run_id):
    counts: dict[str, int] = {}
    names = {c.id: c.name for c in project.classes()}
    for e in project.events(source="model", run_id=run_id):
        counts[names[e.class_id]] = counts.get(names[e.class_id], 0) + 1
    return counts


def test_detect_follows_the_thresholds_stored_for_the_run(trained):
    project, run_id = trained
    classes = [c.name for c in project.classes()]
    test = project.recordings("test")
    _set_stored(project, run_id, threshold=0.0)
    everything = detect_recordings(project, test).events
    assert everything > 0
    # The store says: one class never fires. The checkpoint still says 0.5 for all.
    _set_stored(project, run_id, class_thresholds={classes[0]: 1.0})
    detect_recordings(project, test)
    assert classes[0] not in _counts(project, run_id)
    assert set(_counts(project, run_id)) == set(classes[1:])
    loaded = load_run_model(project, select_run(project, run_id))
    assert loaded.thresholds()[0] == 1.0 and loaded.thresholds()[1:] == [0.0] * (len(classes) - 1)
    # Arguments go on top: a class threshold from the caller wins.
    detect_recordings(project, test, class_thresholds={classes[0]: 0.0})
    assert classes[0] in _counts(project, run_id)


def test_evaluate_scores_what_detect_stores(trained):
    project, run_id = trained
    classes = [c.name for c in project.classes()]
    _set_stored(project, run_id, class_thresholds={classes[1]: 1.0})
    result = evaluate_run(project, run_id, "test", record=False)
    assert result["class_thresholds"][classes[1]] == 1.0
    assert result["per_class"][classes[1]]["detected_events"] == 0
    override = evaluate_run(
        project, run_id, "test", record=False, class_thresholds={classes[1]: 0.0}
    )
    assert override["per_class"][classes[1]]["detected_events"] > 0


def test_new_detections_do_not_repeat_reviewed_ones(trained):
    project, run_id = trained
    rec = project.recordings("test")[0]
    detect_recordings(project, [rec], threshold=0.0)
    first = project.events(rec.id, source="model", run_id=run_id)
    assert first
    project.update_event(first[0].id, review="rejected")
    detect_recordings(project, [rec], threshold=0.0)
    again = project.events(rec.id, source="model", run_id=run_id)
    same_class = [e for e in again if e.class_id == first[0].class_id]
    overlapping = [
        e for e in same_class if min(e.offset, first[0].offset) > max(e.onset, first[0].onset)
    ]
    # The rejected one is kept; nothing new sits on top of it.
    assert [e.id for e in overlapping] == [first[0].id]


def test_repeats_rule():
    onsets, offsets = np.array([0.0, 1.0, 5.0, 5.0]), np.array([2.0, 3.0, 6.0, 6.0])
    classes = np.array([1, 1, 1, 2])
    hit = repeats(onsets, offsets, classes, [(1.5, 3.5, 1), (5.0, 6.0, 1)])
    # 0–2 shares 0.5 s with 1.5–3.5, a quarter of the shorter: kept; 1–3 shares 1.5 s: a
    # repeat; 5–6 of class 1 repeats, of class 2 it does not.
    assert hit.tolist() == [False, True, True, False]


def test_cli_class_thresholds_and_recordings(trained, capsys):
    project, run_id = trained
    classes = [c.name for c in project.classes()]
    rec = project.recordings("test")[0]
    root = str(project.root)
    args = ["--threshold", "0", "--class-threshold", f"{classes[0]}=1", "-q"]
    assert main(["detect", root, "--recording", rec.name, *args]) == 0
    counts = _counts(project, run_id)
    assert counts and classes[0] not in counts
    assert {e.recording_id for e in project.events(source="model")} == {rec.id}
    capsys.readouterr()
    assert main(["evaluate", root, "--recording", str(rec.id), "--json"]) == 0
    assert '"recordings": 1' in capsys.readouterr().out
    for bad in (["--class-threshold", "nothing=0.5"], ["--class-threshold", "x"]):
        assert main(["detect", root, *bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert main(["detect", root, "--recording", "no-such.wav"]) == 2
    assert "no recording with that id or name" in capsys.readouterr().err
