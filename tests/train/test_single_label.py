"""The single-label task end to end: a generated monophonic project trained through the real
training generator (full and sampled softmax), detection and evaluation of its runs, the
overlap check, argmax decoding, and runs stored before the task existed."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from tfstudio.cli import main
from tfstudio.features import FEATURE_PRESETS, FeatureCache
from tfstudio.store import Project
from tfstudio.train import (
    TrainConfig,
    TrainError,
    detect_recordings,
    evaluate_run,
    load_model,
    train,
)
from tfstudio.train.config import SINGLE_LABEL_DEFAULTS
from tfstudio.train.demo_single import create_single_label_demo

TINY_SINGLE = dict(
    task="single-label",
    epochs=2,
    batch_size=4,
    seq_len=64,
    max_batches_per_epoch=3,
    model={"channels": 4, "gru_hidden": 8},
    device="cpu",
)


@pytest.fixture(scope="module")
def mono_template(tmp_path_factory):
    """6 sound types over 5 recordings of 6 s (3 train, 1 val, 1 test), features cached."""
    root = tmp_path_factory.mktemp("mono") / "template"
    project = create_single_label_demo(root, classes=6, recordings=5, seconds=6.0, seed=3)
    cache = FeatureCache(project.cache_dir, FEATURE_PRESETS["fast"])
    for rec in project.recordings():
        cache.load(rec.content_hash, project.absolute_path(rec))
    project.close()
    return root


@pytest.fixture
def mono_project(mono_template, tmp_path):
    root = tmp_path / "mono"
    shutil.copytree(mono_template, root)
    project = Project.open(root)
    yield project
    project.close()


def _single(**overrides):
    return TrainConfig.from_preset("fast", **{**TINY_SINGLE, **overrides})


# --- configuration -------------------------------------------------------------------------


def test_the_task_is_a_recorded_option_and_single_label_adjusts_the_preset():
    assert TrainConfig().task == "multi-label" and TrainConfig().to_dict()["task"] == "multi-label"
    cfg = TrainConfig.from_preset("fast", task="single-label")
    for name, value in SINGLE_LABEL_DEFAULTS.items():
        assert getattr(cfg, name) == value, name
    assert cfg.consistency_weight == TrainConfig().consistency_weight  # kept: full softmax
    sampled = TrainConfig.from_preset("fast", task="single-label", sampled_softmax=50)
    assert sampled.consistency_weight == 0.0 and sampled.sampler == "log-uniform"
    # Asked for explicitly, a clash is an error, never dropped.
    with pytest.raises(TrainError, match="event mixing"):
        TrainConfig.from_preset("fast", task="single-label", mix_probability=0.5)
    with pytest.raises(TrainError, match="single-label"):
        TrainConfig.from_preset("fast", sampled_softmax=10)
    with pytest.raises(TrainError, match="task"):
        TrainConfig(task="polyphonic")
    with pytest.raises(TrainError, match="sampler"):
        TrainConfig.from_preset("fast", task="single-label", sampler="uniform")


def test_a_stored_config_without_a_task_loads_as_multi_label():
    stored = TrainConfig.from_preset("paper").to_dict()
    for name in ("task", "sampled_softmax", "sampler"):
        del stored[name]
    cfg = TrainConfig.from_dict(stored)
    assert cfg.task == "multi-label" and not cfg.single_label and cfg.sampled_softmax == 0


# --- training through the real generator -----------------------------------------------------


def _check_single_label_run(project, events, *, sampled: int = 0):
    kinds = [e.kind for e in events]
    done = events[-1]
    assert kinds[0] == "start" and done.kind == "done" and done.status == "done", done.message
    assert events[0].config["task"] == "single-label"
    assert events[0].config["sampled_softmax"] == sampled
    epochs = [e for e in events if e.kind == "epoch"]
    assert len(epochs) == 2
    for e in epochs:
        assert 0 <= e.accuracy <= 1 and 0 <= e.macro_f1 <= 1
        assert np.isfinite(e.val_loss) and e.val_loss > 0 and 0 <= e.f1 <= 1
        assert e.to_dict()["accuracy"] == pytest.approx(e.accuracy)
    run = project.run(done.run)
    assert run.config_dict["task"] == "single-label"
    rows = project.metrics(run.id, "epoch")
    assert [r["accuracy"] for r in rows] == pytest.approx([e.accuracy for e in epochs])
    # The checkpoint holds the full softmax's weights only: a model for inference.
    loaded = load_model(project.root / run.best_checkpoint, "cpu")
    names = [c.name for c in project.classes()]
    assert loaded.single_label and loaded.classes == names
    assert loaded.model.config.n_classes == len(names) + 1  # and the background
    assert loaded.model.classifier.sampled is None
    return run


def test_single_label_trains_end_to_end_and_detects(mono_project):
    project = mono_project
    events = list(train(project, _single()))
    run = _check_single_label_run(project, events)
    # Detection decodes the argmax runs into stored model events, as for any run.
    test = [r for r in project.recordings("test")]
    report = detect_recordings(project, test, run_id=run.id, device="cpu")
    stored = project.events(test[0].id, source="model", run_id=run.id)
    assert report.events == len(stored)
    for e in stored:
        # (A median filter may keep a frame another class won: its mean can be 0.)
        assert 0 <= e.onset < e.offset and 0 <= e.confidence <= 1
    # Decisions, not (frames, classes) posteriors, are kept; a second pass reuses them.
    again = detect_recordings(project, test, run_id=run.id, device="cpu")
    assert again.reused == len(test) and again.events == report.events
    result = evaluate_run(project, run.id, "test", device="cpu")
    assert result["task"] == "single-label"
    assert 0 <= result["frame_accuracy"] <= 1 and 0 <= result["macro_f1"] <= 1
    assert set(result["per_class"]) <= {c.name for c in project.classes()}


@pytest.mark.parametrize("sampler", ["log-uniform", "frequency"])
def test_single_label_trains_with_a_sampled_softmax(mono_project, sampler):
    events = list(
        train(mono_project, _single(sampled_softmax=3, sampler=sampler, average_decay=0.0))
    )
    run = _check_single_label_run(mono_project, events, sampled=3)
    assert run.config_dict["sampler"] == sampler
    losses = [e.loss for e in events if e.kind == "batch"]
    assert len(losses) == 6 and all(np.isfinite(losses))


def test_too_many_sampled_classes_are_refused_before_a_run(mono_project):
    with pytest.raises(TrainError, match="at most 6"):
        list(train(mono_project, _single(sampled_softmax=7)))
    assert mono_project.runs() == []


def test_single_label_with_unlabelled_recordings_uses_the_mean_teacher(mono_project):
    project = mono_project
    rec = project.recordings("test")[0]
    project.delete_events([e.id for e in project.labels(rec.id)])
    project.set_split([rec.id], None)
    cfg = _single(epochs=1, consistency_weight=5.0, consistency_rampup_epochs=0)
    events = list(train(project, cfg))
    assert events[-1].status == "done", events[-1].message
    rows = project.metrics(events[-1].run, "batch")
    assert rows and all(r.get("consistency") is not None and r["consistency"] >= 0 for r in rows)


def test_a_single_label_run_resumes(mono_project):
    first = list(train(mono_project, _single(epochs=1)))
    run = first[-1].run
    resumed = list(train(mono_project, resume=run, overrides={"epochs": 2}))
    assert resumed[-1].status == "done" and resumed[0].resumed
    assert [e.epoch for e in resumed if e.kind == "epoch"] == [2]


# --- overlapping labels ----------------------------------------------------------------------


def test_overlapping_labels_are_listed_before_training(mono_project):
    project = mono_project
    rec = project.recordings("train")[0]
    first = sorted(project.labels(rec.id), key=lambda e: e.onset)[0]
    other = next(c for c in project.classes() if c.id != first.class_id)
    mine = next(c for c in project.classes() if c.id == first.class_id)
    onset = first.onset + 0.5 * (first.offset - first.onset)
    project.add_event(rec.id, other.id, onset, first.offset + 0.1)
    with pytest.raises(TrainError) as info:
        list(train(project, _single()))
    message = str(info.value)
    assert "1 overlapping label pair" in message and "--task multi-label" in message
    assert rec.name in message and mine.name in message and other.name in message
    assert f"{onset:.3f}–{first.offset:.3f} s" in message
    assert project.runs() == []  # no run was made
    # The multi-label task trains on the same labels.
    done = list(train(project, _single(task="multi-label", **_multi_label_recipe())))[-1]
    assert done.status == "done", done.message


def _multi_label_recipe():
    return {k: TrainConfig.from_preset("fast").to_dict()[k] for k in SINGLE_LABEL_DEFAULTS}


def test_touching_and_same_class_labels_are_no_overlap(mono_project):
    project = mono_project
    rec = project.recordings("train")[0]
    first = sorted(project.labels(rec.id), key=lambda e: e.onset)[0]
    # The same class again over it, and another class from its offset on.
    project.add_event(rec.id, first.class_id, first.onset, first.offset)
    other = next(c for c in project.classes() if c.id != first.class_id)
    gap_end = min(
        first.offset + 0.06, sorted(project.labels(rec.id), key=lambda e: e.onset)[2].onset
    )
    project.add_event(rec.id, other.id, first.offset, gap_end)
    done = list(train(project, _single(epochs=1)))[-1]
    assert done.status == "done", done.message


# --- runs stored before the task existed -------------------------------------------------------


def test_an_old_checkpoint_loads_and_resumes_as_multi_label(demo_project, tiny_config):
    project = demo_project
    done = list(train(project, tiny_config(epochs=1)))[-1]
    run = project.run(done.run)
    for name in ("best_checkpoint", "last_checkpoint"):
        path = project.root / getattr(run, name)
        state = torch.load(path, weights_only=True)
        for key in ("task", "sampled_softmax", "sampler"):
            state["train_config"].pop(key)
        for key in ("task", "embedding"):
            state["model_config"].pop(key)
        torch.save(state, path)
    stored = {
        k: v for k, v in run.config_dict.items() if k not in ("task", "sampled_softmax", "sampler")
    }
    project.update_run(run.id, config=stored)
    loaded = load_model(project.root / run.best_checkpoint, "cpu")
    assert not loaded.single_label and loaded.config.task == "multi-label"
    feats = np.zeros((70, loaded.feature_config.n_mels), dtype=np.float32)
    assert loaded.posteriors(feats).shape == (70, len(loaded.classes))
    resumed = list(train(project, resume=run.id, overrides={"epochs": 2}))
    assert resumed[-1].status == "done", resumed[-1].message
    assert resumed[0].config["task"] == "multi-label"
    epoch = next(e for e in resumed if e.kind == "epoch")
    assert epoch.accuracy is None and epoch.macro_f1 is None


# --- the command line ------------------------------------------------------------------------


def test_the_command_line_trains_detects_and_evaluates_single_label(
    mono_template, tmp_path, capsys
):
    root = tmp_path / "mono"
    shutil.copytree(mono_template, root)
    args = [
        "train", str(root), "--task", "single-label", "--sampled-softmax", "3",
        "--sampler", "frequency", "--epochs", "1", "--batch-size", "4", "--seq-len", "64",
        "--max-batches", "2", "--channels", "4", "--gru-hidden", "8", "--device", "cpu",
    ]  # fmt: skip
    assert main([*args, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "single-label (sampled softmax of 3 (frequency))" in out
    assert "acc" in out and "mF1" in out and "run 1 done" in out
    assert main(["evaluate", str(root), "--device", "cpu"]) == 0
    assert "frame accuracy" in capsys.readouterr().out
    assert main(["detect", str(root), "--device", "cpu", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all("event" in line for line in lines)
    assert lines[-1]["event"] == "summary" and lines[-1]["run"] == 1


def test_help_shows_the_task_options_and_plain_percent_signs(capsys):
    for command in ("train", "detect", "evaluate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "%%" not in out
        if command == "train":
            assert "--task {multi-label,single-label}" in out
            assert "--sampled-softmax K" in out and "--sampler {log-uniform,frequency}" in out
        if command == "evaluate":
            assert "20% of length" in " ".join(out.split())


def test_single_label_data_ids_weights_and_windows(mono_project):
    from tfstudio.train.data import Normalizer, SequenceDataset, load_recordings

    project = mono_project
    fc = FEATURE_PRESETS["fast"]
    rec = project.recordings("train")[0]
    classes = [c.name for c in project.classes()]
    labels = sorted(project.labels(rec.id), key=lambda e: e.onset)
    first = labels[0]
    other = next(c for c in project.classes() if c.id != first.class_id)
    hop = fc.hop_s
    # Rejected detections: one on the first label's own class (no penalty where that class is
    # the truth), one of another class over the same label (its frames weigh 2).
    project.add_events(
        [
            dict(recording_id=rec.id, class_id=cid, onset=first.onset, offset=first.offset,
                 source="model", review="rejected", confidence=0.5)
            for cid in (first.class_id, other.id)
        ]
    )  # fmt: skip
    (data,) = load_recordings(project, [rec], classes, fc, rejected_weight=2.0, single_label=True)
    assert data.single_label and data.targets.dtype == np.int64
    start, stop = round(first.onset / hop), round(first.offset / hop)
    own_id = classes.index(next(c.name for c in project.classes() if c.id == first.class_id)) + 1
    assert (data.targets[start + 1 : stop - 1] == own_id).all()
    assert data.targets[max(0, start - 2)] == 0
    assert data.negatives is not None
    assert (data.negatives[start + 1 : stop - 1] == 2.0).all()
    assert (data.negatives[stop + 2 :] == 1.0).all()
    dataset = SequenceDataset([data], 64, Normalizer.fit([data.features()]))
    tail = data.n_frames - 10
    item = dataset[(0, tail)]
    assert item["targets"].shape == (64,) and item["targets"].dtype == torch.int64
    assert item["weights"][10:].eq(0).all() and item["mask"][:10].all()
    assert not item["mask"][10:].any()


def test_the_review_previews_a_single_label_run_from_its_saved_decisions(mono_project):
    """The sliders' session reads a single-label run's decisions file (it saves no
    posteriors file), and what it writes at a threshold is what ``detect`` stores at it."""
    from tests.session.review_session import review_session

    project = mono_project
    run = _check_single_label_run(project, list(train(project, _single())))
    test = list(project.recordings("test"))
    detect_recordings(project, test, run_id=run.id, device="cpu")

    with review_session(project.root) as (ws, model, loop):
        ws.set_run(run.id)
        ws.set_recording(test[0].id)
        loop.run()
        assert model.posteriors is not None and not model.posteriors_stale
        assert model.posteriors.shape[1] == len(model.info.classes)
        # A threshold above every frame's probability leaves no detection; at zero, the
        # same detections as detect stores at zero.
        model.set_threshold(1.01, final=True)
        loop.run()
        assert model.apply() == 1
        loop.run()
        assert ws.project.events(test[0].id, source="model", run_id=run.id) == []
        model.set_threshold(0.0, final=True)
        loop.run()
        model.apply()
        loop.run()
        window = sorted(
            (e.class_id, e.onset, e.offset)
            for e in ws.project.events(test[0].id, source="model", run_id=run.id)
        )
    assert window
    detect_recordings(project, test, run_id=run.id, device="cpu", threshold=0.0)
    command_line = sorted(
        (e.class_id, e.onset, e.offset)
        for e in project.events(test[0].id, source="model", run_id=run.id)
    )
    assert [w[0] for w in window] == [c[0] for c in command_line]
    assert np.allclose([w[1:] for w in window], [c[1:] for c in command_line], atol=1e-6)
