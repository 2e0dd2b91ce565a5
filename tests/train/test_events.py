"""The training events read back from their JSON form: every kind round-trips, a newer
engine's extra keys are ignored, an older one's missing optional keys take their defaults,
and a malformed event is refused with a reason (``from_dict``) or None (``parse_event``)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tfstudio.train.events import (
    BatchEvent,
    CheckpointEvent,
    DoneEvent,
    EpochEvent,
    EventError,
    PrepareEvent,
    StartEvent,
    TrainEvent,
    TrainingSummary,
    event_types,
    parse_event,
)

EVERY_KIND: list[TrainEvent] = [
    PrepareEvent(done=2, total=5, name="rec 3.wav"),
    StartEvent(
        run=4,
        device="cuda:0",
        batches_per_epoch=12,
        epochs=200,
        config={"preset": "paper", "lr": 1e-3, "model": {"channels": 256}},
        resumed=True,
        epoch=3,
        iteration=36,
        amp="bf16",
        world_size=2,
        train_recordings=40,
        val_recordings=8,
        parameters=1_234_567,
    ),
    BatchEvent(epoch=2, iteration=17, tf_prob=0.85, loss=0.4, batch=5, batches_per_epoch=12),
    EpochEvent(
        epoch=2,
        train_loss=0.41,
        val_loss=0.5,
        f1=0.6,
        er=0.55,
        tf_prob=0.8,
        iteration=24,
        seconds=12.5,
        best=True,
        best_epoch=2,
        lr=5e-4,
    ),
    CheckpointEvent(path="/p/runs/run-4/best.pt", best=True, epoch=2, iteration=24),
    DoneEvent(
        run=4,
        status="stopped",
        best_checkpoint="/p/runs/run-4/best.pt",
        message="stopped on request",
        last_checkpoint="/p/runs/run-4/last.pt",
        epoch=2,
        iteration=24,
        best_epoch=2,
    ),
]


def test_every_kind_is_known_and_tested():
    assert set(event_types()) == {e.kind for e in EVERY_KIND}


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: e.kind)
def test_every_event_round_trips_through_its_json_line(event):
    line = json.dumps(event.to_dict())
    assert parse_event(json.loads(line)) == event
    assert type(event).from_dict(json.loads(line)) == event


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: e.kind)
def test_unknown_keys_are_ignored(event):
    data = {**event.to_dict(), "from_a_newer_engine": [1, 2], "another": None}
    assert parse_event(data) == event


def test_missing_optional_keys_take_their_defaults():
    assert parse_event({"event": "batch", "epoch": 1, "iteration": 0, "tf_prob": 1, "loss": 2}) == (
        BatchEvent(epoch=1, iteration=0, tf_prob=1.0, loss=2.0)
    )
    start = {
        "event": "start",
        "run": 1,
        "device": "cpu",
        "batches_per_epoch": 3,
        "epochs": 2,
        "config": {},
    }
    parsed = parse_event(start)
    assert isinstance(parsed, StartEvent) and not parsed.resumed and parsed.amp is None
    assert parse_event({"event": "done", "run": 1, "status": "done", "best_checkpoint": None}) == (
        DoneEvent(run=1, status="done", best_checkpoint=None)
    )


def test_a_nan_loss_written_as_null_reads_back_as_nan():
    batch = BatchEvent(epoch=1, iteration=7, tf_prob=0.9, loss=math.nan)
    assert batch.to_dict()["loss"] is None
    parsed = parse_event(json.loads(json.dumps(batch.to_dict())))
    assert isinstance(parsed, BatchEvent) and math.isnan(parsed.loss) and parsed.iteration == 7


def test_numbers_are_read_as_their_fields_types():
    parsed = parse_event(
        {
            "event": "epoch",
            "epoch": 3.0,
            "train_loss": 1,
            "val_loss": 1,
            "f1": 0,
            "er": 1,
            "tf_prob": 1,
        }
    )
    assert isinstance(parsed, EpochEvent)
    assert type(parsed.epoch) is int and type(parsed.train_loss) is float


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"event": "batch", "epoch": 1, "iteration": 0, "tf_prob": 1}, "without 'loss'"),
        ({"event": "batch", "epoch": "1", "iteration": 0, "tf_prob": 1, "loss": 1}, "'epoch'"),
        ({"event": "batch", "epoch": 1.5, "iteration": 0, "tf_prob": 1, "loss": 1}, "'epoch'"),
        ({"event": "batch", "epoch": True, "iteration": 0, "tf_prob": 1, "loss": 1}, "'epoch'"),
        ({"event": "checkpoint", "path": "p", "best": 1}, "'best'"),
        (
            {
                "event": "start",
                "run": 1,
                "device": "cpu",
                "batches_per_epoch": 1,
                "epochs": 1,
                "config": [],
            },
            "'config'",
        ),
        ({"event": "done", "run": 1, "status": "done"}, "without 'best_checkpoint'"),
        ({"event": "done", "run": 1, "status": None, "best_checkpoint": None}, "'status'"),
    ],
)
def test_a_malformed_event_is_refused_with_its_reason(data, reason):
    cls = event_types()[data["event"]]
    with pytest.raises(EventError, match=reason):
        cls.from_dict(data)
    assert parse_event(data) is None


def test_objects_that_are_no_known_event_parse_as_none():
    for data in ({}, {"event": "mystery", "x": 1}, {"event": 3}, {"loss": 1}):
        assert parse_event(data) is None
    with pytest.raises(EventError, match="not a 'batch' event"):
        BatchEvent.from_dict({"event": "epoch"})


SUMMARY = TrainingSummary(
    run=4,
    status="stopped",
    best_checkpoint="/p/runs/run-4/best.pt",
    message="Stopped; resume it to continue from its last checkpoint.",
    last_checkpoint="/p/runs/run-4/last.pt",
    epoch=2,
    iteration=24,
    best_epoch=2,
    exit_code=None,
    crashed=True,
    forced=True,
    elapsed_s=81.5,
)


def test_a_training_summary_round_trips_with_its_keys_in_order():
    data = json.loads(json.dumps(SUMMARY.to_dict()))
    # The keys of the dict the GUI's training job used to carry, in the same order: the done
    # event's, then how the process exited.
    assert list(data) == [
        "event",
        "run",
        "status",
        "best_checkpoint",
        "message",
        "last_checkpoint",
        "epoch",
        "iteration",
        "best_epoch",
        "exit_code",
        "crashed",
        "forced",
        "elapsed_s",
    ]
    assert data["event"] == "finished"
    assert TrainingSummary.from_dict(data) == SUMMARY
    # A child never writes one: it is no event of the stream.
    assert "finished" not in event_types() and parse_event(data) is None


def test_a_summary_without_a_run_or_a_done_event():
    failed = TrainingSummary(run=None, status="failed", message="could not start")
    assert TrainingSummary.from_dict(json.loads(json.dumps(failed.to_dict()))) == failed
    assert failed.to_dict()["run"] is None and failed.to_dict()["exit_code"] is None
    assert TrainingSummary.after(None, run=None, status="failed") == TrainingSummary(None, "failed")
    with pytest.raises(EventError, match="without 'status'"):
        TrainingSummary.from_dict({"event": "finished", "run": None})


def test_a_summary_after_a_done_event_keeps_its_checkpoints_and_progress():
    done = EVERY_KIND[-1]
    assert isinstance(done, DoneEvent)
    summary = TrainingSummary.after(
        done, run=4, status="done", message="ended", exit_code=0, elapsed_s=3.0
    )
    assert (summary.best_checkpoint, summary.last_checkpoint) == (
        done.best_checkpoint,
        done.last_checkpoint,
    )
    assert (summary.epoch, summary.iteration, summary.best_epoch) == (2, 24, 2)
    # The caller's word wins over the child's.
    assert (summary.status, summary.message) == ("done", "ended")
    unknown = TrainingSummary.after(done, run=4, status="done", best_checkpoint=None)
    assert unknown.best_checkpoint is None


def test_reading_events_imports_no_torch():
    code = "import sys, tfstudio.train.events\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
