"""The augmentation building blocks: event bank, event mixing, SpecAugment, mixup, positive
weights and class-balanced windows (arrays only; the dataset is tested in test_recipe.py)."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch

from tfstudio.train.augment import (
    EventBank,
    EventSpan,
    EventVariation,
    SpecAugment,
    balance_windows,
    filter_curve,
    mix_event,
    mixup_batch,
    positive_weights,
)


def _targets(n_frames: int, n_classes: int, runs: list[tuple[int, int, int]]) -> np.ndarray:
    """(frames, classes) multi-hot with class ``c`` on frames ``[a, b)`` for each (a, b, c)."""
    t = np.zeros((n_frames, n_classes), dtype=np.float32)
    for a, b, c in runs:
        t[a:b, c] = 1.0
    return t


# ------------------------------------------------------------------ EventBank
def test_event_bank_spans_are_the_runs_of_the_targets():
    first = _targets(
        12,
        4,
        [
            (0, 3, 0),  # touches the start
            (5, 7, 0),
            (9, 12, 1),  # touches the end
            (2, 8, 2),  # overlaps both class-0 runs
            (8, 9, 2),  # adjacent to the previous run: one span, not two
        ],
    )
    second = _targets(5, 4, [(0, 5, 0)])  # the whole recording
    bank = EventBank([first, second])
    assert bank.by_class == {
        0: [EventSpan(0, 0, 3, 0), EventSpan(0, 5, 7, 0), EventSpan(1, 0, 5, 0)],
        1: [EventSpan(0, 9, 12, 1)],
        2: [EventSpan(0, 2, 9, 2)],
    }  # class 3 is never active: no entry
    assert len(bank) == 5
    assert [s.frames for s in bank.by_class[0]] == [3, 2, 5]


def test_event_bank_round_trips_random_targets():
    rng = np.random.default_rng(5)
    targets = [(rng.random((n, 3)) < 0.3).astype(np.float32) for n in (1, 2, 40, 97)]
    targets[1][:] = 0.7  # soft targets above 0.5 count as active
    targets[2][:, 1] = 0.4  # ... below do not
    bank = EventBank(targets)
    rebuilt = [np.zeros(t.shape, bool) for t in targets]
    for cls, spans in bank.by_class.items():
        for span in spans:
            assert span.cls == cls and span.stop > span.start
            assert not rebuilt[span.recording][span.start : span.stop, cls].any()  # no overlap
            rebuilt[span.recording][span.start : span.stop, cls] = True
            # Maximal runs: the frames just outside are inactive (or outside the recording).
            t = targets[span.recording][:, cls] > 0.5
            assert span.start == 0 or not t[span.start - 1]
            assert span.stop == len(t) or not t[span.stop]
    for t, r in zip(targets, rebuilt):
        np.testing.assert_array_equal(r, t > 0.5)
    assert not [s for s in bank.by_class[1] if s.recording == 2]  # 0.4 everywhere there


def test_event_bank_draws_classes_uniformly():
    common = _targets(400, 2, [(i, i + 2, 0) for i in range(0, 396, 4)])  # 99 class-0 spans
    rare = _targets(10, 2, [(3, 6, 1)])  # one class-1 span
    bank = EventBank([common, rare])
    assert len(bank.by_class[0]) == 99 and len(bank.by_class[1]) == 1
    rng = np.random.default_rng(7)
    draws = [bank.draw(rng) for _ in range(4000)]
    share = sum(d.cls == 1 for d in draws) / len(draws)
    assert 0.45 < share < 0.55  # the one rare span is drawn as often as all 99 common ones
    # Within a class, spans are drawn alike too.
    per_span = collections.Counter(d.start for d in draws if d.cls == 0)
    assert len(per_span) > 90 and max(per_span.values()) < 60
    # Seeded: the same generator state, the same draws.
    again = np.random.default_rng(7)
    assert [bank.draw(again) for _ in range(50)] == draws[:50]
    assert EventBank([np.zeros((10, 3), np.float32)]).draw(rng) is None
    assert EventBank([]).draw(rng) is None


# ------------------------------------------------------------------ mix_event
def _db_sum(a: np.ndarray, b: np.ndarray, gain_db: float) -> np.ndarray:
    """The dB of the sum of two dB powers, in float64."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    return 10 * np.log10(10 ** (a / 10) + 10 ** ((b + gain_db) / 10))


def _scene(seed: int, frames: int = 40, mels: int = 8, classes: int = 3):
    rng = np.random.default_rng(seed)
    feats = rng.uniform(-20, 0, (frames, mels)).astype(np.float32)
    targets = _targets(frames, classes, [(5, 15, 0), (30, 34, 2)])
    return feats, targets


@pytest.mark.parametrize("gain_db", [0.0, -6.0, 3.0])
def test_mix_event_adds_powers_and_unites_targets(gain_db):
    placements = set()
    for seed in range(12):
        feats, targets = _scene(seed)
        before_f, before_t = feats.copy(), targets.copy()
        event = np.random.default_rng(100 + seed).uniform(-20, 0, (10, 8)).astype(np.float32)
        event_t = _targets(10, 3, [(0, 10, 1), (4, 6, 2)])
        valid = 36
        mix_event(feats, targets, valid, event, event_t, gain_db, np.random.default_rng(seed))

        changed = np.flatnonzero((feats != before_f).any(1))
        assert len(changed) == 10 and np.all(np.diff(changed) == 1)  # one block of 10 frames
        at = int(changed[0])
        assert at >= 0 and at + 10 <= valid
        placements.add(at)
        assert (feats[at : at + 10] != before_f[at : at + 10]).all()  # every band got louder
        np.testing.assert_allclose(
            feats[at : at + 10], _db_sum(before_f[at : at + 10], event, gain_db), atol=1e-4
        )
        np.testing.assert_array_equal(
            targets[at : at + 10], np.maximum(before_t[at : at + 10], event_t)
        )
        outside = np.ones(len(feats), bool)
        outside[at : at + 10] = False
        np.testing.assert_array_equal(feats[outside], before_f[outside])
        np.testing.assert_array_equal(targets[outside], before_t[outside])
    assert len(placements) > 4  # the place is random


def test_mix_event_crops_long_events_to_valid():
    crops = set()
    for seed in range(12):
        feats, targets = _scene(seed, frames=30)
        before_f, before_t = feats.copy(), targets.copy()
        event = np.random.default_rng(50 + seed).uniform(-20, 0, (25, 8)).astype(np.float32)
        # Class 2 only in the middle of the event, so the target rows must be cut with the
        # feature rows.
        event_t = _targets(25, 3, [(0, 25, 1), (10, 14, 2)])
        valid = 12
        mix_event(feats, targets, valid, event, event_t, 0.0, np.random.default_rng(seed))
        np.testing.assert_array_equal(feats[valid:], before_f[valid:])
        np.testing.assert_array_equal(targets[valid:], before_t[valid:])
        skips = [
            skip
            for skip in range(25 - valid + 1)
            if np.allclose(
                feats[:valid], _db_sum(before_f[:valid], event[skip : skip + valid], 0.0), atol=1e-4
            )
        ]
        assert len(skips) == 1
        skip = skips[0]
        crops.add(skip)
        np.testing.assert_array_equal(
            targets[:valid], np.maximum(before_t[:valid], event_t[skip : skip + valid])
        )
    assert len(crops) > 4  # the cut is random


@pytest.mark.parametrize("length", [1, 5, 12, 13, 40])
def test_mix_event_never_writes_past_valid(length):
    for seed in range(8):
        feats = np.full((30, 4), -7.0, np.float32)
        targets = np.zeros((30, 2), np.float32)
        event = np.zeros((length, 4), np.float32)
        event_t = np.ones((length, 2), np.float32)
        mix_event(feats, targets, 12, event, event_t, 0.0, np.random.default_rng(seed))
        assert (feats[12:] == -7.0).all() and (targets[12:] == 0).all()
        covered = min(length, 12)
        assert (targets[:12, 0] == 1).sum() == covered
        assert ((feats[:12] != -7.0).all(1)).sum() == covered


def test_mix_event_with_nothing_to_do_changes_nothing():
    feats, targets = _scene(0)
    before_f, before_t = feats.copy(), targets.copy()
    rng = np.random.default_rng(0)
    mix_event(feats, targets, 0, np.zeros((5, 8), np.float32), np.ones((5, 3)), 0.0, rng)
    mix_event(feats, targets, 20, np.zeros((0, 8), np.float32), np.ones((0, 3)), 0.0, rng)
    np.testing.assert_array_equal(feats, before_f)
    np.testing.assert_array_equal(targets, before_t)


def test_mix_event_is_numerically_stable_for_far_apart_levels():
    feats = np.array([[-100.0, 0.0, 50.0]], np.float32)
    targets = np.zeros((1, 1), np.float32)
    event = np.array([[0.0, -100.0, 50.0]], np.float32)
    mix_event(feats, targets, 1, event, np.ones((1, 1), np.float32), 0.0, np.random.default_rng())
    assert np.isfinite(feats).all()
    np.testing.assert_allclose(feats[0], [0.0, 0.0, 50 + 10 * np.log10(2)], atol=1e-4)


# ---------------------------------------------------------------- SpecAugment
def _bands(frames: int = 20, mels: int = 10) -> np.ndarray:
    """Each band holds its own index + 1, so shifts and masks are easy to read."""
    return np.tile(np.arange(1, mels + 1, dtype=np.float32), (frames, 1))


def test_spec_augment_is_deterministic_for_a_seed():
    aug = SpecAugment(freq_mask_bands=3, time_mask_frames=8, gain_db=6.0, freq_shift_bands=2)
    std = np.full(10, 2.0, np.float32)
    outputs = []
    for seed in (1, 1, 2):
        feats = _bands(40)
        aug(feats, 36, std, np.random.default_rng(seed))
        outputs.append(feats)
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.array_equal(outputs[0], outputs[2])
    for out in outputs:
        np.testing.assert_array_equal(out[36:], _bands(40)[36:])  # padding untouched


def test_spec_augment_frequency_shift_moves_bands():
    aug = SpecAugment(freq_shift_bands=2)
    shifts = set()
    for seed in range(40):
        feats = _bands()
        aug(feats, 15, np.ones(10, np.float32), np.random.default_rng(seed))
        row = feats[0]
        np.testing.assert_array_equal(feats[:15], np.tile(row, (15, 1)))  # every valid frame
        np.testing.assert_array_equal(feats[15:], _bands()[15:])
        shift = int(6 - row[5])  # band 5 now holds band 5 - shift (value 6 - shift)
        assert -2 <= shift <= 2
        expected = np.clip(np.arange(10) - shift, 0, 9) + 1  # edge bands repeated
        np.testing.assert_array_equal(row, expected)
        shifts.add(shift)
    assert shifts == {-2, -1, 0, 1, 2}


def test_spec_augment_gain_is_one_level_change_in_db():
    std = np.array([1.0, 2.0, 4.0, 0.5], np.float32)
    gains = []
    for seed in range(20):
        feats = np.zeros((10, 4), np.float32)
        SpecAugment(gain_db=6.0)(feats, 8, std, np.random.default_rng(seed))
        db = feats[:8] * std  # back to dB
        assert np.allclose(db, db[0, 0], atol=1e-5) and abs(db[0, 0]) <= 6.0
        assert (feats[8:] == 0).all()
        gains.append(float(db[0, 0]))
    assert min(gains) < -1 and max(gains) > 1


def test_spec_augment_masks_whole_bands_and_frames():
    for seed in range(20):
        feats = _bands(40)
        SpecAugment(freq_mask_bands=3)(
            feats, 30, np.ones(10, np.float32), np.random.default_rng(seed)
        )
        zero = feats[:30] == 0
        assert (zero == zero[0]).all()  # whole bands over every valid frame
        assert zero[0].sum() <= 6 and (feats[30:] != 0).all()

        feats = _bands(40)
        SpecAugment(time_mask_frames=20)(
            feats, 30, np.ones(10, np.float32), np.random.default_rng(seed)
        )
        zero = feats == 0
        assert (zero == zero[:, :1]).all()  # whole frames
        assert zero[:, 0].sum() <= 2 * (30 // 4) and not zero[30:].any()
    assert not SpecAugment().active
    assert SpecAugment(freq_shift_bands=1).active and SpecAugment(gain_db=0.5).active


# ---------------------------------------------------------------------- mixup
def _batch(size: int = 6, frames: int = 7, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "features": torch.randn(size, frames, 5, generator=g),
        "targets": (torch.rand(size, frames, 3, generator=g) < 0.4).float(),
        "mask": torch.ones(size, frames, dtype=torch.bool),
        "weights": torch.rand(size, frames, 3, generator=g) + 0.5,
    }


def _partner(out: torch.Tensor, batch: torch.Tensor, i: int) -> tuple[int, float]:
    """The j and λ with out[i] = λ batch[i] + (1 − λ) batch[j] (j = i when unmixed)."""
    if torch.allclose(out[i], batch[i], atol=1e-6):
        return i, 1.0
    for j in range(len(batch)):
        if j == i:
            continue
        diff = batch[i] - batch[j]
        lam = float(((out[i] - batch[j]) * diff).sum() / (diff * diff).sum())
        if torch.allclose(out[i], lam * batch[i] + (1 - lam) * batch[j], atol=1e-5):
            return j, lam
    raise AssertionError(f"sequence {i} is no mix of two sequences")


def test_mixup_mixes_features_targets_and_weights_alike():
    torch.manual_seed(3)
    batch = _batch()
    out = mixup_batch(batch, 1.0, 0.4)
    partners = []
    for i in range(6):
        j, lam = _partner(out["features"], batch["features"], i)
        assert 0.5 <= lam <= 1.0
        torch.testing.assert_close(
            out["targets"][i], lam * batch["targets"][i] + (1 - lam) * batch["targets"][j]
        )
        w_i, w_j = batch["weights"][i], batch["weights"][j]
        expected = torch.where((w_i > 0) & (w_j > 0), lam * w_i + (1 - lam) * w_j, 0.0)
        torch.testing.assert_close(out["weights"][i], expected)
        partners.append(j)
    assert sorted(partners) == list(range(6))  # a permutation of the batch
    assert any(j != i for i, j in enumerate(partners))
    assert torch.equal(out["mask"], batch["mask"])
    # Soft targets: something strictly between 0 and 1 appears.
    assert ((out["targets"] > 0) & (out["targets"] < 1)).any()


def test_mixup_probability_decides_which_sequences_mix():
    batch = _batch(size=40, seed=1)
    original = {k: v.clone() for k, v in batch.items()}
    out = mixup_batch(batch, 0.0, 0.4)
    for key in batch:
        assert torch.equal(out[key], original[key])
    single = _batch(size=1)
    assert torch.equal(mixup_batch(single, 1.0, 0.4)["features"], single["features"])

    torch.manual_seed(0)
    out = mixup_batch(batch, 0.5, 0.4)
    kept = [
        i
        for i in range(40)
        if torch.equal(out["features"][i], batch["features"][i])
        and torch.equal(out["targets"][i], batch["targets"][i])
        and torch.equal(out["weights"][i], batch["weights"][i])
    ]
    assert 8 <= len(kept) <= 32  # about half kept exactly as they were
    for key in batch:  # the input batch is not modified
        assert torch.equal(batch[key], original[key])


# ----------------------------------------------------------- positive weights
def test_positive_weights_formula_cap_and_power():
    first = _targets(10, 5, [(0, 2, 0), (0, 5, 1), (0, 10, 3), (0, 1, 4)])
    second = _targets(10, 5, [(0, 5, 1), (0, 10, 3)])
    targets = [first, second]  # 20 frames
    # class 0: 2 positives → 18/2 = 9; class 1: 10/10 = 1; class 2: never labelled; class 3:
    # always on (0 negatives) → not below 1; class 4: 19/1 = 19.
    np.testing.assert_allclose(
        positive_weights(targets, 0.5), [3.0, 1.0, 1.0, 1.0, np.sqrt(19)], rtol=1e-6
    )
    np.testing.assert_allclose(positive_weights(targets, 1.0), [9.0, 1.0, 1.0, 1.0, 10.0])
    np.testing.assert_allclose(positive_weights(targets, 1.0, cap=50.0), [9.0, 1.0, 1.0, 1.0, 19.0])
    assert positive_weights(targets, 1.0).dtype == np.float32
    np.testing.assert_array_equal(positive_weights(targets, 0.0), np.ones(5))
    assert positive_weights([], 0.5).shape == (0,)
    soft = [np.full((4, 1), 0.4, np.float32), np.full((1, 1), 0.9, np.float32)]
    np.testing.assert_allclose(positive_weights(soft, 1.0), [4.0])  # 0.4 is no positive


# ------------------------------------------------------------ balanced windows
def _unbalanced():
    """90 windows with class 0, 5 with the rare class 1, 5 with no event."""
    seq = 10
    common = _targets(900, 2, [(0, 900, 0)])
    rare = _targets(50, 2, [(0, 50, 1)])
    silent = np.zeros((50, 2), np.float32)
    windows = (
        [(0, s) for s in range(0, 900, seq)]
        + [(1, s) for s in range(0, 50, seq)]
        + [(2, s) for s in range(0, 50, seq)]
    )
    return windows, [common, rare, silent], seq


def test_balance_windows_is_deterministic_per_seed_and_epoch():
    windows, targets, seq = _unbalanced()
    one = balance_windows(windows, targets, seq, epoch=1, seed=0)
    assert len(one) == len(windows) and set(one) <= set(windows)
    assert one == balance_windows(windows, targets, seq, epoch=1, seed=0)
    assert one != balance_windows(windows, targets, seq, epoch=2, seed=0)
    assert one != balance_windows(windows, targets, seq, epoch=1, seed=1)
    assert balance_windows([], targets, seq, epoch=1, seed=0) == []


def test_balance_windows_favours_rare_classes():
    windows, targets, seq = _unbalanced()
    counts = collections.Counter()
    for epoch in range(1, 11):
        counts.update(i for i, _ in balance_windows(windows, targets, seq, epoch=epoch, seed=3))
    total = sum(counts.values())
    # Shares in: common 90 %, rare 5 %, silent 5 %; out: about a third each.
    assert 0.25 < counts[1] / total < 0.42
    assert 0.25 < counts[2] / total < 0.42  # background is still seen
    assert counts[0] / total < 0.45


def test_balance_windows_without_events_or_classes_is_uniform():
    windows = [(0, s) for s in range(0, 100, 10)]
    for n_classes in (2, 0):
        targets = [np.zeros((100, n_classes), np.float32)]
        picks = balance_windows(windows, targets, 10, epoch=1, seed=0)
        assert len(picks) == 10 and set(picks) <= set(windows)


def test_filter_curve_is_a_bounded_piecewise_linear_equaliser():
    rng = np.random.default_rng(3)
    for _ in range(50):
        curve = filter_curve(64, 6.0, rng)
        assert curve.shape == (64,) and curve.dtype == np.float32
        assert np.abs(curve).max() <= 6.0 + 1e-5
        # Piecewise linear with at most 6 points: at most 4 kinks between them.
        kinks = np.abs(np.diff(curve, 2)) > 1e-4
        assert kinks.sum() <= 2 * 4
    # Not a constant: it changes the timbre, not only the level.
    curves = np.stack([filter_curve(64, 6.0, rng) for _ in range(20)])
    assert np.ptp(curves, axis=1).mean() > 2.0


def test_event_variation_off_returns_the_event_unchanged():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(30, 16)).astype(np.float32)
    targets = _targets(30, 3, [(5, 25, 1)])
    out_f, out_t = EventVariation()(feats, targets, rng)
    np.testing.assert_array_equal(out_f, feats)
    np.testing.assert_array_equal(out_t, targets)
    assert not EventVariation().active and EventVariation(stretch=0.1).active


def test_event_variation_filter_adds_one_curve_to_every_frame():
    rng = np.random.default_rng(1)
    feats = rng.normal(size=(40, 32)).astype(np.float32)
    before = feats.copy()
    out, targets = EventVariation(filter_db=6.0)(feats, _targets(40, 2, [(0, 40, 0)]), rng)
    np.testing.assert_array_equal(feats, before)  # the bank's features are never written
    gain = out - feats
    np.testing.assert_allclose(gain, np.broadcast_to(gain[0], gain.shape), atol=1e-5)
    assert np.abs(gain).max() <= 6.0 + 1e-5 and np.ptp(gain[0]) > 0
    assert targets.shape == (40, 2)


def test_event_variation_shift_moves_the_spectrum():
    feats = np.zeros((10, 20), dtype=np.float32)
    feats[:, 8] = 30.0
    seen = set()
    for seed in range(40):
        out, _ = EventVariation(shift_bands=2)(
            feats, np.zeros((10, 1)), np.random.default_rng(seed)
        )
        (peak,) = set(np.argmax(out, axis=1).tolist())
        seen.add(peak)
    assert seen == {6, 7, 8, 9, 10}


def test_event_variation_stretch_resamples_frames_and_labels_together():
    n = 50
    feats = np.repeat(np.linspace(0, 49, n, dtype=np.float32)[:, None], 4, axis=1)
    targets = _targets(n, 2, [(10, 40, 1)])
    lengths = set()
    for seed in range(30):
        out_f, out_t = EventVariation(stretch=0.5)(feats, targets, np.random.default_rng(seed))
        assert len(out_f) == len(out_t)
        assert 50 / 1.5 - 1 <= len(out_f) <= 50 * 1.5 + 1
        lengths.add(len(out_f))
        # A ramp stays a ramp from the first to the last value.
        assert out_f[0, 0] == 0.0 and out_f[-1, 0] == pytest.approx(49.0)
        assert (np.diff(out_f[:, 0]) >= 0).all()
        # The labelled stretch keeps its share of the event (within a frame each side).
        share = out_t[:, 1].sum() / len(out_t)
        assert abs(share - 30 / 50) <= 2 / len(out_t)
    assert len(lengths) > 5
