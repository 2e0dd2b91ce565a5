"""Detection: stitched posteriors, stored model events, bounded memory on long files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from tfstudio.importer import import_audio
from tfstudio.model.crnn import CRNN, config_from_preset
from tfstudio.train import (
    TrainError,
    detect_recordings,
    load_model,
    posteriors,
    posteriors_file,
    train,
)
from tfstudio.train.data import Normalizer
from tfstudio.train.detect import LoadedModel, _keep_bounds, run_checkpoint, select_run
from tfstudio.train.layout import posteriors_stamp


@pytest.fixture
def trained(demo_project, tiny_config):
    events = list(train(demo_project, tiny_config(epochs=1)))
    assert events[-1].status == "done"
    return demo_project, events[-1].run


def _model(n_classes=3):
    torch.manual_seed(0)
    return CRNN(config_from_preset("fast", 40, n_classes, channels=4, gru_hidden=8)).eval()


def test_keep_bounds_partition_every_frame():
    for length, window, stride in [(1000, 64, 32), (100, 64, 32), (64, 64, 32), (999, 100, 30)]:
        starts = [*range(0, length - window, stride), length - window]
        bounds = _keep_bounds(starts, length, window)
        assert bounds[0][0] == 0 and bounds[-1][1] == length
        for (a0, a1), (b0, _), s in zip(bounds, bounds[1:], starts):
            assert a1 == b0 and s <= a0 < a1 <= s + window


def _crossfaded(convolved, model, starts, length, window):
    """The stitching spelled out: every window's probabilities, weighted by a triangle."""
    total = np.zeros((length, model.config.n_classes))
    weights = np.zeros((length, 1))
    tri = np.minimum(np.arange(window) + 1, window - np.arange(window))[:, None]
    for s in starts:
        with torch.no_grad():
            probs = torch.sigmoid(model.recur(convolved[:, s : s + window]))[0].numpy()
        total[s : s + window] += probs * tri
        weights[s : s + window] += tri
    return total / weights


def test_posteriors_crossfade_overlapping_windows():
    model = _model()
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((300, 40)).astype(np.float32)
    norm = Normalizer(np.zeros(40, np.float32), np.ones(40, np.float32))
    out = posteriors(model, feats, norm, seq_len=64, batch_size=3)
    assert out.shape == (300, 3) and out.dtype == np.float32
    assert ((out > 0) & (out < 1)).all()
    # Frame 100 lies in the windows starting at 64 (its frame 36) and at 96 (its frame 4):
    # weights 28 and 5. Each window's CNN features are those of the whole recording (real
    # neighbours at its edges, not zero padding) and its recurrence starts from zero.
    with torch.no_grad():
        convolved = model.convolve(torch.from_numpy(feats)[None])
        at64 = torch.sigmoid(model.recur(convolved[:, 64:128]))[0].numpy()
        at96 = torch.sigmoid(model.recur(convolved[:, 96:160]))[0].numpy()
    np.testing.assert_allclose(out[100], (28 * at64[36] + 5 * at96[4]) / 33, atol=1e-6)
    # The first frames have only the first window; so do the frames of a recording shorter
    # than a window.
    with torch.no_grad():
        first = torch.sigmoid(model.recur(convolved[:, :64]))[0].numpy()
    np.testing.assert_allclose(out[:32], first[:32], atol=1e-6)
    short = posteriors(model, feats[:50], norm, seq_len=64)
    np.testing.assert_allclose(
        short, model.predict(torch.from_numpy(feats[:50])[None])[0].numpy(), atol=1e-6
    )
    assert posteriors(model, feats[:0], norm, seq_len=64).shape == (0, 3)


def test_crossfade_has_no_jump_where_one_window_gives_way_to_the_next(monkeypatch):
    # Each window's recurrence starts from zero, so two windows can disagree about a frame
    # (a trained model by up to 0.8 on real sounds). Here every window says one constant,
    # alternately 0.88 and 0.12: a stitch that cut from one window to the next would jump
    # by 0.76; the crossfade ramps across each overlap.
    model = _model(n_classes=2)
    said = []

    def recur(encoded):
        logits = torch.empty(*encoded.shape[:2], 2)
        for j in range(len(encoded)):
            logits[j] = 2.0 if (len(said) + j) % 2 == 0 else -2.0
        said.extend(range(len(encoded)))
        return logits

    monkeypatch.setattr(model, "recur", recur)
    feats = np.zeros((400, 40), np.float32)
    norm = Normalizer(np.zeros(40, np.float32), np.ones(40, np.float32))
    out = posteriors(model, feats, norm, seq_len=64, batch_size=4)
    assert len(said) == len([*range(0, 400 - 64, 32), 400 - 64]) == 12
    high, low = 1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(2.0))
    np.testing.assert_allclose(out[:32], high, atol=1e-6)  # only the first window
    assert (out >= low - 1e-6).all() and (out <= high + 1e-6).all()
    steps = np.abs(np.diff(out, axis=0))
    # Half a window of overlap ramps in 32 steps of (high - low) / 33.
    assert steps.max() <= (high - low) / 16
    assert steps[40:300].max() == pytest.approx((high - low) / 33, rel=1e-4)


@pytest.mark.parametrize("piece", [7, 50, 10_000])
def test_windows_share_one_convolution_computed_in_pieces(piece, monkeypatch):
    # However the span is cut into pieces (each with the CNN's margin of real context), the
    # posteriors are those of one convolution of the whole recording, windowed afterwards.
    model = _model()
    assert model.config.time_margin == 6
    rng = np.random.default_rng(1)
    feats = rng.standard_normal((300, 40)).astype(np.float32)
    norm = Normalizer(rng.standard_normal(40).astype(np.float32), np.full(40, 2.0, np.float32))
    monkeypatch.setattr("tfstudio.train.detect.cpu_convolved_frames", lambda config: piece)
    out = posteriors(model, feats, norm, seq_len=64, batch_size=4)
    with torch.no_grad():
        convolved = model.convolve(torch.from_numpy(norm(feats))[None])
    starts = [*range(0, 300 - 64, 32), 300 - 64]
    np.testing.assert_allclose(out, _crossfaded(convolved, model, starts, 300, 64), atol=1e-5)


def test_a_window_normalised_on_its_own_is_convolved_on_its_own():
    # Background subtraction depends on the window, so each window goes through the CNN alone
    # (zero padding at its edges), exactly as the model sees a window in training.
    model = _model()
    rng = np.random.default_rng(2)
    feats = rng.standard_normal((300, 40)).astype(np.float32)
    norm = Normalizer(np.zeros(40, np.float32), np.ones(40, np.float32), background_percentile=10)
    assert norm.windowed and not Normalizer(norm.mean, norm.std).windowed
    out = posteriors(model, feats, norm, seq_len=64, batch_size=3)
    at64 = model.predict(torch.from_numpy(norm(feats[64:128]))[None])[0].numpy()
    at96 = model.predict(torch.from_numpy(norm(feats[96:160]))[None])[0].numpy()
    np.testing.assert_allclose(out[100], (28 * at64[36] + 5 * at96[4]) / 33, atol=1e-6)


def test_detect_stores_model_events(trained):
    project, run_id = trained
    test = project.recordings("test")
    report = detect_recordings(project, test, threshold=0.0)
    assert report.run == run_id and report.recordings == len(test)
    stored = project.events(source="model", run_id=run_id)
    assert len(stored) == report.events > 0
    for e in stored:
        assert e.confidence is not None and 0 < e.confidence <= 1
        assert e.review == "none" and 0 <= e.onset < e.offset <= 6.0 + 1e-9
    post = np.load(posteriors_file(project, run_id, test[0]))
    assert post.shape == (1 + 6 * 22050 // 441, len(project.classes()))

    # A reviewed detection survives a new pass; the others are replaced, not doubled.
    project.update_event(stored[0].id, review="rejected")
    again = detect_recordings(project, test, threshold=0.0)
    assert len(project.events(source="model", run_id=run_id)) == again.events + 1
    none = detect_recordings(project, test, threshold=1.0)
    assert none.events == 0
    assert len(project.events(source="model", run_id=run_id)) == 1  # only the reviewed one


def test_load_model_and_run_selection(trained, tmp_path):
    project, run_id = trained
    run = select_run(project)
    assert run.id == run_id
    loaded = load_model(run_checkpoint(project, run), "cpu")
    assert loaded.classes == [c.name for c in project.classes()]
    assert loaded.run_id == run_id and loaded.epoch == 1
    assert not loaded.model.training
    with pytest.raises(TrainError, match="not found"):
        load_model(tmp_path / "missing.pt")
    with pytest.raises(TrainError, match="no run"):
        select_run(project, 42)


def test_no_finished_run(demo_project):
    with pytest.raises(TrainError, match="no finished training run"):
        detect_recordings(demo_project, demo_project.recordings("test"))


@pytest.mark.parametrize("background", [0.0, 10.0], ids=["per-frame", "per-window"])
def test_long_recording_in_bounded_windows(
    demo_project, tiny_config, tmp_path, monkeypatch, background
):
    # Normalised per frame, the windows of a batch share one convolution; with background
    # subtraction (per window) each window is convolved alone. Memory is bounded either way.
    events = list(train(demo_project, tiny_config(epochs=1, background_percentile=background)))
    assert events[-1].status == "done"
    project, run_id = demo_project, events[-1].run
    rng = np.random.default_rng(0)
    seconds = 90
    sf.write(
        tmp_path / "long.wav",
        (0.05 * rng.standard_normal(seconds * 22050)).astype(np.float32),
        22050,
    )
    report = import_audio(project, [tmp_path / "long.wav"], split=None)
    rec = project.recording(report.recording_ids[0])
    assert rec.split is None

    convolved, recurred = [], []
    convolve, recur = CRNN.convolve, CRNN.recur

    def spy_convolve(self, features):
        convolved.append(tuple(features.shape))
        return convolve(self, features)

    def spy_recur(self, encoded, *args, **kwargs):
        recurred.append(tuple(encoded.shape))
        return recur(self, encoded, *args, **kwargs)

    monkeypatch.setattr(CRNN, "convolve", spy_convolve)
    monkeypatch.setattr(CRNN, "recur", spy_recur)
    result = detect_recordings(project, [rec], batch_size=8)
    frames = 1 + seconds * 22050 // 441
    assert np.load(posteriors_file(project, run_id, rec)).shape[0] == frames
    # Every model call sees at most a batch of windows, whatever the file's length: the
    # recurrence 8 windows, the CNN the span of 8 half-overlapping windows and its margins.
    seq_len, margin = 64, 6
    assert len(recurred) > 1 and max(b * t for b, t, _ in recurred) <= 8 * seq_len
    assert len(convolved) > 1
    if background:
        assert max(b * t for b, t, _ in convolved) <= 8 * seq_len
        assert sum(b * t for b, t, _ in convolved) > 1.9 * frames  # every frame twice
    else:
        span = 7 * seq_len // 2 + seq_len + 2 * margin
        assert max(b * t for b, t, _ in convolved) <= span
        # ... and the CNN sees each frame about once, not twice (windows overlap by half).
        assert sum(b * t for b, t, _ in convolved) < 1.2 * frames
    assert result.audio_s == pytest.approx(seconds)


class Stopped(Exception):
    """Stands for Ctrl+C or a killed process (pytest itself stops on KeyboardInterrupt)."""


def test_an_interrupted_detection_goes_on_where_it_stopped(trained, monkeypatch):
    project, run_id = trained
    recordings = project.recordings()
    calls = []
    stop_at = [3]  # the process is stopped during the third recording, once
    real = LoadedModel.posteriors

    def counting(self, feats, **kwargs):
        calls.append(len(feats))
        if len(calls) == stop_at[0]:
            stop_at[0] = 0
            raise Stopped
        return real(self, feats, **kwargs)

    monkeypatch.setattr(LoadedModel, "posteriors", counting)
    with pytest.raises(Stopped):
        detect_recordings(project, recordings, threshold=0.3)
    saved = [r for r in recordings if posteriors_file(project, run_id, r).exists()]
    assert len(saved) == 2
    # No half-written file is left behind for the resumed pass to trust.
    assert not list(posteriors_file(project, run_id, recordings[0]).parent.glob(".*tmp*"))

    calls.clear()
    report = detect_recordings(project, recordings, threshold=0.3)
    assert report.reused == 2 and len(calls) == len(recordings) - 2
    assert report.recordings == len(recordings)
    resumed = {
        (e.recording_id, e.onset, e.offset, e.class_id) for e in project.events(source="model")
    }

    # The same detections as one uninterrupted pass that runs the model everywhere.
    calls.clear()
    fresh = detect_recordings(project, recordings, threshold=0.3, reuse_posteriors=False)
    assert fresh.reused == 0 and len(calls) == len(recordings)
    again = {
        (e.recording_id, e.onset, e.offset, e.class_id) for e in project.events(source="model")
    }
    assert again == resumed and fresh.events == report.events


def test_posteriors_of_another_model_are_never_reused(trained):
    project, run_id = trained
    recordings = project.recordings("test")
    detect_recordings(project, recordings)
    path = posteriors_file(project, run_id, recordings[0])
    # A damaged saved file is made again, not read.
    path.write_bytes(b"not an array")
    report = detect_recordings(project, recordings)
    assert report.reused == len(recordings) - 1
    assert np.load(path).shape[1] == len(project.classes())
    # Another model of the run (here: a changed stamp, as after a resumed training found a
    # better epoch) makes every saved posterior stale.
    stamp = posteriors_stamp(project, run_id)
    stamp.write_text(stamp.read_text().replace('"epoch": 1', '"epoch": 7'))
    report = detect_recordings(project, recordings)
    assert report.reused == 0
    assert detect_recordings(project, recordings).reused == len(recordings)
    # Posteriors saved before windows were crossfaded (no "stitching" in the stamp) are stale.
    old = json.loads(stamp.read_text())
    assert old.pop("stitching") == "crossfade"
    stamp.write_text(json.dumps(old))
    assert detect_recordings(project, recordings).reused == 0
