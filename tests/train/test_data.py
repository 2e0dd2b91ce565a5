"""Targets, windows, batches and the sequence dataset."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tfstudio.train.data import (
    FrameTargets,
    Normalizer,
    SequenceDataset,
    epoch_batches,
    eval_windows,
    frame_targets,
    load_recordings,
    train_windows,
)
from tfstudio.train.postprocess import posteriors_to_events

HOP = 0.02


def test_event_from_1_to_2_s_lights_frames_50_to_99():
    targets = frame_targets([(1.0, 2.0, 1)], n_frames=200, n_classes=3, hop_s=HOP)
    active = np.flatnonzero(targets[:, 1])
    assert active[0] == 50 and active[-1] == 99 and len(active) == 50
    assert targets[:, [0, 2]].sum() == 0


def test_targets_round_to_the_nearest_frame_edge_and_clip():
    t = frame_targets(
        [(0.509, 0.731, 0), (3.9, 9.0, 1), (2.0, 2.004, 2)], n_frames=200, n_classes=3, hop_s=HOP
    )
    assert np.flatnonzero(t[:, 0]).tolist() == list(range(25, 37))
    assert np.flatnonzero(t[:, 1]).tolist() == list(range(195, 200))  # clipped at the end
    assert np.flatnonzero(t[:, 2]).tolist() == [100]  # shorter than a frame: one frame


def test_frame_targets_slices_equal_the_dense_targets_and_cost_only_their_labels():
    rng = np.random.default_rng(3)
    n_frames, n_classes = 500, 4
    events = [
        (float(a), float(a + d), int(c))
        for a, d, c in zip(
            rng.uniform(-1, 10.5, 40), rng.uniform(0, 2, 40), rng.integers(0, 4, 40), strict=True
        )
    ]
    dense = np.zeros((n_frames, n_classes), dtype=np.float32)
    for onset, offset, cls in events:  # the rule of the module's docstring, written out
        start = max(0, math.floor(onset / HOP + 0.5))
        stop = min(n_frames, max(math.floor(offset / HOP + 0.5), start + (offset > onset)))
        dense[start:stop, cls] = 1.0
    lazy = FrameTargets.from_events(events, n_frames, n_classes, HOP)
    assert lazy.shape == dense.shape and len(lazy) == n_frames and lazy.ndim == 2
    np.testing.assert_array_equal(np.asarray(lazy), dense)
    for start, stop in [(0, 256), (37, 293), (480, 736), (499, 500), (-10, None), (300, 200)]:
        got = lazy[start:stop]
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, dense[start:stop])
    np.testing.assert_array_equal(lazy[100:300, 2], dense[100:300, 2])
    np.testing.assert_array_equal(lazy[7], dense[7])
    # What it holds grows with the labels, not with the frames times the classes.
    longer = FrameTargets.from_events(events, 50 * 3600, 1000, HOP)
    assert lazy.spans.nbytes <= longer.spans.nbytes <= 40 * 3 * 8  # 40 labels


def test_targets_round_trip_through_post_processing():
    events = [(1.0, 2.0, 0), (1.5, 3.24, 1), (4.0, 4.5, 0)]
    targets = frame_targets(events, n_frames=300, n_classes=2, hop_s=HOP)
    back = posteriors_to_events(targets, ["a", "b"], HOP)
    got = sorted((round(e.onset, 6), round(e.offset, 6), e.label) for e in back)
    assert got == [(1.0, 2.0, "a"), (1.5, 3.24, "b"), (4.0, 4.5, "a")]


def test_train_windows_fixed_count_inside_the_recording():
    lengths = [1000, 64, 30, 300]
    first = train_windows(lengths, 64, epoch=1, seed=0)
    second = train_windows(lengths, 64, epoch=2, seed=0)
    assert len(first) == len(second)
    assert first != second  # jittered per epoch
    assert first == train_windows(lengths, 64, epoch=1, seed=0)  # deterministic
    for index, start in first + second:
        assert 0 <= start <= max(0, lengths[index] - 64)
    assert {i for i, _ in first} == {0, 1, 2, 3}


def test_eval_windows_cover_everything():
    assert eval_windows(50, 64, 32) == [0]
    starts = eval_windows(1000, 64, 32)
    assert starts[0] == 0 and starts[-1] == 1000 - 64
    covered = np.zeros(1000, bool)
    for s in starts:
        covered[s : s + 64] = True
    assert covered.all()


def test_epoch_batches_shard_like_a_distributed_sampler():
    windows = [(0, i) for i in range(10)]
    one = epoch_batches(windows, 3, epoch=1, seed=0)
    assert [len(b) for b in one] == [3, 3, 3, 1]
    assert sorted(w for b in one for w in b) == windows
    assert one == epoch_batches(windows, 3, epoch=1, seed=0)
    assert one != epoch_batches(windows, 3, epoch=2, seed=0)
    ranks = [epoch_batches(windows, 2, epoch=1, seed=0, rank=r, world_size=3) for r in range(3)]
    sizes = [sum(len(b) for b in r) for r in ranks]
    assert sizes == [4, 4, 4]  # padded by wrapping around, as DistributedSampler does
    assert {w for r in ranks for b in r for w in b} == set(windows)
    assert len(epoch_batches(windows, 3, epoch=1, seed=0, max_batches=2)) == 2


def test_normalizer_fit():
    rng = np.random.default_rng(0)
    a = rng.normal(3.0, 2.0, (5000, 4)).astype(np.float32)
    b = rng.normal(3.0, 2.0, (3000, 4)).astype(np.float32)
    norm = Normalizer.fit([a, b], chunk=700)
    both = np.concatenate([a, b])
    np.testing.assert_allclose(norm.mean, both.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.std, both.std(0), rtol=1e-4)
    assert abs(norm(both).mean()) < 1e-4
    again = Normalizer.from_tensors(norm.to_tensors())
    np.testing.assert_array_equal(again.mean, norm.mean)
    const = Normalizer.fit([np.ones((10, 2), np.float32)])
    assert np.isfinite(const(np.ones((3, 2), np.float32))).all()
    with pytest.raises(ValueError):
        Normalizer.fit([])


def test_labels_accepted_detections_count_rejected_do_not(demo_project):
    from tfstudio.features import FeatureConfig

    project = demo_project
    rec = project.recordings("train")[0]
    classes = [c.name for c in project.classes()]
    cls = project.classes()[0]
    human_events = project.labels(rec.id)
    project.add_events(
        [
            dict(
                recording_id=rec.id,
                class_id=cls.id,
                onset=0.1,
                offset=0.3,
                source="model",
                review="accepted",
                confidence=0.9,
            ),
            dict(
                recording_id=rec.id,
                class_id=cls.id,
                onset=5.0,
                offset=5.5,
                source="model",
                review="rejected",
                confidence=0.9,
            ),
            dict(
                recording_id=rec.id,
                class_id=cls.id,
                onset=4.0,
                offset=4.5,
                source="model",
                review="none",
                confidence=0.9,
            ),
        ]
    )
    (data,) = load_recordings(project, [rec], classes, FeatureConfig())
    assert len(data.labels) == len(human_events) + 1
    t = data.targets[:, 0]
    assert t[5:15].all()  # the accepted detection, 0.1-0.3 s
    own = {(round(e.onset, 2), round(e.offset, 2)) for e in human_events if e.class_id == cls.id}
    if not any(on < 5.5 and off > 5.0 for on, off in own):
        assert not t[250:275].any()  # the rejected one is no positive
    if not any(on < 4.5 and off > 4.0 for on, off in own):
        assert not t[200:225].any()  # nor an unreviewed one
    assert data.n_frames == len(data.features()) == 1 + int(6.0 * 22050) // 441


def test_dataset_pads_and_masks(demo_project):
    from tfstudio.features import FeatureConfig

    project = demo_project
    classes = [c.name for c in project.classes()]
    data = load_recordings(project, project.recordings("train"), classes, FeatureConfig())
    norm = Normalizer.fit(d.features() for d in data)
    ds = SequenceDataset(data, 400, norm)
    item = ds[(0, 0)]
    n = data[0].n_frames
    assert item["features"].shape == (400, 40) and item["targets"].shape == (400, len(classes))
    assert item["mask"][:n].all() and not item["mask"][n:].any()
    assert (item["features"][n:] == 0).all() and (item["targets"][n:] == 0).all()
    np.testing.assert_array_equal(item["targets"][:n].numpy(), data[0].targets)
    import pickle

    clone = pickle.loads(pickle.dumps(ds))  # what spawned workers receive: no open memmaps
    assert clone._features == {}
    np.testing.assert_array_equal(
        clone[(1, 10)]["features"].numpy(), ds[(1, 10)]["features"].numpy()
    )


def test_augmentation_masks_and_gain(demo_project):
    from tfstudio.features import FeatureConfig
    from tfstudio.train.augment import SpecAugment

    project = demo_project
    classes = [c.name for c in project.classes()]
    data = load_recordings(project, project.recordings("train"), classes, FeatureConfig())
    norm = Normalizer.fit(d.features() for d in data)
    plain = SequenceDataset(data, 400, norm)[(0, 0)]["features"].numpy()
    n = data[0].n_frames

    masks = SequenceDataset(data, 400, norm, SpecAugment(freq_mask_bands=8, time_mask_frames=30))
    first = masks[(0, 0, 3)]
    # The window's seed decides the draws: the same seed, the same masks; another, others.
    np.testing.assert_array_equal(first["features"].numpy(), masks[(0, 0, 3)]["features"].numpy())
    assert not np.array_equal(first["features"].numpy(), masks[(0, 0, 4)]["features"].numpy())
    feats = first["features"].numpy()
    changed = feats != plain
    assert changed.any() and (feats[changed] == 0).all()  # masked values are the band mean
    assert (feats[n:] == 0).all() and not first["mask"][n:].any()
    assert (first["weights"].numpy()[n:] == 0).all()
    np.testing.assert_array_equal(first["targets"].numpy()[:n], data[0].targets)

    gain = SequenceDataset(data, 400, norm, SpecAugment(gain_db=6.0))[(0, 0, 1)]
    shift = (gain["features"].numpy()[:n] - plain[:n]) * norm.std
    assert np.allclose(shift, shift[0, 0], atol=1e-3) and 0 < abs(shift[0, 0]) <= 6.0
    assert SequenceDataset(data, 400, norm, SpecAugment()).augment is None


def test_background_subtraction_ignores_the_level_and_colour_of_a_window():
    rng = np.random.default_rng(0)
    feats = rng.normal(-40, 3, size=(300, 8)).astype(np.float32)
    feats[100:140, 2:5] += 25  # an event
    norm = Normalizer.fit([feats], background_percentile=10, window=100)
    assert norm.background_percentile == 10
    base = norm(feats[:100])
    # A louder, differently coloured stationary background: the same input to the model.
    tilt = np.linspace(-10, 15, 8, dtype=np.float32)
    np.testing.assert_allclose(norm(feats[:100] + tilt), base, atol=1e-4)
    # Without it the level is what the model sees.
    plain = Normalizer.fit([feats])
    assert not np.allclose(plain(feats[:100] + tilt), plain(feats[:100]), atol=0.1)
    # The event still stands out above the subtracted background.
    window = norm(feats[100:200])
    assert window[:40, 2:5].mean() > window[40:, 2:5].mean() + 2
    # Stored with the run and read back.
    again = Normalizer.from_tensors(norm.to_tensors())
    assert again.background_percentile == 10
    np.testing.assert_array_equal(again(feats[:100]), base)


def test_pcen_evens_out_level_and_background_and_keeps_onsets():
    from tfstudio.train.data import pcen, pcen_smoothing

    smoothing = pcen_smoothing(0.4, 0.02)  # 20 frames: librosa's rule gives ≈ 0.0488
    assert smoothing == pytest.approx((math.sqrt(1 + 4 * 20**2) - 1) / (2 * 20**2))
    assert pcen_smoothing(0, 0.02) == 0
    rng = np.random.default_rng(1)
    feats = rng.normal(-40, 1, size=(200, 6)).astype(np.float32)
    feats[120:150, 1:3] += 30  # an onset 30 dB over the background
    out = pcen(feats, smoothing)
    assert out.shape == feats.shape and out.dtype == np.float32
    # 20 dB louder: nearly the same output (all but eps with gain 1), where the log moves by 20.
    louder = pcen(feats + 20, smoothing)
    assert np.abs(louder - out)[30:].max() < 0.25 * np.abs(out[30:]).max()
    np.testing.assert_allclose(
        pcen(feats + 20, smoothing, gain=1.0),
        pcen(feats, smoothing, gain=1.0),
        rtol=0.02,  # eps (1e-6) is 1 % of a −40 dB band's energy
    )
    # The onset stands out far above the steady background, then fades as the smoother adapts.
    background = out[60:110, 1:3].mean()
    assert out[120:124, 1:3].mean() > background + 5 * out[60:110, 1:3].std() + 1
    assert out[145:150, 1:3].mean() < out[120:124, 1:3].mean()
    # Off: the features as they are.
    np.testing.assert_array_equal(pcen(feats, 0.0), feats)


def test_normalizer_with_pcen_fits_per_window_and_is_stored_with_the_run():
    from tfstudio.train.data import pcen, pcen_smoothing

    rng = np.random.default_rng(2)
    feats = rng.normal(-30, 2, size=(300, 4)).astype(np.float32)
    smoothing = pcen_smoothing(0.4, 0.02)
    norm = Normalizer.fit([feats], pcen_smoothing=smoothing, window=100)
    windows = np.concatenate([pcen(feats[s : s + 100], smoothing) for s in range(0, 300, 100)])
    np.testing.assert_allclose(norm.mean, windows.mean(0), rtol=1e-4)
    np.testing.assert_allclose(
        norm(feats[:100]).mean(), (windows[:100] - norm.mean).mean() / norm.std.mean(), atol=0.1
    )
    again = Normalizer.from_tensors(norm.to_tensors())
    assert again.pcen_smoothing == pytest.approx(smoothing)
    np.testing.assert_allclose(again(feats[:100]), norm(feats[:100]), atol=1e-5)
    # Runs without PCEN store exactly what they stored before it existed.
    assert set(Normalizer.fit([feats]).to_tensors()) == {"mean", "std", "background_percentile"}
