"""Following a training child: line splitting, event parsing, ETA, failure wording."""

from __future__ import annotations

import json
import math

from tfstudio.session.stream import (
    Ema,
    LineSplitter,
    Progress,
    decode_line,
    describe_failure,
    ema,
    failure_hint,
    finite,
    format_duration,
    last_error_line,
    read_event,
)
from tfstudio.train.events import BatchEvent, DoneEvent


def test_lines_split_across_chunks_are_joined():
    splitter = LineSplitter()
    assert splitter.feed(b'{"event": "ba') == []
    assert splitter.feed(b'tch", "loss": 1}\n{"event"') == ['{"event": "batch", "loss": 1}']
    assert splitter.feed(b': "epoch"}\r\nplain\rbar\n') == ['{"event": "epoch"}', "plain", "bar"]
    assert splitter.flush() == []


def test_a_trailing_carriage_return_waits_for_a_possible_newline():
    splitter = LineSplitter()
    assert splitter.feed(b"abc\r") == []
    assert splitter.feed(b"\ndef") == ["abc"]
    assert splitter.flush() == ["def"]


def test_invalid_utf8_and_huge_lines_do_not_break_the_reader():
    splitter = LineSplitter(max_line_bytes=10)
    assert splitter.feed(b"\xff\xfeok\n") == ["\ufffd\ufffdok"]
    assert splitter.feed(b"x" * 20) == ["x" * 20]


def test_only_json_objects_are_decoded():
    assert decode_line('{"event": "batch", "loss": null}') == {"event": "batch", "loss": None}
    assert decode_line(' {"done": 1, "total": 2}\r') == {"done": 1, "total": 2}
    for line in ("", "text", "{not json}", "[1, 2]", '"{}"'):
        assert decode_line(line) is None


def test_the_engines_own_events_read_back_as_they_were_yielded():
    """What ``train --json`` prints (the engine's records) is what the reader hands on, typed;
    a NaN loss arrives as null and reads back as NaN, which ``finite`` reads as missing."""
    batch = BatchEvent(epoch=1, iteration=7, tf_prob=0.9, loss=math.nan)
    parsed = read_event(json.dumps(batch.to_dict()))
    assert isinstance(parsed, BatchEvent) and parsed.iteration == 7
    assert finite(parsed.loss) is None
    done = DoneEvent(run=3, status="done", best_checkpoint=None)
    assert read_event(json.dumps(done.to_dict()) + "\r") == done
    # A kind this reader does not know (a newer engine), a malformed event and text are not.
    for line in ('{"event": "novel", "x": 1}', '{"event": "batch", "loss": 1}', "text", ""):
        assert read_event(line) is None


def test_finite_rejects_nan_inf_text_and_bools():
    assert finite(1) == 1.0
    assert finite("2.5") == 2.5
    for bad in (None, float("nan"), float("inf"), "x", True):
        assert finite(bad) is None


def test_ema_is_bias_corrected():
    smoother = Ema(0.1)
    assert smoother.update(2.0) == 2.0  # not 0.2: the first value is the mean so far
    assert ema([1.0, 1.0, 1.0]) == [1.0, 1.0, 1.0]


def test_progress_eta_from_the_recent_batch_rate():
    progress = Progress(started=0.0, batches_per_epoch=10, epochs=3)
    assert progress.eta() is None
    for i in range(5):
        progress.on_batch(i, 10.0 + 2.0 * i)
    assert progress.seconds_per_batch() == 2.0
    assert progress.eta() == (30 - 1 - 4) * 2.0
    assert math.isclose(progress.fraction(), 5 / 30)


def test_format_duration():
    assert format_duration(None) == "—"
    assert format_duration(42.4) == "42 s"
    assert format_duration(185) == "3 min 05 s"
    assert format_duration(7620) == "2 h 07 min"


def test_failures_are_explained_in_plain_words():
    tail = (
        "Traceback (most recent call last):\n  File x\ntorch.OutOfMemoryError: CUDA out of memory."
    )
    assert last_error_line(tail).startswith("torch.OutOfMemoryError")
    text = describe_failure(stderr_tail=tail, exit_code=1, crashed=False)
    assert "exit code 1" in text and "smaller batch size" in text
    assert "killed" in describe_failure(stderr_tail="", exit_code=None, crashed=True)
    assert "NaN" in failure_hint("loss is not finite at iteration 3")
    assert "Auto or CPU" in failure_hint("CUDA was requested but is not available")
    assert "by force" in describe_failure(
        stderr_tail="", exit_code=None, crashed=True, killed_by_us=True
    )


def test_the_subcommands_name_is_left_out_of_the_sentence_as_the_programs_is():
    """argparse names the subcommand (``tfstudio train: error: …``): the banner read
    "Tfstudio train: error: argument --epochs …"."""
    tail = "usage: tfstudio train [-h] ...\ntfstudio train: error: argument --epochs: bad 'abc'"
    text = describe_failure(stderr_tail=tail, exit_code=2, crashed=False)
    assert text == "Training failed (exit code 2). Argument --epochs: bad 'abc'."


def test_a_usage_error_gets_no_hint_from_the_option_names_in_its_usage():
    # The usage lists options; one named like a failure ("--nan-at", "--inf-check") made the
    # banner advise a lower learning rate for a mistyped --epochs.
    tail = (
        "usage: tfstudio train [-h] [--epochs N] [--nan-at N] [--inf-check]\n"
        "tfstudio train: error: argument --epochs: invalid int value: 'abc'"
    )
    text = describe_failure(stderr_tail=tail, exit_code=2, crashed=False)
    assert text == "Training failed (exit code 2). Argument --epochs: invalid int value: 'abc'."
    # A failure said on the error line keeps its hint.
    tail = "usage: tfstudio train [-h]\ntfstudio train: error: the loss became NaN at batch 3"
    assert "lower learning rate" in describe_failure(stderr_tail=tail, exit_code=2, crashed=False)
